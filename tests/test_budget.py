"""The resource budget as settings: ``--input-budget``, ``--depth-budget``,
``--network-budget`` and ``--response-budget`` with their ``DEPAUDIT_*`` twins reach the
readers (the network ones: tests/faults/test_registry_faults.py); a bad value is one line,
exit 2."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from depaudit.budget import GIB, INPUT_BYTES, KIB, MIB, PATH_DEPTH, Budget, byte_size, path_depth
from depaudit.cli import main
from depaudit.options import scan_parser, settings_from_args
from depaudit.sources import source_for
from depaudit.sources.npm_ls import NpmLsSource


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _npm_chain(folder: Path, depth: int) -> Path:
    packages: dict[str, object] = {"": {"name": "r", "dependencies": {"c0": "^1.0.0"}}}
    for i in range(depth):
        entry: dict[str, object] = {"version": "1.0.0"}
        if i + 1 < depth:
            entry["dependencies"] = {f"c{i + 1}": "^1.0.0"}
        packages[f"node_modules/c{i}"] = entry
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "package-lock.json"
    path.write_text(json.dumps({"name": "r", "lockfileVersion": 3, "packages": packages}))
    return path


def _yarn_chain(folder: Path, depth: int) -> Path:
    blocks = ["# yarn lockfile v1\n"]
    for i in range(depth):
        block = f'"c{i}@^1.0.0":\n  version "1.0.0"\n'
        if i + 1 < depth:
            block += f'  dependencies:\n    "c{i + 1}" "^1.0.0"\n'
        blocks.append(block)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "package.json").write_text(
        json.dumps({"name": "r", "dependencies": {"c0": "^1.0.0"}})
    )
    (folder / "yarn.lock").write_text("\n".join(blocks))
    return folder / "yarn.lock"


def _pnpm_chain(folder: Path, depth: int) -> Path:
    lines = ["lockfileVersion: '9.0'", "importers:", "  .:", "    dependencies:"]
    lines += ["      c0:", "        specifier: ^1.0.0", "        version: 1.0.0", "packages:"]
    lines += [f"  c{i}@1.0.0:\n    resolution: {{integrity: sha512-x}}" for i in range(depth)]
    lines.append("snapshots:")
    for i in range(depth):
        lines.append(f"  c{i}@1.0.0:" + ("" if i + 1 < depth else " {}"))
        if i + 1 < depth:
            lines += ["    dependencies:", f"      c{i + 1}: 1.0.0"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pnpm-lock.yaml").write_text("\n".join(lines) + "\n")
    return folder / "pnpm-lock.yaml"


def _npm_ls_chain(folder: Path, depth: int) -> Path:
    node: dict[str, object] = {"version": "1.0.0"}
    for i in reversed(range(depth)):
        node = {"version": "1.0.0", "dependencies": {f"c{i + 1}": node}} if i else node
    doc = {"name": "r", "version": "1.0.0", "dependencies": {"c0": node}}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "npm-ls.json").write_text(json.dumps(doc))
    return folder / "npm-ls.json"


def test_sizes_and_depths_parse_and_refuse_nonsense() -> None:
    assert byte_size("2048") == 2048
    assert byte_size("512K") == 512 * KIB
    assert byte_size("256m") == 256 * MIB
    assert byte_size("1GiB") == GIB
    for bad in ("", "abc", "1.5G", "-1", "nan", "12Q", "0", "100", "65G", "9" * 30):
        with pytest.raises(argparse.ArgumentTypeError):
            byte_size(bad)
    assert path_depth("16") == 16
    for bad in ("8", "x", "inf", "100001"):
        with pytest.raises(argparse.ArgumentTypeError):
            path_depth(bad)


def test_defaults_and_flags_become_the_settings_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings_from_args(scan_parser().parse_args([])).budget == Budget()
    assert Budget().input_bytes == INPUT_BYTES and Budget().path_depth == PATH_DEPTH
    argv = ["--input-budget", "1M", "--depth-budget", "20"]
    argv += ["--network-budget", "2.5", "--response-budget", "64M"]
    budget = settings_from_args(scan_parser().parse_args(argv)).budget
    assert budget == Budget(MIB, 20, 2.5, 64 * MIB)
    monkeypatch.setenv("DEPAUDIT_INPUT_BUDGET", "3M")
    monkeypatch.setenv("DEPAUDIT_NETWORK_BUDGET", "7")
    budget = settings_from_args(scan_parser().parse_args(["--response-budget", "2G"])).budget
    assert budget == Budget(3 * MIB, PATH_DEPTH, 7.0, 2 * GIB)


def test_input_budget_stops_the_read_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = _npm_chain(tmp_path / "app", 100)  # ~6 KB
    assert lock.stat().st_size > 2 * KIB
    args = ["scan", "--offline", "--no-npm", "--lockfile", str(lock), "--format", "json"]
    code, out, err = _run(capsys, *args, "--input-budget", "2K")
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert f"{lock}: is {lock.stat().st_size} bytes, over the input budget of 2048 bytes" in err
    assert "--input-budget" in err
    monkeypatch.setenv("DEPAUDIT_INPUT_BUDGET", "1K")  # the twin
    code, _, err = _run(capsys, *args)
    assert code == 2 and "over the input budget of 1024 bytes" in err
    code, out, _ = _run(capsys, *args, "--input-budget", "1M")  # the flag wins over the twin
    assert code in (0, 1) and json.loads(out)


def test_input_budget_counts_bytes_read_from_stdin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import sys

    doc = _npm_ls_chain(tmp_path, 60).read_bytes()
    assert len(doc) > 2 * KIB
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(doc)))
    code, _, err = _run(capsys, "scan", "--offline", "--npm-ls", "-", "--input-budget", "2K")
    assert code == 2 and err.count("\n") == 1
    assert "over the input budget of 2048 bytes" in err


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["--input-budget", "lots"], {}),
        (["--depth-budget", "3"], {}),
        (["--network-budget", "nan"], {}),
        (["--response-budget", "1e9"], {}),
        ([], {"DEPAUDIT_INPUT_BUDGET": "-5"}),
        ([], {"DEPAUDIT_DEPTH_BUDGET": "many"}),
        ([], {"DEPAUDIT_NETWORK_BUDGET": "inf"}),
        ([], {"DEPAUDIT_RESPONSE_BUDGET": "99999G"}),
    ],
)
def test_a_bad_budget_is_one_line_exit_2(
    argv: list[str],
    env: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    lock = _npm_chain(tmp_path / "app", 3)
    code, out, err = _run(capsys, "scan", "--offline", "--lockfile", str(lock), *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    named = argv[0] if argv else next(iter(env))
    assert named in err


@pytest.mark.parametrize(
    "make", [_npm_chain, _yarn_chain, _pnpm_chain, _npm_ls_chain], ids=lambda f: f.__name__
)
def test_depth_budget_reaches_every_reader(make, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path, 100)
    source = NpmLsSource if path.name == "npm-ls.json" else None

    def longest(budget: Budget) -> int:
        reader = source(budget) if source else source_for(path, budget)
        return max(len(p.path) for p in reader.load(path).packages)

    assert longest(Budget()) == PATH_DEPTH
    assert longest(Budget(path_depth=16)) == 16
    assert longest(Budget(path_depth=200)) == 100


def test_depth_budget_flag_shapes_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = _npm_chain(tmp_path / "app", 100)
    args = ["scan", "--offline", "--no-npm", "--lockfile", str(lock), "--format", "json"]
    reports = {}
    for depth in ("16", "64", "1000"):
        code, out, _ = _run(capsys, *args, "--depth-budget", depth)
        assert code in (0, 1)
        reports[depth] = json.loads(out)
    text = {d: json.dumps(r) for d, r in reports.items()}
    assert "... 85 more ..." in text["16"]  # 100 names: the first 8, the marker, the last 7
    assert "... 37 more ..." in text["64"]
    assert "more ..." not in text["1000"]
    assert len(text["16"]) < len(text["64"]) < len(text["1000"])


def test_unset_network_budgets_are_sized_by_the_tree_and_a_deadline_grows_until_it_passes() -> None:
    """No --network-budget / --response-budget: None in the settings, sized by the documents
    asked (the floor, or so much per document when that is more). The session's RunBudget
    then grows; one that has expired stays expired."""
    from depaudit.budget import network_allowance, response_allowance
    from depaudit.http import RunBudget

    unset = settings_from_args(scan_parser().parse_args([])).budget
    assert unset.network_seconds is None and unset.response_bytes is None
    assert network_allowance(10) == 300.0 and network_allowance(40_000) == 1000.0
    assert response_allowance(10) == GIB and response_allowance(4096) == 2 * GIB
    now = [100.0]
    run = RunBudget(seconds=5, max_bytes=KIB, clock=lambda: now[0])
    run.allow(4 * KIB, 20.0)
    now[0] += 10
    assert run.max_bytes == 4 * KIB and run.remaining() == 10.0 and not run.out_of_time()
    run.allow(KIB, 1.0)  # never lowered
    assert run.max_bytes == 4 * KIB and run.seconds == 20.0
    run.expire()
    run.allow(seconds=500.0)
    assert run.out_of_time() and run.seconds == 20.0


def test_time_waited_on_something_else_is_left_out_of_the_network_budget() -> None:
    """RunBudget.wait_off (the fetch begun beside npm ls had ended and waited for the
    tree): the deadline moves on by the time waited, and a later allow() keeps it; not
    once the deadline has passed."""
    from depaudit.http import BudgetSpent, RunBudget

    now = [100.0]
    run = RunBudget(seconds=5, clock=lambda: now[0])
    now[0] += 4  # the fetch took 4 s of its 5
    run.wait_off(3.0)  # then npm ls took 3 s more
    now[0] += 3
    assert not run.out_of_time() and run.remaining() == 1.0
    run.allow(seconds=10.0)  # the run grows by its tree: the time waited still left out
    assert run.remaining() == 6.0
    now[0] += 7
    assert run.out_of_time()
    run.wait_off(60.0)  # spent is spent
    assert run.out_of_time()
    with pytest.raises(BudgetSpent, match="network time budget of 10 s"):
        run.check()
