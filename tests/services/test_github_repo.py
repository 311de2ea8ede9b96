"""GitHub repository signals for the top suspects, against a loopback server speaking the
shapes of ``../shared/api-notes.md`` §3.2 (``GET /repos/{owner}/{repo}``) and §3.3
(``GET /search/issues``)."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from depaudit.audit import Auditor
from depaudit.cache import Cache
from depaudit.cli import main
from depaudit.models import PackageFacts, Report
from depaudit.scoring import LeakScorer
from depaudit.services.github_repo import GithubRepoService, repo_of, web_host
from depaudit.services.interface import EnrichmentResult, EnrichmentService
from depaudit.sources.package_lock import PackageLockSource

NOW = datetime(2026, 11, 27, tzinfo=UTC)
TOKEN = "ghp_repoTestToken0123456789"
ASSETS = Path(__file__).resolve().parent.parent / "assets"
PROJECT = ASSETS / "projects" / "clean"


class Facts(EnrichmentService):
    name = "fake"

    def __init__(self, facts: list[PackageFacts]) -> None:
        self.facts = facts

    def enrich_all(self, packages: object) -> EnrichmentResult:
        return EnrichmentResult(facts={f.key: f for f in self.facts})


def _tree_and_facts(host: str) -> tuple[object, list[PackageFacts]]:
    tree = PackageLockSource().load(PROJECT / "package-lock.json")
    facts = []
    for pkg in sorted({(p.name, p.version) for p in tree.packages}):
        name, version = pkg
        # every package is a suspect (not in the registry: 15 points), each its own repository
        facts.append(
            PackageFacts(name, version, in_registry=False, repository=f"https://{host}/o/{name}")
        )
    return tree, facts


def _serve(server: HTTPServer, archived: set[str], issues: dict[str, int]) -> list[Request]:
    return _serve_under(server, "", archived, issues)


def _serve_under(
    server: HTTPServer, prefix: str, archived: set[str], issues: dict[str, int]
) -> list[Request]:
    seen: list[Request] = []

    def repos(request: Request) -> Response:
        seen.append(request)
        name = request.path.rsplit("/", 1)[-1]
        body = f'{{"full_name": "o/{name}", "archived": {str(name in archived).lower()}}}'
        return Response(body, content_type="application/json")

    def search(request: Request) -> Response:
        seen.append(request)
        q = request.args["q"]
        name = q.split("repo:o/", 1)[1].split()[0]
        body = (
            f'{{"total_count": {issues.get(name, 0)}, "incomplete_results": false, '
            '"items": [], "search_type": "lexical"}'
        )
        return Response(body, content_type="application/json")

    server.expect_request(re.compile(rf"^{prefix}/repos/o/[^/]+$")).respond_with_handler(repos)
    server.expect_request(f"{prefix}/search/issues").respond_with_handler(search)
    return seen


def _run(
    server: HTTPServer, tmp_path: Path, token: str | None, offline: bool = False, top: int = 10
) -> Report:
    api = server.url_for("/").rstrip("/")
    tree, facts = _tree_and_facts(web_host(api))
    service = GithubRepoService(
        Cache(tmp_path / "cache"), api_url=api, token=token, offline=offline, top=top
    )
    return Auditor(
        tree=tree,  # type: ignore[arg-type]
        services=[Facts(facts)],
        scorer=LeakScorer(clock=lambda: NOW),
        clock=lambda: NOW,
        offline=offline,
        repos=service,
    ).run()


def _signals(report: Report) -> dict[str, set[str]]:
    return {s.name: {sig.rule for sig in s.signals} for s in report.suspects}


def test_archived_and_leak_issues_become_signals(httpserver: HTTPServer, tmp_path: Path) -> None:
    seen = _serve(httpserver, archived={"debug"}, issues={"debug": 3, "ms": 1})
    report = _run(httpserver, tmp_path, TOKEN)
    signals = _signals(report)
    assert {"archived", "leak-issues"} <= signals["debug"]
    assert "leak-issues" in signals["ms"] and "archived" not in signals["ms"]
    debug = next(s for s in report.suspects if s.name == "debug")
    issues = next(sig for sig in debug.signals if sig.rule == "leak-issues")
    assert issues.points == 6 and "3 open issues" in issues.evidence  # 2 per issue, cap 8
    assert issues.url is not None and "memory+leak" not in issues.url  # quoted, not form-encoded
    assert report.facts[f"debug@{debug.version}"].archived is True
    # what GitHub asks for: the token, the API version, and the documented query
    search = next(r for r in seen if r.path == "/search/issues")
    assert search.headers["Authorization"] == f"Bearer {TOKEN}"
    assert search.headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert search.args["q"] == '"memory leak" in:title is:issue state:open repo:o/debug'
    assert search.args["per_page"] == "1"
    assert any("GitHub repositories: " in c for c in report.consulted)
    assert not any(TOKEN in w for w in report.warnings)


def test_only_the_top_suspects_repositories_are_asked(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    seen = _serve(httpserver, archived=set(), issues={})
    report = _run(httpserver, tmp_path, TOKEN, top=2)
    asked = {r.path for r in seen if r.path.startswith("/repos/")}
    assert len(asked) == 2
    top_two = [s.name for s in report.suspects[:2]]
    assert asked == {f"/repos/o/{name}" for name in top_two}


def test_without_a_token_nothing_is_asked(httpserver: HTTPServer, tmp_path: Path) -> None:
    seen = _serve(httpserver, archived={"debug"}, issues={"debug": 3})
    report = _run(httpserver, tmp_path, None)
    assert seen == []
    assert any("no GITHUB_TOKEN or GH_TOKEN" in w for w in report.warnings)
    assert all(f.archived is None for f in report.facts.values())


def test_the_cache_answers_the_next_run_and_offline_runs(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    seen = _serve(httpserver, archived={"debug"}, issues={"debug": 3})
    first = _run(httpserver, tmp_path, TOKEN)
    asked = len(seen)
    assert asked > 0
    again = _run(httpserver, tmp_path, TOKEN)
    offline = _run(httpserver, tmp_path, None, offline=True)
    assert len(seen) == asked  # nothing asked twice within a day, nothing offline
    assert _signals(again) == _signals(first) == _signals(offline)
    assert not any("GITHUB_TOKEN" in w for w in offline.warnings)


def test_a_rate_limit_stops_the_checks_with_a_warning(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    reset = str(int(time.time()) + 3600)
    httpserver.expect_request("/search/issues").respond_with_json(
        {"message": "API rate limit exceeded", "documentation_url": "https://docs.github.com/rest"},
        status=403,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
    )
    httpserver.expect_request(re_any_repo()).respond_with_json({"archived": True})
    report = _run(httpserver, tmp_path, TOKEN)
    warning = next(w for w in report.warnings if w.startswith("GitHub repositories:"))
    assert "rate limit" in warning and "not checked" in warning
    assert all(f.archived is None for f in report.facts.values())  # nothing half-learned
    assert len([r for r, _ in httpserver.log if r.path == "/search/issues"]) == 1  # no hammering


def re_any_repo() -> re.Pattern[str]:
    return re.compile(r"^/repos/.*$")


@pytest.mark.parametrize(
    ("url", "host", "expected"),
    [
        (
            "https://github.com/socketio/socket.io-redis",
            "github.com",
            ("socketio", "socket.io-redis"),
        ),
        ("https://github.com/o/r.git", "github.com", ("o", "r")),
        ("https://gitlab.com/o/r", "github.com", None),
        ("https://github.com/o", "github.com", None),
        ("https://ghe.corp/team/lib/tree/main", "ghe.corp", ("team", "lib")),
        (None, "github.com", None),
    ],
)
def test_repo_of(url: str | None, host: str, expected: tuple[str, str] | None) -> None:
    assert repo_of(url, host) == expected


def test_web_host() -> None:
    assert web_host("https://api.github.com") == "github.com"
    assert web_host("https://ghe.corp/api/v3") == "ghe.corp"


def test_scan_through_main_with_a_token(
    httpserver: HTTPServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`depaudit scan` with GITHUB_TOKEN: the registry's documents name the repositories, the
    top suspects' ones are checked, and the JSON report carries the signals and the facts."""
    tree = PackageLockSource().load(PROJECT / "package-lock.json")
    host = web_host(httpserver.url_for("/github"))
    for name, version in sorted({(p.name, p.version) for p in tree.packages}):
        httpserver.expect_request(f"/{name}").respond_with_json(
            {
                "name": name,
                "dist-tags": {"latest": version},
                "versions": {version: {"repository": f"git+https://{host}/o/{name}.git"}},
                "time": {
                    "created": "2015-01-01T00:00:00.000Z",
                    version: "2016-01-01T00:00:00.000Z",
                },
                "repository": {"type": "git", "url": f"git+https://{host}/o/{name}.git"},
            }
        )
    _serve_under(httpserver, "/github", archived={"debug"}, issues={"debug": 5})
    httpserver.expect_request(
        "/-/npm/v1/security/advisories/bulk", method="POST"
    ).respond_with_json({})
    httpserver.expect_request("/github/advisories").respond_with_json([])
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.delenv("DEPAUDIT_NO_REGISTRY", raising=False)  # the suite's hermetic default
    out = tmp_path / "report.json"
    code = main(
        [
            "scan",
            "--lockfile",
            str(PROJECT / "package-lock.json"),
            "--no-npm",
            "--registry",
            httpserver.url_for("/"),
            "--github-api-url",
            httpserver.url_for("/github"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--format",
            "json",
            "--output",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    report = json.loads(out.read_text())
    debug = next(s for s in report["suspects"] if s["name"] == "debug")
    rules = {sig["rule"]: sig for sig in debug["signals"]}
    assert "archived" in rules and rules["leak-issues"]["points"] == 8  # 5 issues, capped at 8
    facts = next(p for p in report["packages"] if p["name"] == "debug")["facts"]
    assert facts["archived"] is True and facts["leak_issues"] == 5
    assert TOKEN not in out.read_text() and TOKEN not in err


def test_one_unreadable_repository_does_not_stop_the_others(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    httpserver.expect_request("/repos/o/debug").respond_with_json(
        {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, status=404
    )
    _serve(httpserver, archived={"ms"}, issues={})
    report = _run(httpserver, tmp_path, TOKEN)
    warning = next(w for w in report.warnings if "could not be read" in w)
    assert "o/debug (HTTP 404)" in warning
    assert "archived" in _signals(report)["ms"]  # asked after debug failed
    assert all(f.archived is None for k, f in report.facts.items() if k.startswith("debug@"))
