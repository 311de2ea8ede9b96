"""Fault injection: a raw loopback HTTP server that can misbehave in ways a well-behaved test
server cannot (reset a connection mid-body, stall before the headers, lie about the length,
send a compression bomb), a small project to scan, and ``scan()`` running ``main(argv)``.

HTTP is kept fast for these tests by building the registry's session with one or two
retries, no backoff and a short read timeout (``fast_http``); nothing else is patched.
"""

from __future__ import annotations

import contextlib
import functools
import json
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from depaudit import http as depaudit_http
from depaudit.cli import main
from depaudit.services import registry as registry_module

PACKAGES = {"alpha": "1.0.0", "beta": "2.0.0"}
READ_TIMEOUT = 0.5
MAX_BODY = 4 * 1024 * 1024


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]


Handler = Callable[[socket.socket, Seen], None]


def send(
    conn: socket.socket,
    status: int,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    *,
    length: int | None = None,
) -> None:
    """A complete HTTP/1.1 response (``length`` overrides Content-Length: a lie)."""
    head = {"Content-Type": "application/json", "Connection": "close", **(headers or {})}
    if "Content-Length" not in head and length != -1:
        head["Content-Length"] = str(len(body) if length is None else length)
    lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in head.items()]
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)


def reset(conn: socket.socket) -> None:
    """Close with RST instead of FIN."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def packument(name: str, versions: tuple[str, ...] = ("1.0.0", "2.0.0"), **extra: Any) -> bytes:
    doc: dict[str, Any] = {
        "name": name,
        "dist-tags": {"latest": versions[-1]},
        "versions": {v: {"name": name, "version": v} for v in versions},
        "time": {
            "created": "2020-01-01T00:00:00.000Z",
            "modified": "2024-01-01T00:00:00.000Z",
            **{v: f"202{i}-01-01T00:00:00.000Z" for i, v in enumerate(versions)},
        },
        **extra,
    }
    return json.dumps(doc).encode()


def ok(conn: socket.socket, seen: Seen) -> None:
    send(conn, 200, packument(seen.path.strip("/")))


@dataclass
class RawServer:
    """Threaded loopback server; ``routes`` maps a path to a handler (default: ``ok``)."""

    routes: dict[str, Handler] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    host: str = "127.0.0.1"

    def __post_init__(self) -> None:
        outer = self

        class _Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                conn: socket.socket = self.request
                conn.settimeout(10)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            return
                        data += chunk
                except OSError:
                    return
                head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
                method, path, _ = (head[0].split(" ") + ["", ""])[:3]
                headers = {}
                for line in head[1:]:
                    key, _, value = line.partition(":")
                    headers[key.strip().lower()] = value.strip()
                seen = Seen(method, path, headers)
                outer.seen.append(seen)
                with contextlib.suppress(OSError):  # the client gave up (timeouts): fine
                    outer.routes.get(path.split("?")[0], ok)(conn, seen)

        class _Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = _Server((self.host, 0), _Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def paths(self) -> list[str]:
        return [s.path for s in self.seen]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def server() -> Iterator[RawServer]:
    srv = RawServer()
    yield srv
    srv.close()


@pytest.fixture
def other_server() -> Iterator[RawServer]:
    """A second origin: same machine, another host name (``localhost``) and port."""
    srv = RawServer(host="localhost")
    yield srv
    srv.close()


@pytest.fixture(autouse=True)
def fast_http(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registry scans in these tests: two retries, no backoff, short timeouts, 4 MB cap."""
    monkeypatch.delenv("DEPAUDIT_NO_REGISTRY", raising=False)
    fast = functools.partial(
        depaudit_http.build_session,
        retries=2,
        backoff_factor=0,
        connect_timeout=2.0,
        read_timeout=READ_TIMEOUT,
        max_body=MAX_BODY,
    )
    monkeypatch.setattr(registry_module, "build_session", fast)


def write_project(folder: Path, packages: dict[str, str] = PACKAGES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    deps = {name: f"^{version}" for name, version in packages.items()}
    manifest = {"name": "app", "version": "1.0.0", "dependencies": deps}
    lock = {
        "name": "app",
        "version": "1.0.0",
        "lockfileVersion": 3,
        "requires": True,
        "packages": {
            "": {"name": "app", "version": "1.0.0", "dependencies": deps},
            **{
                f"node_modules/{name}": {
                    "version": version,
                    "resolved": f"https://registry.invalid/{name}/-/{name}-{version}.tgz",
                }
                for name, version in packages.items()
            },
        },
    }
    (folder / "package.json").write_text(json.dumps(manifest, indent=2))
    (folder / "package-lock.json").write_text(json.dumps(lock, indent=2))
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "app")


@dataclass
class Scan:
    code: int
    out: str
    err: str

    @property
    def report(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.out)
        return data

    def facts(self, name: str) -> dict[str, Any]:
        for entry in self.report["packages"]:
            if entry["name"] == name:
                facts: dict[str, Any] = entry["facts"]
                return facts
        raise KeyError(name)

    @property
    def warnings(self) -> list[str]:
        return [str(w) for w in self.report.get("warnings", [])]


Runner = Callable[..., Scan]


@pytest.fixture
def scan(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], server: RawServer
) -> Runner:
    """``scan(*extra, registry=None)``: ``depaudit scan`` of the project, JSON on stdout."""

    def run(*extra: str, registry: str | None = None, directory: Path | None = None) -> Scan:
        argv = [
            "scan",
            str(directory or project),
            "--no-npm",
            "--registry",
            registry or server.url,
            "--cache-dir",
            str(tmp_path / "cache"),
            "--format",
            "json",
            "--jobs",
            "2",
            *extra,
        ]
        capsys.readouterr()
        code = main(argv)
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        return Scan(code, captured.out, captured.err)

    return run


def stall(seconds: float) -> Handler:
    def handler(conn: socket.socket, seen: Seen) -> None:
        time.sleep(seconds)
        send(conn, 200, packument(seen.path.strip("/")))

    return handler
