"""The one GitHub client (depaudit.github_client) against loopback servers: the token stays on
its own origin, absurd rate-limit headers neither crash nor sleep forever, and what is read of
GitHub is capped per response and per run."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from depaudit.github_client import (
    WAIT_CEILING,
    GitHubClient,
    GitHubError,
    GitHubRateLimitError,
    rate_limit_wait,
)
from depaudit.http import MAX_RETRY_AFTER, build_session, make_retry
from depaudit.services.github_advisories import GithubAdvisoryService
from depaudit.services.interface import PackageRef

TOKEN = "ghp_clienttesttoken0123456789"
NOW = 1_800_000_000.0


@pytest.fixture
def elsewhere() -> Any:
    """A second loopback server: another origin (another port)."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def _page_linking_to(target: str) -> Response:
    return Response(
        json.dumps([]), content_type="application/json", headers={"link": f'<{target}>; rel="next"'}
    )


def test_paginate_does_not_follow_a_next_link_to_another_origin(
    httpserver: HTTPServer, elsewhere: HTTPServer
) -> None:
    seen: list[Request] = []
    elsewhere.expect_request("/steal").respond_with_handler(
        lambda r: seen.append(r) or Response("[]", content_type="application/json")
    )
    httpserver.expect_request("/items").respond_with_handler(
        lambda r: _page_linking_to(elsewhere.url_for("/steal"))
    )
    client = GitHubClient(TOKEN, httpserver.url_for("/"))
    with pytest.raises(GitHubError) as caught:
        list(client.paginate("/items"))
    assert "next-page link leaves" in caught.value.message
    assert seen == []  # neither the token nor any request went to the other origin
    assert TOKEN not in caught.value.message


def test_advisories_do_not_send_the_token_to_another_origin(
    httpserver: HTTPServer, elsewhere: HTTPServer
) -> None:
    """19.1: the advisory client used to follow `link: rel=next` to any host with the token."""
    seen: list[Request] = []
    elsewhere.expect_request("/advisories").respond_with_handler(
        lambda r: seen.append(r) or Response("[]", content_type="application/json")
    )
    httpserver.expect_request("/advisories").respond_with_handler(
        lambda r: _page_linking_to(elsewhere.url_for("/advisories") + "?after=x")
    )
    service = GithubAdvisoryService(
        build_session(retries=0), None, api_url=httpserver.url_for("/"), token=TOKEN
    )
    result = service.enrich_all([PackageRef("multer", "1.4.5")])
    assert seen == []
    assert any("next-page link leaves" in w for w in result.warnings)
    assert all(TOKEN not in w for w in result.warnings)


def test_same_origin_next_link_gets_the_token(httpserver: HTTPServer) -> None:
    auth: list[str | None] = []

    def handler(request: Request) -> Response:
        auth.append(request.headers.get("Authorization"))
        if request.args.get("page") == "2":
            return Response(json.dumps([2]), content_type="application/json")
        return _page_linking_to(httpserver.url_for("/items") + "?page=2")

    httpserver.expect_request("/items").respond_with_handler(handler)
    client = GitHubClient(TOKEN, httpserver.url_for("/"))
    assert list(client.paginate("/items")) == [2]
    assert auth == [f"Bearer {TOKEN}"] * 2


ABSURD = [
    {"retry-after": "1e23"},
    {"retry-after": "nan"},
    {"retry-after": "inf"},
    {"retry-after": "-inf"},
    {"retry-after": "99999999999999999999"},
    {"retry-after": "Fri, 31 Dec 9999 23:59:59 GMT"},
    {"retry-after": "not a date"},
    {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "99999999999999999999"},
    {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1e309"},
    {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "nan"},
]


@pytest.mark.parametrize("headers", ABSURD, ids=lambda h: ",".join(h.values()))
def test_absurd_rate_limit_headers_are_capped(
    httpserver: HTTPServer, headers: dict[str, str]
) -> None:
    """19.8: huge, non-finite or unreadable waits: an error or a short, finite sleep."""
    httpserver.expect_request("/x").respond_with_response(
        Response('{"message": "slow down"}', status=429, headers=headers)
    )
    slept: list[float] = []
    client = GitHubClient(
        TOKEN, httpserver.url_for("/"), sleep=slept.append, clock=lambda: NOW, max_wait=60
    )
    with pytest.raises(GitHubRateLimitError) as caught:
        client.get_json("/x")
    assert math.isfinite(caught.value.wait) and 0 <= caught.value.wait <= WAIT_CEILING
    assert all(math.isfinite(s) and 0 <= s <= 60 for s in slept) and len(slept) <= 2
    assert len(caught.value.message.splitlines()) == 1


@pytest.mark.parametrize("headers", ABSURD, ids=lambda h: ",".join(h.values()))
def test_absurd_rate_limit_headers_stop_the_advisories_with_a_warning(
    httpserver: HTTPServer, headers: dict[str, str]
) -> None:
    httpserver.expect_request("/advisories").respond_with_response(
        Response('{"message": "API rate limit exceeded"}', status=403, headers=headers)
    )
    slept: list[float] = []
    service = GithubAdvisoryService(
        build_session(retries=0),
        None,
        api_url=httpserver.url_for("/"),
        token=TOKEN,
        sleep=slept.append,
        clock=lambda: NOW,
    )
    result = service.enrich_all([PackageRef("multer", "1.4.5")])
    assert result.failed and "rate limit reached" in result.warnings[0]
    assert all(math.isfinite(s) for s in slept)


@given(
    status=st.sampled_from([200, 403, 429, 500]),
    retry_after=st.none() | st.text(max_size=40),
    remaining=st.none() | st.sampled_from(["0", "1", " 0 "]),
    reset=st.none() | st.text(max_size=40) | st.integers().map(str) | st.floats().map(str),
    message=st.text(max_size=40),
)
def test_rate_limit_wait_is_none_or_finite_and_bounded(
    status: int, retry_after: str | None, remaining: str | None, reset: str | None, message: str
) -> None:
    headers = {
        k: v
        for k, v in {
            "retry-after": retry_after,
            "x-ratelimit-remaining": remaining,
            "x-ratelimit-reset": reset,
        }.items()
        if v is not None
    }
    wait = rate_limit_wait(status, headers, message, NOW)
    if status not in (403, 429):
        assert wait is None
    elif status == 429:
        assert wait is not None
    if wait is not None:
        assert math.isfinite(wait) and 0.0 <= wait <= WAIT_CEILING


def test_one_response_is_capped(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/big").respond_with_data(
        b"[" + b'"x",' * 100_000 + b'"x"]', content_type="application/json"
    )
    client = GitHubClient(TOKEN, httpserver.url_for("/"), max_body=64 * 1024)
    with pytest.raises(GitHubError, match="exceeds 65536 bytes"):
        client.get_json("/big")


def test_all_responses_of_a_run_are_capped(httpserver: HTTPServer) -> None:
    """19.15 (GitHub half): each page is under the per-response cap, the run is not."""
    page = b"[" + b'"x",' * 10_000 + b'"x"]'  # ~40 kB
    httpserver.expect_request("/page").respond_with_data(page, content_type="application/json")
    client = GitHubClient(
        TOKEN, httpserver.url_for("/"), max_body=64 * 1024, max_run_bytes=100 * 1024
    )
    client.get_json("/page")
    client.get_json("/page")
    with pytest.raises(GitHubError, match="answers of this run exceed 102400 bytes"):
        client.get_json("/page")


def test_anonymous_client_sends_no_authorization(httpserver: HTTPServer) -> None:
    auth: list[str | None] = []
    httpserver.expect_request("/x").respond_with_handler(
        lambda r: (
            auth.append(r.headers.get("Authorization"))
            or Response("{}", content_type="application/json")
        )
    )
    assert GitHubClient(None, httpserver.url_for("/")).get_json("/x") == {}
    assert auth == [None]
    assert TOKEN not in repr(GitHubClient(TOKEN, httpserver.url_for("/")))


@pytest.mark.parametrize("value", ["nan", "1e23", "inf", "99999999999999999999"])
def test_shared_session_retry_after_is_finite(value: str) -> None:
    """The transport retry of depaudit.http (registry side) reads the same absurd values."""
    retry = make_retry(1, 0)
    after = retry.get_retry_after(Response(headers={"retry-after": value}))
    assert after is None or 0 <= after <= MAX_RETRY_AFTER


@pytest.mark.parametrize("value", ["nan", "1e23"])
def test_shared_session_survives_unreadable_retry_after(httpserver: HTTPServer, value: str) -> None:
    httpserver.expect_ordered_request("/r").respond_with_response(
        Response("busy", status=503, headers={"retry-after": value})
    )
    httpserver.expect_ordered_request("/r").respond_with_data("ok")
    response = build_session(retries=1, backoff_factor=0).get(httpserver.url_for("/r"))
    assert response.status_code == 200 and response.text == "ok"


@pytest.mark.parametrize("made_first", [True, False])
def test_a_stopped_client_sends_nothing_more(httpserver: HTTPServer, made_first: bool) -> None:
    """``stop`` (an abandoned advisory thread's): the session's run budget expires, so no
    request connects after it, whether the session was made before or is made after."""
    seen: list[str] = []
    httpserver.expect_request("/rate_limit").respond_with_handler(
        lambda r: seen.append(r.path) or Response("{}", content_type="application/json")
    )
    client = GitHubClient(TOKEN, httpserver.url_for("/"))
    if made_first:
        client.request("GET", "/rate_limit")
        assert seen == ["/rate_limit"]
    client.stop()
    with pytest.raises(GitHubError):
        client.request("GET", "/rate_limit")
    assert seen == (["/rate_limit"] if made_first else [])
    client.close()


def _seen_requests(server: HTTPServer) -> list[tuple[Any, ...]]:
    names = ("Authorization", "Accept", "User-Agent", "X-GitHub-Api-Version", "Content-Type")
    return [
        (r.method, r.path, r.query_string, r.get_data(), *(r.headers.get(n) for n in names))
        for r, _ in server.log
    ]


@pytest.mark.parametrize(
    ("method", "path", "params", "body"),
    [
        ("GET", "/repos/o/r/issues/1/comments", {"per_page": 100, "page": 2}, None),
        ("GET", "/advisories?ecosystem=npm", {"affects": "a@1.0.0,@s/b@2", "q": "x y&z"}, None),
        ("POST", "/repos/o/r/issues/1/comments", None, {"body": "héllo <!-- m -->"}),
        ("PATCH", "/repos/o/r/issues/comments/7", None, {"body": "x" * 2000}),
    ],
)
def test_a_request_is_sent_as_the_requests_session_sent_it(
    httpserver: HTTPServer, method: str, path: str, params: Any, body: Any
) -> None:
    """The client's request through libcurl reaches GitHub as the same call through the
    requests session it used before (method, path, query, JSON body, headers)."""
    httpserver.expect_request(path.split("?")[0]).respond_with_json({"id": 1})
    client = GitHubClient(TOKEN, httpserver.url_for("/"))
    url = client.url(path)
    build_session(4, retries=0).request(
        method, url, params=params, json=body, headers=client._headers(url)
    )
    by_requests = _seen_requests(httpserver)
    httpserver.clear_log()
    answer = client.request(method, path, params=params, json=body)
    assert answer.status_code == 200 and answer.json() == {"id": 1}
    assert answer.method == method
    seen = _seen_requests(httpserver)
    assert seen == by_requests
    assert seen[0][4] == f"Bearer {TOKEN}"


@given(
    st.sampled_from(
        [
            "https://api.github.com/advisories",
            "https://h.example/x?a=1",
            "http://127.0.0.1:81/api/v3/r",
        ]
    ),
    st.dictionaries(st.text(max_size=8), st.one_of(st.text(max_size=8), st.integers()), max_size=4),
)
def test_params_join_the_url_as_requests_joins_them(url: str, params: dict[str, Any]) -> None:
    import requests

    from depaudit.github_client import _with_params

    expected = requests.Request("GET", url, params=params).prepare().url
    assert _with_params(url, params) == expected


def test_a_client_request_imports_no_requests(httpserver: HTTPServer) -> None:
    """Where no proxy variable is set, a GitHub call (answered, and failed) in a fresh
    interpreter imports no ``requests``."""
    import os
    import socket
    import subprocess
    import sys
    import textwrap

    httpserver.expect_request("/advisories").respond_with_json([{"ghsa_id": "GHSA-x"}])
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    script = textwrap.dedent(
        f"""
        import sys
        from depaudit.github_client import GitHubClient, GitHubError
        print(GitHubClient(None, {httpserver.url_for("/")!r}).get_json("/advisories"))
        try:
            GitHubClient(None, "http://127.0.0.1:{dead}").get_json("/advisories")
        except GitHubError as exc:
            print(exc.reason)
        print("requests" in sys.modules)
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    ).stdout.splitlines()
    assert out == ["[{'ghsa_id': 'GHSA-x'}]", "could not connect", "False"]


def test_a_proxy_of_the_environment_carries_the_calls(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``HTTP_PROXY`` set, the client's calls go through it, to the API's host, with the
    token (its own origin); a host in ``NO_PROXY`` is reached directly."""
    seen: list[tuple[str | None, str | None]] = []
    httpserver.expect_request("/advisories").respond_with_handler(
        lambda r: (
            seen.append((r.headers.get("Host"), r.headers.get("Authorization")))
            or Response("[]", content_type="application/json")
        )
    )
    monkeypatch.setenv("HTTP_PROXY", httpserver.url_for("/").rstrip("/"))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = GitHubClient(TOKEN, "http://api.registry.invalid")
    assert client.get_json("/advisories") == []
    assert seen == [("api.registry.invalid", f"Bearer {TOKEN}")]
    monkeypatch.setenv("NO_PROXY", "registry.invalid")
    with pytest.raises(GitHubError) as caught:
        GitHubClient(TOKEN, "http://api.registry.invalid").get_json("/advisories")
    assert caught.value.reason == "could not connect" and len(seen) == 1
