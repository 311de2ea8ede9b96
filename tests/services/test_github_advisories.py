"""GitHub Advisory Database client against a loopback server speaking the documented shapes
(api-notes §3.0-3.1): affects batches, cursor pagination through `link`, headers and token,
withdrawn/other-ecosystem records, primary and secondary rate limits (injected sleep),
ETag/304 revalidation, malformed answers, and the offline snapshot of `db update`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from depaudit.cache import Cache
from depaudit.github_client import API_VERSION, next_link
from depaudit.github_client import find_token as token_from_env
from depaudit.http import build_session
from depaudit.models import LeakClass
from depaudit.services.github_advisories import GithubAdvisoryService
from depaudit.services.interface import PackageRef

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "advisories"
PAGE1 = json.loads((ASSETS / "github-page1.json").read_text())
PAGE2 = json.loads((ASSETS / "github-page2.json").read_text())
TOKEN = "ghp_testtoken0123456789abcdef"
NOW = 1_800_000_000.0

REFS = [
    PackageRef("multer", "1.4.5-lts.1"),
    PackageRef("multer", "2.0.2"),
    PackageRef("@grpc/grpc-js", "1.9.14"),
    PackageRef("@grpc/grpc-js", "1.9.15"),
    PackageRef("jose", "4.15.4"),
    PackageRef("body-parser", "1.20.2"),
]


class Pages:
    """Serves PAGE1, then PAGE2 via a `link: rel="next"` cursor, recording requests."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.queue: list[Response] = []  # responses to send before the normal ones

    def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        if self.queue:
            return self.queue.pop(0)
        if request.headers.get("If-None-Match") == '"etag-' + request.args.get("after", "1") + '"':
            return Response(status=304)
        if request.args.get("after") == "Y3Vyc29yOjI":
            return Response(
                json.dumps(PAGE2),
                content_type="application/json",
                headers={"ETag": '"etag-Y3Vyc29yOjI"'},
            )
        nxt = request.base_url + "?" + request.query_string.decode() + "&after=Y3Vyc29yOjI"
        return Response(
            json.dumps(PAGE1),
            content_type="application/json",
            headers={"link": f'<{nxt}>; rel="next"', "ETag": '"etag-1"'},
        )


@pytest.fixture
def pages(httpserver: HTTPServer) -> Pages:
    handler = Pages()
    httpserver.expect_request("/advisories").respond_with_handler(handler)
    return handler


def _service(server: HTTPServer, cache: Cache | None = None, **kw: Any) -> GithubAdvisoryService:
    kw.setdefault("token", TOKEN)
    kw.setdefault("clock", lambda: NOW)
    return GithubAdvisoryService(build_session(retries=0), cache, api_url=server.url_for("/"), **kw)


def test_pagination_headers_and_filtering(httpserver: HTTPServer, pages: Pages) -> None:
    result = _service(httpserver).enrich_all(REFS)
    first, second = pages.requests
    assert first.args["ecosystem"] == "npm" and first.args["per_page"] == "100"
    assert first.args["affects"].split(",") == sorted(f"{r.name}@{r.version}" for r in REFS)
    assert second.args["after"] == "Y3Vyc29yOjI"  # the link URL was followed as given
    for request in pages.requests:
        assert request.headers["Accept"] == "application/vnd.github+json"
        assert request.headers["X-GitHub-Api-Version"] == API_VERSION
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert set(result.facts) == {"multer@1.4.5-lts.1", "@grpc/grpc-js@1.9.14", "body-parser@1.20.2"}
    (multer,) = result.facts["multer@1.4.5-lts.1"].advisories
    assert (multer.id, multer.source, multer.affected, multer.patched) == (
        "GHSA-44fp-w29j-9vj5",
        "github",
        "<2.0.0",
        "2.0.0",
    )
    assert multer.aliases == ("CVE-2025-47935",) and multer.leak_class is LeakClass.LEAK
    (grpc,) = result.facts["@grpc/grpc-js@1.9.14"].advisories
    assert grpc.affected == ">=1.9.0 <1.9.15" and grpc.leak_class is LeakClass.EXHAUSTION
    assert (
        grpc.severity == "medium"
        and grpc.url == "https://github.com/advisories/GHSA-7v5v-9h63-cj86"
    )
    # withdrawn jose advisory ignored; the Go record named "multer" not attached to 2.0.2
    assert "jose@4.15.4" not in result.facts and "multer@2.0.2" not in result.facts
    assert result.warnings == () and not result.failed


def test_affects_batches(httpserver: HTTPServer, pages: Pages) -> None:
    _service(httpserver, batch_size=4).enrich_all(REFS)
    firsts = [r for r in pages.requests if "after" not in r.args]
    assert [len(r.args["affects"].split(",")) for r in firsts] == [4, 2]
    assert len(pages.requests) == 4  # two pages per batch


def test_primary_rate_limit_waits_until_reset_when_short(
    httpserver: HTTPServer, pages: Pages
) -> None:
    pages.queue.append(
        Response(
            json.dumps({"message": "API rate limit exceeded", "documentation_url": "x"}),
            status=403,
            content_type="application/json",
            headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 30)},
        )
    )
    slept: list[float] = []
    result = _service(httpserver, sleep=slept.append).enrich_all(REFS)
    assert slept == [31.0]
    assert "multer@1.4.5-lts.1" in result.facts and result.warnings == ()


@pytest.mark.parametrize("status", [403, 429])
def test_primary_rate_limit_far_away_stops_with_a_warning(
    httpserver: HTTPServer, pages: Pages, status: int
) -> None:
    pages.queue.append(
        Response(
            "{}",
            status=status,
            content_type="application/json",
            headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 3600)},
        )
    )
    slept: list[float] = []
    result = _service(httpserver, sleep=slept.append, batch_size=2).enrich_all(REFS)
    assert slept == [] and len(pages.requests) == 1  # no retry, no further batches
    (warning,) = result.warnings
    assert "rate limit reached" in warning and "2027-01-15 09:00 UTC" in warning
    assert result.facts == {} and result.failed


def test_secondary_rate_limit_honours_retry_after(httpserver: HTTPServer, pages: Pages) -> None:
    body = json.dumps(
        {
            "message": "You have exceeded a secondary rate limit. Please wait a few "
            "minutes before you try again.",
            "documentation_url": "x",
            "status": "403",
        }
    )
    pages.queue.append(Response(body, status=429, headers={"retry-after": "7"}))
    pages.queue.append(Response(body, status=403))  # no header: wait a minute
    slept: list[float] = []
    result = _service(httpserver, sleep=slept.append).enrich_all(REFS)
    assert slept == [7.0, 60.0]
    assert "multer@1.4.5-lts.1" in result.facts


def test_forbidden_without_rate_limit_is_a_warning(httpserver: HTTPServer, pages: Pages) -> None:
    pages.queue.append(
        Response(
            json.dumps({"message": "Resource not accessible by integration", "status": "403"}),
            status=403,
        )
    )
    result = _service(httpserver, sleep=lambda s: pytest.fail("no wait")).enrich_all(REFS)
    assert result.warnings[0].startswith("GitHub advisories: HTTP 403")


@pytest.mark.parametrize("body", ['{"message": "Validation Failed"}', "not json", "{}"])
def test_malformed_answers_are_warnings(httpserver: HTTPServer, pages: Pages, body: str) -> None:
    pages.queue.append(Response(body, status=200, content_type="application/json"))
    result = _service(httpserver).enrich_all(REFS)
    assert result.facts == {}
    assert "not a list of advisories" in result.warnings[0]


def test_etag_revalidation_and_token_never_stored(
    httpserver: HTTPServer, pages: Pages, tmp_path: Path
) -> None:
    cache = Cache(tmp_path / "cache", clock=lambda: NOW)
    first = _service(httpserver, cache).enrich_all(REFS)
    warm = _service(httpserver, cache).enrich_all(REFS)  # fresh: no request at all
    assert len(pages.requests) == 2 and warm.facts == first.facts
    stale = _service(httpserver, cache, ttl=0).enrich_all(REFS)
    assert [r.headers.get("If-None-Match") for r in pages.requests[2:]] == [
        '"etag-1"',
        '"etag-Y3Vyc29yOjI"',
    ]
    assert stale.facts == first.facts and "2 revalidated" in stale.consulted
    cache.close()
    stored = b"".join(p.read_bytes() for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert TOKEN.encode() not in stored
    assert TOKEN not in repr(_service(httpserver))
    assert all(TOKEN not in w for w in first.warnings) and TOKEN not in first.consulted


def test_without_token_it_works_and_says_so(httpserver: HTTPServer, pages: Pages) -> None:
    result = _service(httpserver, token=None).enrich_all(REFS)
    assert "Authorization" not in pages.requests[0].headers
    assert "multer@1.4.5-lts.1" in result.facts
    assert result.warnings == (
        "GitHub advisories: no GITHUB_TOKEN or GH_TOKEN, using the "
        "anonymous limit (60 requests per hour)",
    )


def test_token_from_env() -> None:
    assert token_from_env({"GH_TOKEN": " abc "}) == "abc"
    assert token_from_env({"GITHUB_TOKEN": "x", "GH_TOKEN": "y"}) == "x"
    assert token_from_env({}) is None


def test_next_link() -> None:
    header = (
        '<https://api.github.com/repositories/1300192/issues?page=2>; rel="prev", '
        '<https://api.github.com/repositories/1300192/issues?page=4>; rel="next"'
    )
    assert next_link(header) == "https://api.github.com/repositories/1300192/issues?page=4"
    assert next_link(None) is None


def test_snapshot_answers_offline(httpserver: HTTPServer, pages: Pages, tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    count, warnings = _service(httpserver, cache).update_snapshot()
    assert (count, warnings) == (4, ())  # all pages, withdrawn one dropped
    snap = pages.requests[0]
    assert snap.args["cwes"] == "400,401,404,459,770,772,775,789"
    assert "affects" not in snap.args and snap.args["ecosystem"] == "npm"
    pages.requests.clear()
    offline = _service(httpserver, Cache(tmp_path / "cache"), offline=True).enrich_all(REFS)
    assert pages.requests == []
    assert set(offline.facts) == {
        "multer@1.4.5-lts.1",
        "@grpc/grpc-js@1.9.14",
        "body-parser@1.20.2",
    }
    assert "snapshot of" in offline.consulted and offline.warnings == ()


def test_offline_without_snapshot_warns(httpserver: HTTPServer, tmp_path: Path) -> None:
    result = _service(httpserver, Cache(tmp_path / "c"), offline=True).enrich_all(REFS)
    assert result.facts == {} and "depaudit db update" in result.warnings[0]
