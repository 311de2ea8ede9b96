"""``depaudit scan --heap`` / ``--heap-profile``: measured growth in the ranking and reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from depaudit.cli import main
from depaudit.models import MeasuredGrowth, PackageFacts
from depaudit.scoring.rules import Context, Knowledge, RuntimeGrowth, Target, Weights

from .conftest import APPS, SNAPSHOTS, app_line, snapshots

OFFLINE = ["--offline", "--no-npm", "--no-code"]


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def _heap_args(app: str, *numbers: int) -> list[str]:
    return [arg for path in snapshots(app, *numbers) for arg in ("--heap", path)]


def _scan_json(capsys: pytest.CaptureFixture[str], app: str, *extra: str) -> dict:  # type: ignore[type-arg]
    code = main(["scan", str(APPS / app), *extra, *OFFLINE, "--format", "json"])
    assert code == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_debug_app_ranks_debug_3_1_0_first_with_runtime_growth(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = _scan_json(capsys, "debug-leak", *_heap_args("debug-leak", 1, 3))
    first = report["suspects"][0]
    assert (first["name"], first["version"]) == ("debug", "3.1.0")
    rules = {s["rule"]: s for s in first["signals"]}
    assert "known-leak" in rules and "runtime-growth" in rules
    growth = rules["runtime-growth"]
    assert growth["points"] >= 40
    assert "createDebug.instances[" in growth["evidence"]
    assert "between 2 heap snapshots" in growth["evidence"]
    (owner,) = report["measured_growth"]
    assert (owner["kind"], owner["name"], owner["version"], owner["path"]) == (
        "package",
        "debug",
        "3.1.0",
        "node_modules/debug",
    )
    # without the snapshots, no runtime-growth and a lower score
    plain = _scan_json(capsys, "debug-leak")
    assert plain["measured_growth"] == []
    assert plain["suspects"][0]["score"] < first["score"]
    assert all(s["rule"] != "runtime-growth" for s in plain["suspects"][0]["signals"])


def test_app_owners_are_their_own_findings_with_file_and_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = _scan_json(capsys, "two-leaks", *_heap_args("two-leaks", 1, 2, 3))
    found = [(g["kind"], g["file"], g["line"]) for g in report["measured_growth"]]
    assert found == [
        ("app", "app.js", app_line("two-leaks", "recent.push(")),
        ("app", "app.js", app_line("two-leaks", "bus.on(")),
    ]
    assert main(["scan", str(APPS / "two-leaks"), *_heap_args("two-leaks", 1, 3), *OFFLINE,
                 "--format", "markdown"]) == 0  # fmt: skip
    markdown = capsys.readouterr().out
    assert "### Measured growth" in markdown
    assert f"app.js:{app_line('two-leaks', 'recent.push(')}" in markdown
    assert main(["scan", str(APPS / "two-leaks"), *_heap_args("two-leaks", 1, 3), *OFFLINE]) == 0
    assert "measured growth (2 heap snapshots of the running app):" in capsys.readouterr().out


def test_a_heap_profile_counts_half(
    capsys: pytest.CaptureFixture[str],
) -> None:
    profile = str(SNAPSHOTS / "debug-leak" / "app.heapprofile.gz")
    report = _scan_json(capsys, "debug-leak", "--heap-profile", profile)
    first = report["suspects"][0]
    assert first["name"] == "debug"
    (growth,) = [s for s in first["signals"] if s["rule"] == "runtime-growth"]
    assert "heap profile" in growth["evidence"] and growth["points"] < 40


def test_one_snapshot_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(APPS / "debug-leak"), *_heap_args("debug-leak", 1), *OFFLINE]) == 2
    assert "--heap needs two or more snapshots" in capsys.readouterr().err


def test_a_bad_snapshot_in_scan_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "x.heapsnapshot"
    bad.write_text('{"name": "x"}')
    code = main(["scan", str(APPS / "debug-leak"), "--heap", snapshots("debug-leak", 1)[0],
                 "--heap", str(bad), *OFFLINE])  # fmt: skip
    assert code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert str(bad) in line and "not a heap snapshot" in line


def _target(growth: MeasuredGrowth | None) -> Target:
    facts = PackageFacts(name="debug", version="3.1.0", growth=growth)
    return Target(name="debug", version="3.1.0", facts=facts, placements=())


def _growth(size: int, source: str = "2 heap snapshots") -> MeasuredGrowth:
    return MeasuredGrowth("package", "debug", "3.1.0", "node_modules/debug", None, None, size,
                          size, 10, "debug() closures", "a → b", source)  # fmt: skip


def test_runtime_growth_points_grow_with_the_bytes_up_to_a_cap() -> None:
    rule = RuntimeGrowth(Weights.bundled())
    ctx = Context(tree=None, problems=(), facts={}, knowledge=Knowledge(), now=None)  # type: ignore[arg-type]
    w = rule.w
    assert rule.evaluate(_target(None), ctx) == []
    assert rule.evaluate(_target(_growth(0)), ctx) == []
    small = rule.evaluate(_target(_growth(1024 * 1024)), ctx)[0].points
    big = rule.evaluate(_target(_growth(1024 * 1024 * 1024)), ctx)[0].points
    assert small == w["points"] + w["per_mib"]
    assert big == w["points"] + w["per_mib_cap"]
    profiled = rule.evaluate(_target(_growth(1024 * 1024, "heap profile")), ctx)[0].points
    assert profiled == round(small * w["profile_factor"], 1)
