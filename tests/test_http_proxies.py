"""The shared session keeps honouring the environment's proxy variables (HTTP_PROXY,
NO_PROXY) while it remembers them per host instead of rescanning the environment on every
request (``DepauditSession.merge_environment_settings``)."""

from __future__ import annotations

import json

import pytest
from pytest_httpserver import HTTPServer

from depaudit.http import build_session
from depaudit.http_bulk import get_one


def test_requests_go_through_the_proxy_of_the_environment(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the loopback server plays the proxy: a proxied GET arrives in absolute form
    httpserver.expect_request("/ms").respond_with_json({"name": "ms"})
    monkeypatch.setenv("HTTP_PROXY", httpserver.url_for("/").rstrip("/"))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    session = build_session(2, retries=0)
    for _ in range(3):  # the first request fills the per-host memory, the others use it
        fetched = get_one(session, "http://registry.invalid/ms")
        assert fetched.status == 200 and json.loads(fetched.body) == {"name": "ms"}
    assert len(httpserver.log) == 3
    request, _ = httpserver.log[0]
    assert request.headers.get("Host") == "registry.invalid"


def test_no_proxy_hosts_are_still_reached_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("NO_PROXY", "direct.invalid")
    session = build_session(2, retries=0)
    for _ in range(2):
        proxied = session.merge_environment_settings(
            "http://registry.invalid/x", {}, None, None, None
        )
        direct = session.merge_environment_settings("http://direct.invalid/x", {}, None, None, None)
        assert proxied["proxies"].get("http") == "http://proxy.invalid:3128"
        assert "http" not in direct["proxies"]
        proxied["proxies"]["http"] = "changed by a caller"  # a copy: the memory is not touched
