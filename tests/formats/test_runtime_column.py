"""Every format shows the runtime status (issue 18): table and markdown columns, JSON per
placement and per suspect, SARIF properties and message; explain shows the import chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from depaudit.cli import main

FIXTURE = Path(__file__).resolve().parents[1] / "reach"


@pytest.fixture
def app(tmp_path: Path) -> Path:
    import sys

    sys.path.insert(0, str(FIXTURE))
    from miniature import build

    spec = {
        "package": {"main": "server.js", "dependencies": {"debug": "4.1.1", "inflight": "1"}},
        "files": {"server.js": "const debug = require('debug');\n"},
        "packages": {
            "node_modules/debug": {"version": "4.1.1", "files": {"index.js": ""}},
            "node_modules/inflight": {"version": "1.0.6", "files": {"index.js": ""}},
        },
    }
    return build(tmp_path / "app", spec)


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main([*args, "--offline", "--no-npm", "--no-code"]) == 0
    return capsys.readouterr().out


def test_json_placements_and_suspects(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(_run(capsys, "scan", str(app), "--format", "json"))
    packages = {p["name"]: p for p in data["packages"]}
    assert packages["debug"]["runtime"] == "loaded"
    (placement,) = packages["debug"]["placements"]
    assert placement["location"] == "node_modules/debug"
    assert placement["chain"] == ["server.js", "debug/index.js"]
    assert packages["inflight"]["placements"][0]["runtime"] == "not-loaded"
    assert packages["inflight"]["placements"][0]["reason"] == "not imported by the app"
    suspects = {s["name"]: s for s in data["suspects"]}
    assert suspects["debug"]["runtime"] == "loaded"
    assert suspects["debug"]["tier"] == "high" or any(
        s["leak_evidence"] for s in suspects["debug"]["signals"]
    )
    assert "inflight" not in suspects or suspects["inflight"]["runtime"] == "not-loaded"


def test_table_markdown_sarif_and_explain(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "runtime" in _run(capsys, "scan", str(app)).splitlines()[0]
    assert "| runtime |" in _run(capsys, "scan", str(app), "--format", "markdown")
    sarif = json.loads(_run(capsys, "scan", str(app), "--format", "sarif"))
    results = sarif["runs"][0]["results"]
    assert results and all(r["properties"]["runtime"] for r in results)
    assert any("At runtime: loaded" in r["message"]["text"] for r in results)
    assert main(["explain", "debug", str(app), "--offline", "--no-npm"]) == 0
    out = capsys.readouterr().out
    assert "runtime: loaded (reached through module-scope loads)" in out
    assert "loaded by: server.js → debug/index.js" in out
