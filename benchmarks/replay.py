"""A loopback npm registry that replays recorded packuments.

Serves ``GET /{name}`` with the full recorded document (``Accept`` is ignored, as it is by the
registry the recordings came from), accepts scoped names as ``@scope%2fname``, ``@scope%2Fname``
or ``@scope/name``, tolerates a doubled leading slash (libyear builds ``<registry>/<name>`` from
a registry URL that already ends in ``/``) and answers 404 for anything it has no recording for.
It counts requests, misses and bytes so each tool's network bill can be reported.

``POST /-/npm/v1/security/advisories/bulk`` (what ``npm audit`` and depaudit ask) answers ``{}``,
"no advisory for any of these", in the documented shape: the registry the recordings come from
does not serve that endpoint, so there is nothing to replay, and ``{}`` keeps every tool's cost
honest (depaudit still pays the round trip and caches the answer like any other).
``GET /github/advisories?...`` stands in for the GitHub Advisory Database REST API (not
reachable from here) the same way: ``[]``, one page, no advisory (depaudit is given
``--github-api-url <server>/github``; the other tools do not consult GitHub).

Run alone: ``python -m benchmarks.replay [--port N]``.
"""

from __future__ import annotations

import argparse
import gzip
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

RECORDINGS = Path(__file__).resolve().parent / "recordings"
PACKUMENTS = RECORDINGS / "packuments"
BULK_PATH = "/-/npm/v1/security/advisories/bulk"
GITHUB_ADVISORIES = "/github/advisories"


def packument_path(name: str, root: Path = PACKUMENTS) -> Path:
    """Where the recording of ``name`` lives (one file per name, its name percent-quoted)."""
    return root / (quote(name, safe="@") + ".json")


def missing_marker(name: str, root: Path = PACKUMENTS) -> Path:
    """A recorded 404 (the registry has no such package)."""
    return root / (quote(name, safe="@") + ".404")


@dataclass
class Stats:
    requests: int = 0
    hits: int = 0
    posts: int = 0
    github: int = 0
    misses: int = 0
    bytes_sent: int = 0
    missed_names: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.requests = self.hits = self.misses = self.bytes_sent = 0
            self.posts = self.github = 0
            self.missed_names = set()


def name_from_path(raw_path: str) -> str | None:
    """The package name a registry GET path asks for, or None for other endpoints."""
    path = unquote(urlsplit(raw_path).path).lstrip("/")
    if not path or "/-/" in path or path.startswith("-/"):
        return None
    parts = path.split("/")
    if parts[0].startswith("@"):
        return "/".join(parts[:2]) if len(parts) == 2 else None
    return parts[0] if len(parts) == 1 else None


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # 32 clients connecting at once overflow the default 5


class ReplayServer:
    """A threaded loopback server; ``with ReplayServer() as server: server.url``."""

    def __init__(
        self, root: Path = PACKUMENTS, port: int = 0, delay: float = 0.0, compress: bool = False
    ) -> None:
        self.root = root
        #: answer a client that accepts gzip with the packument gzipped (as the registry
        #: does), each compressed once, on first use (``compressed``)
        self.compress = compress
        self.compressed: dict[Path, bytes] = {}
        #: seconds each request waits before its answer: an added round trip (0.05 models a
        #: registry 50 ms away; connections are kept alive, so only requests pay it)
        self.delay = delay
        self.stats = Stats()
        handler = self._handler()
        self.httpd = _Server(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in two writes: without TCP_NODELAY, Nagle holds the
            # body until the client's delayed ACK (~40 ms a request on loopback, measured)
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

            def _send(
                self, status: int, body: bytes, head_only: bool = False, encoding: str = ""
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if encoding:
                    self.send_header("Content-Encoding", encoding)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head_only:
                    self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                if server.delay:
                    time.sleep(server.delay)
                self._serve(head_only=False)

            def do_HEAD(self) -> None:  # noqa: N802
                self._serve(head_only=True)

            def do_POST(self) -> None:  # noqa: N802
                if server.delay:
                    time.sleep(server.delay)
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                bulk = urlsplit(self.path).path.rstrip("/").endswith(BULK_PATH)
                with server.stats.lock:
                    server.stats.requests += 1
                    server.stats.posts += 1
                    if not bulk:
                        server.stats.misses += 1
                        server.stats.missed_names.add(f"POST {self.path}")
                self._send(200 if bulk else 404, b"{}" if bulk else b'{"error":"Not found"}')

            def _serve(self, head_only: bool) -> None:
                if urlsplit(self.path).path.rstrip("/") == GITHUB_ADVISORIES:
                    with server.stats.lock:
                        server.stats.requests += 1
                        server.stats.github += 1
                    self._send(200, b"[]", head_only)
                    return
                name = name_from_path(self.path)
                path = packument_path(name, server.root) if name else None
                stats = server.stats
                if path is not None and path.is_file():
                    encoding = ""
                    if server.compress and "gzip" in self.headers.get("Accept-Encoding", ""):
                        body, encoding = server.gzipped(path), "gzip"
                    else:
                        body = path.read_bytes()
                    with stats.lock:
                        stats.requests += 1
                        stats.hits += 1
                        stats.bytes_sent += 0 if head_only else len(body)
                    self._send(200, body, head_only, encoding)
                    return
                with stats.lock:
                    stats.requests += 1
                    stats.misses += 1
                    stats.missed_names.add(name or self.path)
                self._send(404, b'{"error":"Not found"}', head_only)

        return Handler

    def gzipped(self, path: Path) -> bytes:
        body = self.compressed.get(path)
        if body is None:
            body = self.compressed[path] = gzip.compress(path.read_bytes(), compresslevel=6)
        return body

    def start(self) -> ReplayServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--root", type=Path, default=PACKUMENTS)
    parser.add_argument("--delay-ms", type=float, default=0.0, help="added per request")
    parser.add_argument("--gzip", action="store_true", help="gzip for clients that accept it")
    args = parser.parse_args()
    server = ReplayServer(args.root, args.port, args.delay_ms / 1000, args.gzip).start()
    print(f"replaying {args.root} at {server.url} (Ctrl-C stops)", flush=True)
    try:
        server.thread.join()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
