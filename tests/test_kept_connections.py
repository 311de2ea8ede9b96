"""depaudit.http_bulk.fetch_one keeps a session's connection for its next request (GitHub's
calls one after another, the advisories' POST), against real loopback servers, plain and TLS,
that count the connections made to them."""

from __future__ import annotations

import os
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from conftest import loopback_tls
from depaudit.connections import kept_connections
from depaudit.github_client import GitHubClient
from depaudit.http import Fetched, build_session
from depaudit.http_bulk import Job, fetch_one
from depaudit.transport import plain_session

SESSIONS: dict[str, Callable[[], Any]] = {
    "requests' session": lambda: build_session(1, retries=0),
    "plain session": lambda: plain_session(1, retries=0),
}


@dataclass
class Counted:
    """A loopback HTTP/1.1 server that keeps its connections unless told to drop them: its
    URL, and how many connections it accepted and saw end."""

    url: str
    accepted: int = 0
    ended: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    #: close each connection after its answer without saying so (as an idle timeout would)
    drop: bool = False
    #: every request waits here before it is answered (two must be in flight at once)
    barrier: threading.Barrier | None = None


def _handler(counted: Counted) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = b"got " + self.command.encode() + b" " + self.rfile.read(length)
            if counted.barrier is not None:
                counted.barrier.wait(timeout=10)
            # one write: headers and body in one segment (two would wait on the client's
            # delayed ACK on a kept connection)
            self.wfile.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            if counted.drop:
                self.close_connection = True

        do_GET = do_POST = _answer

        def finish(self) -> None:
            super().finish()
            counted.ended.release()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    return Handler


def _serve(counted: Counted, context: ssl.SSLContext | None) -> ThreadingHTTPServer:
    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def get_request(self) -> tuple[socket.socket, Any]:
            sock, address = super().get_request()
            counted.accepted += 1
            if context is not None:
                sock = context.wrap_socket(sock, server_side=True)
            return sock, address

    server = Server(("127.0.0.1", 0), _handler(counted))
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


@pytest.fixture(params=["http", "https"])
def counted(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Counted]:
    context = None
    if request.param == "https":
        context, bundle = loopback_tls(tmp_path)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
        monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    counted = Counted("")
    server = _serve(counted, context)
    counted.url = f"{request.param}://127.0.0.1:{server.server_address[1]}/x"
    yield counted
    server.shutdown()
    server.server_close()


def _get(session: Any, url: str, tag: object = None) -> Fetched:
    got = fetch_one(session, Job(tag, url))
    assert isinstance(got, Fetched), got
    return got


@pytest.mark.parametrize("make", SESSIONS.values(), ids=SESSIONS.keys())
def test_a_sessions_requests_one_after_another_share_one_connection(
    counted: Counted, make: Callable[[], Any]
) -> None:
    session = make()
    for i in range(5):
        got = _get(session, counted.url, i)
        assert got.status == 200 and got.body == b"got GET "
    posted = fetch_one(session, Job(None, counted.url, {}, b'{"a": 1}'))
    assert isinstance(posted, Fetched) and posted.body == b'got POST {"a": 1}'
    assert counted.accepted == 1  # one TCP (and TLS) handshake for the six
    _get(make(), counted.url)  # another session: a connection of its own
    assert counted.accepted == 2
    session.close()


def test_closing_the_session_ends_its_connection_and_a_later_request_makes_a_new_one(
    counted: Counted,
) -> None:
    session = build_session(1, retries=0)
    _get(session, counted.url)
    _get(session, counted.url)
    assert counted.accepted == 1
    session.close()
    assert counted.ended.acquire(timeout=10)  # the server saw it end
    assert _get(session, counted.url).body == b"got GET "
    assert counted.accepted == 2
    session.close()


def test_a_connection_the_server_dropped_is_replaced_without_a_failure(counted: Counted) -> None:
    """A kept connection the server has closed since (an idle timeout) is not reused: each
    request still gets its answer."""
    counted.drop = True
    session = build_session(1, retries=0)
    for i in range(3):
        assert _get(session, counted.url, i).body == b"got GET "
    assert counted.accepted == 3
    session.close()


def test_requests_of_two_threads_at_once_each_have_a_connection(counted: Counted) -> None:
    """libcurl does not share a connection between two threads' transfers at once: the second
    request does not wait for the first to hand the kept connections back, it has one of its
    own (the server answers neither until both are in)."""
    counted.barrier = threading.Barrier(2)
    session = build_session(1, retries=0)
    answers: list[object] = []

    def one() -> None:
        answers.append(fetch_one(session, Job(None, counted.url)))

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(answers) == 2
    assert all(isinstance(a, Fetched) and a.body == b"got GET " for a in answers)
    assert counted.accepted == 2
    counted.barrier = None
    _get(session, counted.url)  # and the kept one serves the next
    assert counted.accepted == 2
    session.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_forked_process_never_uses_the_connections_its_parent_kept(counted: Counted) -> None:
    """A fetch worker is forked from the scan: its copy of a session must not send on the
    sockets its parent keeps. The child makes a connection of its own; the parent's is
    intact and still kept."""
    session = build_session(1, retries=0)
    _get(session, counted.url)
    parent_share = kept_connections(session)
    assert counted.accepted == 1 and parent_share is not None
    pid = os.fork()
    if pid == 0:  # the child: one request, its answer told by the exit code
        code = 1
        try:
            got = fetch_one(session, Job(None, counted.url))
            mine = kept_connections(session)
            fresh = mine is not None and mine[0] is not parent_share[0]
            code = 0 if isinstance(got, Fetched) and got.body == b"got GET " and fresh else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert counted.accepted == 2  # the child's own
    assert _get(session, counted.url).body == b"got GET "
    assert counted.accepted == 2  # the parent's kept connection, reused after the fork
    assert kept_connections(session) == parent_share
    session.close()


def test_githubs_calls_one_after_another_share_one_connection(counted: Counted) -> None:
    """The GitHub client's calls go through ``fetch_one``: a scan's advisory pages and its
    repository checks make one connection, not one each."""
    api = counted.url.rsplit("/", 1)[0]
    client = GitHubClient("t0ken", api)
    try:
        for path in ("/a", "/b", "/c"):
            response = client.request("GET", path)
            assert response.status_code == 200
    finally:
        client.close()
    assert counted.accepted == 1
