"""Loopback registry fixtures (pytest-httpserver) that answer like the real npm registry.

``fake_registry`` serves the packuments under ``tests/assets/registry`` (and any added with
``add``): full documents with ETag / Last-Modified, 304 on a matching If-None-Match, 404
``{"error":"Not found"}`` for unknown names, scoped names as ``%2f``, ``%2F`` or ``/``.
Other service tests may reuse :class:`FakeRegistry`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from depaudit.services.metrics import parse_time

REGISTRY_ASSETS = Path(__file__).resolve().parent.parent / "assets" / "registry"


def load_asset(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((REGISTRY_ASSETS / name).read_text(encoding="utf-8"))
    return data


@dataclass
class Served:
    body: bytes
    status: int = 200
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class FakeRegistry:
    """A registry on a loopback port. ``requests`` records (raw URI, headers, status)."""

    server: HTTPServer
    docs: dict[str, Served] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str], int]] = field(default_factory=list)
    override: Callable[[Request], Response | None] | None = None

    def __post_init__(self) -> None:
        self.server.expect_request(re.compile(r"^/.*")).respond_with_handler(self.handle)

    @property
    def url(self) -> str:
        return self.server.url_for("/")

    def add(self, doc: dict[str, Any], status: int = 200, validators: bool = True) -> None:
        body = json.dumps(doc).encode()
        etag = last_modified = None
        if validators:
            etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
            modified = parse_time((doc.get("time") or {}).get("modified"))
            last_modified = format_datetime(modified, usegmt=True) if modified else None
        self.docs[str(doc["name"])] = Served(body, status, etag, last_modified)

    def add_asset(self, filename: str, status: int = 200) -> dict[str, Any]:
        doc = load_asset(filename)
        self.add(doc, status)
        return doc

    def packument_requests(self) -> list[tuple[str, dict[str, str], int]]:
        """The packument GETs only (not ``/-/...`` endpoints other services may call)."""
        return [r for r in self.requests if not r[0].startswith("/-/")]

    def raw_uris(self) -> list[str]:
        return [uri for uri, _, _ in self.requests]

    def handle(self, request: Request) -> Response:
        raw = str(request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or "")
        response = self._respond(request)
        self.requests.append((raw or request.path, dict(request.headers), response.status_code))
        return response

    def _respond(self, request: Request) -> Response:
        if self.override is not None:
            custom = self.override(request)
            if custom is not None:
                return custom
        name = request.path.lstrip("/")  # werkzeug has decoded %2f / %2F already
        served = self.docs.get(name)
        if served is None:
            return Response(b'{"error":"Not found"}', status=404, content_type="application/json")
        headers = {"Cache-Control": "public, max-age=300"}
        if served.etag:
            headers["ETag"] = served.etag
            if request.headers.get("If-None-Match") == served.etag and served.status == 200:
                return Response(b"", status=304, headers=headers)
        if served.last_modified:
            headers["Last-Modified"] = served.last_modified
        return Response(
            served.body, status=served.status, headers=headers, content_type="application/json"
        )


STANDARD_ASSETS = (
    "express.json",
    "socket.io-redis.json",
    "socket.io-redis-adapter.scoped.json",
    "request.json",
    "tiny-tarball.json",
    "rollup-config-mbp.tombstone.json",
)


@pytest.fixture
def fake_registry(httpserver: HTTPServer) -> Iterator[FakeRegistry]:
    """The standard documents; x-iterable-tree is a tombstone served with a 404 status."""
    registry = FakeRegistry(httpserver)
    for asset in STANDARD_ASSETS:
        registry.add_asset(asset)
    registry.add_asset("x-iterable-tree.tombstone.json", status=404)
    yield registry


@pytest.fixture
def second_server() -> Iterator[HTTPServer]:
    """Another loopback server on a different port (for credential-scope tests)."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()
