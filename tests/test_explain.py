"""`depaudit explain PKG[@VERSION]` through main(argv)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from depaudit.cli import main

APP = Path(__file__).resolve().parent.parent / "examples" / "express-app"
NOW = datetime(2026, 11, 25, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _app():
    if not (APP / "package-lock.json").is_file():
        pytest.skip("examples/express-app is not there")


def explain(spec, capsys):
    code = main(["explain", spec, str(APP), "--no-npm", "--offline"], clock=lambda: NOW)
    out, err = capsys.readouterr()
    return code, out, err


def test_explain_lists_every_signal_and_the_points_add_up(capsys):
    code, out, _ = explain("socket.io-redis", capsys)
    assert code == 0
    assert out.startswith("socket.io-redis@5.4.0: score 85.5, high; direct")
    points = [float(p) for p in re.findall(r"^  \+(\S+)", out, re.M)]
    rules = re.findall(r"^  \+\S+\s+([a-z-]+):", out, re.M)
    assert rules == ["deprecated", "companion-drift", "leak-prone"]
    assert sum(points) == 85.5
    assert "successor: @socket.io/redis-adapter" in out
    assert "unknown (not scored, not taken as fine):" in out  # offline, empty cache


def test_explain_a_version_and_a_package_below_the_threshold(capsys):
    code, out, _ = explain("debug@4.1.1", capsys)
    # duplicate-stateful is counted once per tree, on the newest copy (4.1.1)
    assert code == 0 and out.startswith("debug@4.1.1: score 45, medium; transitive")
    assert "debug@2.6.9" not in out.splitlines()[0]
    code, out, _ = explain("express", capsys)
    assert code == 0 and "not a suspect (below low)" in out


def test_explain_a_package_not_in_the_tree_is_a_usage_error(capsys):
    code, out, err = explain("left-pad", capsys)
    assert code == 2 and out == "" and "left-pad is not in the dependency tree" in err
    code, _, err = explain("socket.io-redis@9.9.9", capsys)
    assert code == 2 and "socket.io-redis@9.9.9" in err
    assert "the tree has socket.io-redis 5.4.0" in err  # the versions it could have meant
    code, _, err = explain("debug@9.9.9", capsys)
    assert "the tree has debug 2.6.9, 3.1.0, 4.1.1" in err


def test_explain_offers_no_fail_on_because_it_always_exits_0(capsys) -> None:
    assert main(["explain", "--help"]) == 0
    assert "--fail-on" not in capsys.readouterr().out
    assert main(["explain", "socket.io-redis", "--fail-on", "high"]) == 2


def test_explain_calls_an_extraneous_package_extraneous_not_direct(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """issue 16.14: real npm ls output where picocolors is extraneous at the top level."""
    from depaudit.cli import main

    saved = Path(__file__).resolve().parent / "assets" / "projects" / "broken" / "npm-ls-long.json"
    assert main(["explain", "picocolors", "--npm-ls", str(saved), "--offline"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.endswith("; extraneous: installed, but no package.json asks for it"), first
