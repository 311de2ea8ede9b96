"""npm bulk advisories against a loopback registry speaking the documented shape
(api-notes §2): gzip request body, batching, range filtering, caching, and registries that
do not serve the endpoint (404/405/410, malformed answers)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from depaudit.cache import Cache
from depaudit.http import build_session
from depaudit.models import LeakClass
from depaudit.services.interface import PackageRef
from depaudit.services.npm_advisories import (
    BULK_PATH,
    NAMESPACE,
    UNAVAILABLE,
    NpmAdvisoryService,
)
from depaudit.transport import plain_session

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "advisories"
BULK = json.loads((ASSETS / "npm-bulk.json").read_text())
PATH = "/" + BULK_PATH

REFS = [
    PackageRef("body-parser", "1.20.2"),
    PackageRef("body-parser", "1.20.3"),
    PackageRef("axios", "1.7.4"),
    PackageRef("multer", "1.4.5-lts.1"),
    PackageRef("left-pad", "1.3.0"),
    PackageRef("from-git", "github:user/repo#abc"),
]


class Recorder:
    def __init__(self, answer: Any = BULK) -> None:
        self.bodies: list[dict[str, list[str]]] = []
        self.headers: list[dict[str, str]] = []
        self.answer = answer

    def __call__(self, request: Request) -> Response:
        raw = request.get_data()
        if request.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        body = json.loads(raw)
        self.bodies.append(body)
        self.headers.append(dict(request.headers))
        answer = {k: v for k, v in self.answer.items() if k in body}
        return Response(json.dumps(answer), content_type="application/json")


def _service(server: HTTPServer, cache: Cache | None = None, **kw: Any) -> NpmAdvisoryService:
    return NpmAdvisoryService(server.url_for("/"), build_session(retries=0), cache, **kw)


@pytest.mark.parametrize("make", [build_session, plain_session])
def test_gzip_body_range_filtering_and_classes(httpserver: HTTPServer, make: Any) -> None:
    """The same request and reading through either session (the plain one: the scan's where
    no proxy variable is set, ``RegistryService.side_session``)."""
    recorder = Recorder()
    httpserver.expect_request(PATH, method="POST").respond_with_handler(recorder)
    service = NpmAdvisoryService(httpserver.url_for("/"), make(retries=0))
    result = service.enrich_all(REFS)

    assert recorder.headers[0]["Content-Encoding"] == "gzip"
    assert recorder.headers[0]["Content-Type"] == "application/json"
    # one request, distinct versions per name, non-semver versions left out (as npm does)
    assert recorder.bodies == [
        {
            "axios": ["1.7.4"],
            "body-parser": ["1.20.2", "1.20.3"],
            "left-pad": ["1.3.0"],
            "multer": ["1.4.5-lts.1"],
        }
    ]
    assert set(result.facts) == {"body-parser@1.20.2", "multer@1.4.5-lts.1"}
    (bp,) = result.facts["body-parser@1.20.2"].advisories
    assert (bp.id, bp.source, bp.affected, bp.severity, bp.cwes) == (
        "GHSA-qwcr-r2fm-qrc7",
        "npm",
        "<1.20.3",
        "high",
        ("CWE-405",),
    )
    assert bp.aliases == ("npm:1099520",)
    assert bp.url == "https://github.com/advisories/GHSA-qwcr-r2fm-qrc7"
    assert bp.leak_class is LeakClass.OTHER
    (multer,) = result.facts["multer@1.4.5-lts.1"].advisories
    assert multer.leak_class is LeakClass.LEAK  # CWE-401
    # axios 1.7.4 is outside ">=1.3.2 <=1.7.3": not attached
    assert "axios@1.7.4" not in result.facts
    assert not result.warnings and not result.failed


def test_batches(httpserver: HTTPServer) -> None:
    recorder = Recorder()
    httpserver.expect_request(PATH, method="POST").respond_with_handler(recorder)
    result = _service(httpserver, batch_size=2).enrich_all(REFS)
    assert [sorted(b) for b in recorder.bodies] == [
        ["axios", "body-parser"],
        ["left-pad", "multer"],
    ]
    assert set(result.facts) == {"body-parser@1.20.2", "multer@1.4.5-lts.1"}
    assert "2 requests" in result.consulted


@pytest.mark.parametrize("status", [404, 405, 410, 400, 503])
def test_registry_without_the_endpoint_is_a_warning(httpserver: HTTPServer, status: int) -> None:
    # the mirror here answers 405 with `allow: GET,HEAD` and an empty body (api-notes §1.7)
    httpserver.expect_request(PATH, method="POST").respond_with_data(
        "", status=status, headers={"allow": "GET,HEAD"}
    )
    result = _service(httpserver, batch_size=2).enrich_all(REFS)
    assert result.facts == {}
    (warning,) = result.warnings
    assert warning.startswith(UNAVAILABLE) and f"HTTP {status}" in warning
    assert result.failed
    assert len(httpserver.log) == 1  # gave up after the first batch


@pytest.mark.parametrize(
    "body", ["<html>gateway</html>", "[]", '{"multer": {"id": 1}}', '"advisories"']
)
def test_malformed_answer_is_a_warning(httpserver: HTTPServer, body: str) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_data(
        body, content_type="application/json"
    )
    result = _service(httpserver).enrich_all(REFS)
    assert result.facts == {}
    assert len(result.warnings) == 1 and result.warnings[0].startswith(UNAVAILABLE)


def test_malformed_advisory_entries_are_skipped(httpserver: HTTPServer) -> None:
    answer = {"multer": [*BULK["multer"], {"title": "no id"}, "junk"]}
    httpserver.expect_request(PATH, method="POST").respond_with_handler(Recorder(answer))
    result = _service(httpserver).enrich_all(REFS)
    assert [a.id for a in result.facts["multer@1.4.5-lts.1"].advisories] == ["GHSA-44fp-w29j-9vj5"]
    assert result.warnings == (
        f"2 advisories from {httpserver.url_for(PATH)} were not in the documented shape "
        "and were ignored",
    )


def test_unreachable_registry_is_a_warning() -> None:
    service = NpmAdvisoryService("http://127.0.0.1:9/", build_session(retries=0))
    result = service.enrich_all(REFS)
    assert result.facts == {} and result.failed
    assert result.warnings[0].startswith(UNAVAILABLE)


def test_answers_are_cached_and_used_offline(httpserver: HTTPServer, tmp_path: Path) -> None:
    recorder = Recorder()
    httpserver.expect_request(PATH, method="POST").respond_with_handler(recorder)
    cache = Cache(tmp_path / "cache")
    first = _service(httpserver, cache).enrich_all(REFS)
    second = _service(httpserver, cache).enrich_all(REFS)
    assert len(recorder.bodies) == 1  # the second run needed no request
    assert second.facts == first.facts
    offline = _service(httpserver, Cache(tmp_path / "cache"), offline=True).enrich_all(REFS)
    assert offline.facts == first.facts and len(recorder.bodies) == 1
    # expired entries are asked again
    later = _service(httpserver, cache, now=lambda: cache.clock() + 7 * 3600).enrich_all(REFS)
    assert later.facts == first.facts and len(recorder.bodies) == 2
    assert recorder.bodies[1] == recorder.bodies[0]  # those without advisories too
    kept = Cache(tmp_path / "cache").get(NAMESPACE, "left-pad@1.3.0")
    assert kept is not None and kept.value == []  # (an answer read back as its time alone)


@pytest.mark.parametrize("status", [404, 405, 410])
def test_not_served_is_remembered_for_the_caches_lifetime(
    httpserver: HTTPServer, tmp_path: Path, status: int
) -> None:
    """issue 16.4: a registry without the endpoint is asked once per cache lifetime."""
    httpserver.expect_request(PATH, method="POST").respond_with_data("", status=status)
    cache = Cache(tmp_path / "cache")
    first = _service(httpserver, cache).enrich_all(REFS)
    second = _service(httpserver, Cache(tmp_path / "cache")).enrich_all(REFS)
    assert len(httpserver.log) == 1  # the second scan sent no request at all
    assert second.failed and second.facts == {}
    (warning,) = second.warnings
    assert warning.startswith(UNAVAILABLE) and f"HTTP {status}" in warning
    assert "remembered from an earlier scan" in warning and "remembered" not in first.warnings[0]
    later = _service(httpserver, cache, now=lambda: cache.clock() + 7 * 3600).enrich_all(REFS)
    assert len(httpserver.log) == 2 and later.failed  # expired: asked again


def test_a_passing_failure_is_not_remembered(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_data("", status=503)
    cache = Cache(tmp_path / "cache")
    _service(httpserver, cache).enrich_all(REFS)
    _service(httpserver, cache).enrich_all(REFS)
    assert len(httpserver.log) == 2


def test_not_served_is_remembered_without_credentials(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_data("", status=405)
    cache = Cache(tmp_path / "cache")
    url = httpserver.url_for("/").replace("://", "://user:s3cret@")
    NpmAdvisoryService(url, build_session(retries=0), cache).enrich_all(REFS)
    second = NpmAdvisoryService(url, build_session(retries=0), cache).enrich_all(REFS)
    assert len(httpserver.log) == 1
    assert "s3cret" not in second.warnings[0]
    assert not any(
        b"s3cret" in f.read_bytes() for f in (tmp_path / "cache").rglob("*") if f.is_file()
    )


@pytest.mark.parametrize("made_first", [True, False])
def test_a_stopped_service_posts_nothing(httpserver: HTTPServer, made_first: bool) -> None:
    """``stop_requests`` (an abandoned or interrupted scan's): the session's run budget
    expires, the session made before or when it is first used; none is made to be expired."""
    recorder = Recorder()
    httpserver.expect_request(PATH, method="POST").respond_with_handler(recorder)
    made: list[object] = []

    def make() -> Any:
        made.append(build_session(retries=0))
        return made[-1]

    service = NpmAdvisoryService(httpserver.url_for("/"), make)
    if made_first:
        service.enrich_all(REFS[:1])
        assert len(recorder.bodies) == 1
    service.stop_requests()
    assert len(made) == int(made_first)  # no session made only to be expired
    result = service.enrich_all(REFS)
    assert result.failed and len(recorder.bodies) == int(made_first)


def test_a_body_over_the_cap_is_a_warning_without_the_url(httpserver: HTTPServer) -> None:
    """The per-response cap: the reason says so, and names no URL (it may hold a
    credential)."""
    httpserver.expect_request(PATH, method="POST").respond_with_data("{}" + " " * 4096)
    url = httpserver.url_for("/").replace("http://", "http://me:s3cret@")
    result = NpmAdvisoryService(url, build_session(retries=0, max_body=1024)).enrich_all(REFS)
    (warning,) = result.warnings
    assert "(body exceeds 1024 bytes" in warning and "s3cret" not in warning


def test_the_scans_advisories_import_no_requests(httpserver: HTTPServer, tmp_path: Path) -> None:
    """The registry's side session (its recipe's, no proxy variable set) posts the bulk
    request without ``requests``, on the run's budget, in a fresh interpreter; with a proxy
    variable set it is the registry's own session."""
    import os
    import subprocess
    import sys
    import textwrap

    recorder = Recorder()
    httpserver.expect_request(PATH, method="POST").respond_with_handler(recorder)
    (tmp_path / ".npmrc").write_text(f"registry={httpserver.url_for('/')}\n")
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from depaudit.cache import Cache
        from depaudit.services.interface import PackageRef
        from depaudit.services.npm_advisories import NpmAdvisoryService
        from depaudit.services.registry import build_registry_service
        registry = build_registry_service(Path({str(tmp_path)!r}), cache=Cache(None, enabled=False))
        service = NpmAdvisoryService(registry.config.registry, registry.side_session)
        result = service.enrich_all([PackageRef("multer", "1.4.5-lts.1")])
        side = registry.side_session()
        print(sorted(result.facts), type(side).__name__, side.budget is registry.budget)
        print("requests" in sys.modules)
        registry.close()
        """
    )
    plain = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    runs = [
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
        ).stdout.splitlines()
        for env in (plain, {**plain, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"})
    ]
    assert runs == [
        ["['multer@1.4.5-lts.1'] PlainSession True", "False"],
        ["['multer@1.4.5-lts.1'] DepauditSession True", "True"],
    ]
    assert len(recorder.bodies) == 2
