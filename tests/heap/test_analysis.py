"""Attribution on real snapshots of real apps (tests/assets/heap/apps, real npm packages)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from depaudit.errors import InputError
from depaudit.heap.analysis import analyze, placement_of

from .conftest import APPS, app_line, snapshots
from .synthetic import app_graph, write

Writer = Callable[[str, bytes], str]


def test_debug_3_1_0_instances_are_debug_at_its_node_modules_path() -> None:
    result = analyze(snapshots("debug-leak", 1, 3), APPS / "debug-leak")
    top = result.owners[0]
    assert (top.kind, top.name, top.version, top.path) == (
        "package",
        "debug",
        "3.1.0",
        "node_modules/debug",
    )
    assert "createDebug.instances[" in top.retainer_path
    assert top.retainer_path.endswith("→ debug")
    assert top.constructor == "debug() closures"
    # 2000 requests between the snapshots: at least one closure each
    assert top.growth_objects >= 2000
    assert len(result.owners) == 1


def test_app_leaks_are_the_lines_that_add_them_ordered_by_bytes() -> None:
    result = analyze(snapshots("two-leaks", 1, 2, 3), APPS / "two-leaks")
    labels = [o.label for o in result.owners]
    array_line = app_line("two-leaks", "recent.push(")
    listener_line = app_line("two-leaks", "bus.on(")
    assert labels == [f"app.js:{array_line}", f"app.js:{listener_line}"]
    big, small = result.owners
    assert big.growth_bytes > small.growth_bytes > 0
    assert big.kind == small.kind == "app"
    assert ".recent[" in big.retainer_path
    assert small.constructor == "EventEmitter listeners"
    assert "EventEmitter._events → Object.config[" in small.retainer_path


def test_express_session_memory_store() -> None:
    result = analyze(snapshots("session-leak", 1, 3), APPS / "session-leak")
    top = result.owners[0]
    assert (top.kind, top.name, top.version) == ("package", "express-session", "1.18.1")
    assert "MemoryStore.sessions" in top.retainer_path


def test_a_steady_app_has_no_owner_above_the_floor_and_leaks_are_far_above_its_noise() -> None:
    steady = analyze(snapshots("steady", 1, 2, 3), APPS / "steady")
    assert steady.owners == ()
    noise = max(o.growth_bytes for o in analyze(snapshots("steady", 1, 3), None, 0).owners)
    assert noise < steady.min_bytes
    for app in ("debug-leak", "session-leak"):
        top = analyze(snapshots(app, 1, 3), None).owners[0]
        assert top.growth_bytes > 4 * noise


def test_three_snapshots_keep_only_what_keeps_growing() -> None:
    two = analyze(snapshots("two-leaks", 1, 3), None, 0)
    three = analyze(snapshots("two-leaks", 1, 2, 3), None, 0)
    # the objects of the last phase are left out: about half the growth
    assert three.total_objects < 0.6 * two.total_objects
    assert three.owners[0].label == two.owners[0].label


def test_one_snapshot_gives_retained_size_per_owner() -> None:
    result = analyze(snapshots("debug-leak", 3), APPS / "debug-leak", 0)
    assert result.mode == "size"
    by_label = {o.label: o for o in result.owners}
    assert by_label["debug@3.1.0"].retained_bytes > 500_000
    sizes = [o.retained_bytes for o in result.owners]
    assert sizes == sorted(sizes, reverse=True)


def test_snapshots_of_two_processes_are_refused() -> None:
    with pytest.raises(InputError, match="same process"):
        analyze([*snapshots("debug-leak", 1), *snapshots("session-leak", 3)])


def test_snapshots_in_the_wrong_order_are_refused() -> None:
    with pytest.raises(InputError, match="later snapshot"):
        analyze(snapshots("debug-leak", 3, 1))


def test_synthetic_growth_in_a_module_variable(write_file: Writer, tmp_path: Path) -> None:
    first = write_file("1.heapsnapshot", write(app_graph(3)))
    last = write_file("2.heapsnapshot", write(app_graph(40)))
    result = analyze([first, last], None, 0)
    (owner,) = result.owners
    # no project folder: the script as the snapshot has it, and no line (the path names
    # the variable)
    assert (owner.kind, owner.file, owner.line, owner.growth_objects) == (
        "app",
        "/srv/app/app.js",
        None,
        37,
    )
    assert owner.growth_bytes == 37 * 56
    assert (
        owner.retainer_path == "(GC roots)[1] → handle.context → system / Context.items[3] → Object"
    )
    # with the project: its file, and the line that adds to the variable
    project = tmp_path / "project"
    project.mkdir()
    (project / "app.js").write_text(
        "const items = [];\n\nfunction handle() {\n  items.push({});\n}\n"
    )
    (owner,) = analyze([first, last], project, 0).owners
    assert (owner.file, owner.line) == ("app.js", 4)


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("/srv/app/node_modules/debug/src/node.js", ("debug", "node_modules/debug")),
        (
            "/srv/app/node_modules/a/node_modules/@scope/b/index.js",
            ("@scope/b", "node_modules/a/node_modules/@scope/b"),
        ),
        ("file:///srv/app/node_modules/ws/lib/x.mjs", ("ws", "node_modules/ws")),
        ("C:\\app\\node_modules\\debug\\src\\node.js", ("debug", "node_modules/debug")),
        ("/srv/app/app.js", None),
        ("node:events", None),
        ("/srv/app/node_modules/", None),
    ],
)
def test_placement_of_a_script(script: str, expected: tuple[str, str] | None) -> None:
    assert placement_of(script) == expected
