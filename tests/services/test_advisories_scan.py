"""End to end through main(argv): an app with socket.io 2, socket.io-redis 5 and request,
scanned --offline with an empty cache, reports socket.io-redis's leak history and rename and
request's deprecation from the knowledge base alone, with references; `depaudit db update`
fills the GitHub snapshot that a later --offline scan answers from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from depaudit.cli import main

APP = Path(__file__).resolve().parent.parent / "assets" / "advisories" / "socketio-app"
PAGES = Path(__file__).resolve().parent.parent / "assets" / "advisories"


def _scan(tmp_path: Path, *extra: str) -> dict[str, Any]:
    out = tmp_path / "report.json"
    code = main(
        [
            "scan",
            "--lockfile",
            str(APP / "package-lock.json"),
            "--format",
            "json",
            "--offline",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--output",
            str(out),
            *extra,
        ]
    )
    assert code == 0
    report: dict[str, Any] = json.loads(out.read_text())
    return report


def _package(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in report["packages"] if p["name"] == name)


def test_offline_scan_reports_the_knowledge_base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    report = _scan(tmp_path)

    redis = _package(report, "socket.io-redis")
    assert redis["version"] == "5.0.0"
    by_id = {k["id"]: k for k in redis["known_leaks"]}
    leak = by_id["socket-io-redis-requests-map-leak"]
    assert (leak["kind"], leak["class"], leak["range"], leak["fixed"]) == (
        "bug",
        "leak",
        ">=2.0.0 <5.1.0",
        "5.1.0",
    )
    assert "https://github.com/socketio/socket.io-redis-adapter/issues/224" in leak["references"]
    assert "https://github.com/socketio/socket.io-redis-adapter/pull/225" in leak["references"]
    rename = by_id["socket-io-redis-renamed"]
    assert rename["kind"] == "deprecation"
    assert rename["successor"] == "@socket.io/redis-adapter"
    assert "https://github.com/socketio/socket.io-redis-adapter/issues/389" in rename["references"]

    request = _package(report, "request")
    (deprecated,) = request["known_leaks"]
    assert deprecated["id"] == "request-deprecated" and deprecated["range"] == "*"
    assert deprecated["url"] == "https://github.com/request/request/issues/3142"

    socketio = _package(report, "socket.io")
    assert [k["id"] for k in socketio["known_leaks"]] == ["socket-io-rooms-join-after-disconnect"]
    assert socketio["known_leaks"][0]["fixed"] == "2.5.0, 4.5.2"

    # sources that were not reached are warning lines; nothing came from the network
    assert any("depaudit db update" in w for w in report["warnings"])
    assert all(p["advisories"] == [] for p in report["packages"])


def test_db_update_then_offline_scan_uses_the_snapshot(
    tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    page = json.loads((PAGES / "github-page1.json").read_text())
    # the same real multer record, as if it also covered socket.io-redis 5.0.0 (test only)
    page[0]["vulnerabilities"].append(
        {
            "package": {"ecosystem": "npm", "name": "socket.io-redis"},
            "vulnerable_version_range": "< 5.1.0",
            "first_patched_version": "5.1.0",
            "vulnerable_functions": [],
        }
    )
    httpserver.expect_request("/advisories").respond_with_json(page)
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret_for_the_test")
    api = httpserver.url_for("/").rstrip("/")
    assert (
        main(["db", "update", "--cache-dir", str(tmp_path / "cache"), "--github-api-url", api]) == 0
    )
    assert "stored 2 npm advisories" in capsys.readouterr().out
    (request,) = httpserver.log
    assert request[0].headers["Authorization"] == "Bearer ghp_secret_for_the_test"
    assert request[0].args["cwes"] == "400,401,404,459,770,772,775,789"

    report = _scan(tmp_path, "--github-api-url", api)
    assert len(httpserver.log) == 1  # offline: no further request
    (adv,) = _package(report, "socket.io-redis")["advisories"]
    assert (adv["id"], adv["source"], adv["class"], adv["range"], adv["fixed"]) == (
        "GHSA-44fp-w29j-9vj5",
        "github",
        "leak",
        "<5.1.0",
        "5.1.0",
    )
    assert not any("depaudit db update" in w for w in report["warnings"])
    assert "ghp_secret_for_the_test" not in json.dumps(report)


def test_the_response_budget_caps_the_github_answers_too(
    tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--response-budget lowers the GitHub client's per-run cap as well (it keeps its own
    256 MiB when the budget is higher): a 5 kB page over a 1 kB budget is one warning, the
    scan goes on."""
    page = (PAGES / "github-page1.json").read_bytes()
    assert len(page) > 1024
    httpserver.expect_request("/advisories").respond_with_data(
        page, content_type="application/json"
    )
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret_for_the_test")
    api = httpserver.url_for("/").rstrip("/")
    out = tmp_path / "report.json"
    args = ["scan", "--lockfile", str(APP / "package-lock.json"), "--format", "json"]
    args += ["--no-registry", "--cache-dir", str(tmp_path / "cache"), "--github-api-url", api]
    assert main([*args, "--output", str(out), "--response-budget", "1K"]) == 0
    warnings = json.loads(out.read_text())["warnings"]
    assert any("1024 bytes" in w for w in warnings), warnings
    assert main([*args, "--output", str(out), "--cache-dir", str(tmp_path / "c2")]) == 0
    assert not any("bytes" in w for w in json.loads(out.read_text())["warnings"])
