"""depaudit.http_bulk: many GETs through libcurl that follow the session's settings, against
real loopback servers (plain and TLS)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from requests.structures import CaseInsensitiveDict
from werkzeug import Request, Response

from conftest import loopback_tls
from depaudit.failures import TransportError
from depaudit.http import (
    BodyTooLarge,
    BudgetSpent,
    Fetched,
    Pieces,
    build_session,
    describe_failure,
)
from depaudit.http_bulk import BulkFetcher, Job, _Transfer, fetch_one, get_one, origin_key


def _fetch_all(fetcher: BulkFetcher, jobs: list[Job], **kwargs: object) -> dict[object, object]:
    outcomes: dict[object, object] = {}
    fetcher.get_many(jobs, lambda job, got: outcomes.__setitem__(job.tag, got), **kwargs)  # type: ignore[arg-type]
    return outcomes


@pytest.fixture
def threaded_server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.mark.parametrize("multiplexed", [None, 12])
def test_no_more_than_parallel_transfers_at_once(
    threaded_server: HTTPServer, multiplexed: int | None
) -> None:
    """At most ``parallel`` at once; ``multiplexed`` is for HTTP/2 origins only: an HTTP/1.1
    transfer holds a connection, and more of them would queue inside libcurl, where the wait
    counts against the connect timeout."""
    httpserver = threaded_server
    lock = threading.Lock()
    now = [0]
    peak = [0]

    def slow(request: Request) -> Response:
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
        time.sleep(0.1)
        with lock:
            now[0] -= 1
        return Response(request.path.encode(), status=200)

    httpserver.expect_request("/slow").respond_with_handler(slow)
    fetcher = BulkFetcher(build_session(3, retries=0), 3, multiplexed)
    jobs = [Job(i, httpserver.url_for("/slow")) for i in range(10)]
    outcomes = _fetch_all(fetcher, jobs)
    assert sorted(outcomes) == list(range(10))
    assert all(getattr(o, "body", None) == b"/slow" for o in outcomes.values())
    assert peak[0] == 3  # 3 at once (the server's threads would take all 10)
    assert not fetcher.multiplexing  # it answered over HTTP/1.1


def test_jobs_are_drawn_lazily_and_admit_holds_new_ones(httpserver: HTTPServer) -> None:
    """A job is taken from the iterator only when a slot is free and ``admit()`` allows it:
    the caller decides about each one as late as possible."""
    httpserver.expect_request("/x").respond_with_data(b"{}")
    drawn: list[int] = []
    answered: list[int] = []
    gate = {"open": True}

    def jobs() -> Iterator[Job]:
        for i in range(4):
            drawn.append(i)
            if i == 1:
                gate["open"] = False  # like a full BodyGate: nothing new starts for now
            yield Job(i, httpserver.url_for("/x"))

    def done(job: Job, got: object) -> None:
        answered.append(job.tag)
        assert len(drawn) <= len(answered) + 1  # one slot: never drawn far ahead
        gate["open"] = True

    BulkFetcher(build_session(1, retries=0), 1).get_many(jobs(), done, lambda _: gate["open"])
    assert answered == [0, 1, 2, 3]


class _KeptAlive(BaseHTTPRequestHandler):
    """An HTTP/1.1 server that keeps its connections (werkzeug's test server closes each one,
    so every request there needs a new connection); it counts the requests that reach it."""

    protocol_version = "HTTP/1.1"
    arrived = threading.Semaphore(0)

    def do_GET(self) -> None:  # noqa: N802
        type(self).arrived.release()
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b"x" * 1000)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


def test_a_slot_is_refilled_and_its_request_sent_before_the_answer_is_handed_over() -> None:
    """On a kept-alive connection the next request goes out before ``done`` runs for the
    answer that freed its slot (the answers' Python no longer delays the requests behind
    them), and ``admit`` is told the bytes of the answers not handed over yet, so a gate on
    them still counts them."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _KeptAlive)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/x"
    arrived = _KeptAlive.arrived = threading.Semaphore(0)
    sent_before: list[bool] = []
    pending: list[int] = []

    def admit(waiting: int) -> bool:
        pending.append(waiting)
        return True

    def done(job: Job, got: object) -> None:
        assert isinstance(got, Fetched) and len(got.body) == 1000
        if job.tag == 0:
            assert arrived.acquire(timeout=5)  # its own request
        # the next request reaches the server while this answer waits here: the loop's one
        # thread is in this call, so it had been sent before
        sent_before.append(job.tag == 2 or arrived.acquire(timeout=5))

    try:
        jobs = [Job(i, url) for i in range(3)]
        BulkFetcher(build_session(1, retries=0), 1).get_many(jobs, done, admit)
    finally:
        server.shutdown()
        server.server_close()
    assert sent_before == [True, True, True]
    assert pending[0] == 0 and 1000 in pending  # then with an answer not handed over yet


@pytest.mark.parametrize("status", [200, 404, 429, 500])
def test_a_failure_is_handed_over_before_its_slot_is_refilled(
    httpserver: HTTPServer, status: int
) -> None:
    """An answer with a body waits for its slot's refill; a failure (a status from 400 on)
    goes to ``done`` before the next job is drawn, so the caller can stop asking on it (the
    registry's rule for a host that keeps answering 429)."""
    httpserver.expect_request("/x").respond_with_data(b"{}", status=status)
    drawn: list[int] = []
    drawn_at_done: list[int] = []

    def jobs() -> Iterator[Job]:
        for i in range(3):
            drawn.append(i)
            yield Job(i, httpserver.url_for("/x"))

    def done(job: Job, got: object) -> None:
        assert isinstance(got, Fetched) and got.status == status
        drawn_at_done.append(len(drawn))

    BulkFetcher(build_session(1, retries=0), 1).get_many(jobs(), done)
    assert drawn_at_done == ([2, 3, 3] if status < 400 else [1, 2, 3])


def test_headers_user_agent_and_decoded_gzip(httpserver: HTTPServer) -> None:
    import gzip

    seen: list[dict[str, str]] = []

    def handler(request: Request) -> Response:
        seen.append(dict(request.headers))
        body = gzip.compress(b'{"name": "ms"}')
        return Response(body, headers={"Content-Encoding": "gzip", "ETag": '"abc"'})

    httpserver.expect_request("/ms").respond_with_handler(handler)
    session = build_session(2, retries=0, user_agent="depaudit/test")
    got = get_one(session, httpserver.url_for("/ms"), {"Accept": "application/json"})
    assert got.status == 200 and got.body == b'{"name": "ms"}'
    assert got.headers["etag"] == '"abc"'  # case-insensitive, as requests' headers
    (headers,) = seen
    assert headers["User-Agent"] == "depaudit/test"
    assert headers["Accept"] == "application/json"
    assert "gzip" in headers["Accept-Encoding"]


def test_without_inflating_the_body_comes_as_sent(httpserver: HTTPServer) -> None:
    """``inflate=False`` (the registry's fetch): gzip is asked for and the body handed over
    as sent, with its Content-Encoding, for the decoder to inflate under the cap."""
    import gzip

    seen: list[str] = []
    sent = gzip.compress(b'{"name": "ms"}')

    def handler(request: Request) -> Response:
        seen.append(request.headers.get("Accept-Encoding", ""))
        return Response(sent, headers={"Content-Encoding": "gzip"})

    httpserver.expect_request("/ms").respond_with_handler(handler)
    fetcher = BulkFetcher(build_session(2, retries=0), 2, inflate=False)
    outcomes = _fetch_all(fetcher, [Job(0, httpserver.url_for("/ms"))])
    got = outcomes[0]
    assert getattr(got, "body", None) == sent
    assert getattr(got, "headers", {})["content-encoding"] == "gzip"
    assert seen == ["gzip"]


@pytest.mark.parametrize("inflate", [True, False])
@pytest.mark.parametrize("whole", [True, False])
def test_a_body_in_many_chunks_is_joined_unless_pieces_are_asked_for(
    httpserver: HTTPServer, whole: bool, inflate: bool
) -> None:
    """``whole=False`` (the registry's fetch): a body that came in more than one chunk is
    handed over as its :class:`Pieces`, the bytes as sent in order; a body of one chunk, and
    every body by default, as ``bytes``; the chunks kept by a Python call each
    (``inflate=True``) or by libcurl appending them (``inflate=False``) alike."""
    big = bytes(range(256)) * 12_000  # 3 MB: libcurl hands it over in many writes
    sent = [big[i : i + 50_000] for i in range(0, len(big), 50_000)]
    httpserver.expect_request("/big").respond_with_handler(lambda _: Response(iter(sent)))
    httpserver.expect_request("/small").respond_with_data(b"{}")
    fetcher = BulkFetcher(build_session(2, retries=0), 2, whole=whole, inflate=inflate)
    jobs = [Job("big", httpserver.url_for("/big")), Job("small", httpserver.url_for("/small"))]
    outcomes = _fetch_all(fetcher, jobs)
    body = getattr(outcomes["big"], "body", None)
    if whole:
        assert type(body) is bytes and body == big
    else:
        assert isinstance(body, Pieces) and len(body.chunks) > 1
        assert len(body) == len(big) and bytes(body) == big
    assert getattr(outcomes["small"], "body", None) == b"{}"


def test_pieces_are_the_chunks_joined() -> None:
    pieces = Pieces([b"ab", b"", b"cde"])
    assert (len(pieces), bytes(pieces), pieces.chunks) == (5, b"abcde", (b"ab", b"", b"cde"))
    assert repr(pieces) == "Pieces(3 chunks, 5 bytes)"


def test_no_proxy_hosts_are_reached_directly(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request("/ms").respond_with_data(b"direct")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    assert get_one(build_session(2, retries=0), httpserver.url_for("/ms")).body == b"direct"


def test_a_redirect_to_another_scheme_is_refused(httpserver: HTTPServer, tmp_path: Path) -> None:
    """Only http and https: a registry's redirect can never make depaudit read a file."""
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read")
    httpserver.expect_request("/pkg").respond_with_response(
        Response(status=302, headers={"Location": secret.as_uri()})
    )
    outcomes = _fetch_all(
        BulkFetcher(build_session(2, retries=0), 2), [Job("pkg", httpserver.url_for("/pkg"))]
    )
    got = outcomes["pkg"]
    assert isinstance(got, TransportError) and got.description == "could not connect", got


def test_the_cap_applies_to_decoded_bytes_and_the_budget_counts_them(
    httpserver: HTTPServer,
) -> None:
    import gzip

    bomb = gzip.compress(b"0" * (8 * 1024 * 1024))
    httpserver.expect_request("/bomb").respond_with_data(bomb, headers={"Content-Encoding": "gzip"})
    session = build_session(2, retries=0, max_body=1024 * 1024)
    with pytest.raises(BodyTooLarge, match="exceeds 1048576 bytes"):
        get_one(session, httpserver.url_for("/bomb"))
    assert 1024 * 1024 <= session.budget.used <= 2 * 1024 * 1024  # stopped near the cap


def _streamed(size: int, piece: int = 64 * 1024, pause: float = 0.0) -> Response:
    """``size`` bytes in pieces of ``piece``, sent without a length (chunked), ``pause``
    seconds apart."""

    def pieces() -> Iterator[bytes]:
        for start in range(0, size, piece):
            if pause and start:
                time.sleep(pause)
            yield b"x" * min(piece, size - start)

    return Response(pieces(), headers={"Content-Type": "application/json"})


def test_without_inflating_the_budget_counts_every_byte_as_sent(httpserver: HTTPServer) -> None:
    """The bodies kept as sent (counted after each round, not per chunk): the run's budget
    is charged exactly their bytes, each body whole."""
    sizes = {"a": 700_000, "b": 1_300_000, "c": 5}
    for name, size in sizes.items():
        httpserver.expect_request(f"/{name}").respond_with_handler(
            lambda _, size=size: _streamed(size)
        )
    session = build_session(2, retries=0)
    fetcher = BulkFetcher(session, 2, inflate=False)
    outcomes = _fetch_all(fetcher, [Job(n, httpserver.url_for(f"/{n}")) for n in sizes])
    assert {n: len(getattr(outcomes[n], "body", b"")) for n in sizes} == sizes
    assert session.budget.used == sum(sizes.values())


def test_without_inflating_a_body_without_its_length_stops_at_the_cap(
    httpserver: HTTPServer,
) -> None:
    """Sent chunked, with no length to refuse it by: it ends as BodyTooLarge near the cap,
    and the other transfer is answered."""
    httpserver.expect_request("/huge").respond_with_handler(lambda _: _streamed(8 * 1024 * 1024))
    httpserver.expect_request("/ms").respond_with_data(b'{"name": "ms"}')
    session = build_session(2, retries=0, max_body=1024 * 1024)
    fetcher = BulkFetcher(session, 2, inflate=False)
    outcomes = _fetch_all(
        fetcher, [Job("huge", httpserver.url_for("/huge")), Job("ms", httpserver.url_for("/ms"))]
    )
    assert isinstance(outcomes["huge"], BodyTooLarge), outcomes["huge"]
    assert "exceeds 1048576 bytes" in str(outcomes["huge"])
    assert getattr(outcomes["ms"], "body", None) == b'{"name": "ms"}'
    assert session.budget.used < 4 * 1024 * 1024  # stopped well before the body's end


def test_without_inflating_the_cap_holds_where_libcurl_would_not_stop_the_body(
    httpserver: HTTPServer,
) -> None:
    """libcurl before 8.4 stops only a body that declares a length over its cap: without
    that, a body sent chunked is still ended near the cap, by the count after each round."""
    import pycurl

    httpserver.expect_request("/huge").respond_with_handler(lambda _: _streamed(8 * 1024 * 1024))
    session = build_session(2, retries=0, max_body=1024 * 1024)
    fetcher = BulkFetcher(session, 2, inflate=False)
    fetcher._fixed = [(o, v) for o, v in fetcher._fixed if o != pycurl.MAXFILESIZE_LARGE]
    outcomes = _fetch_all(fetcher, [Job("huge", httpserver.url_for("/huge"))])
    assert isinstance(outcomes["huge"], BodyTooLarge), outcomes["huge"]
    assert str(outcomes["huge"]).endswith("body exceeds 1048576 bytes")
    assert session.budget.used < 4 * 1024 * 1024


def test_without_inflating_a_spent_response_budget_ends_the_transfers(
    threaded_server: HTTPServer,
) -> None:
    """The run's response budget spent by bodies kept as sent: the transfers under way end
    with BudgetSpent, those not started yet too, and no more than a round's bytes past it."""
    httpserver = threaded_server
    for name in "abcd":
        httpserver.expect_request(f"/{name}").respond_with_handler(
            lambda _: _streamed(2 * 1024 * 1024, pause=0.01)
        )
    session = build_session(2, retries=0, response_bytes=1024 * 1024)
    fetcher = BulkFetcher(session, 2, inflate=False)
    outcomes = _fetch_all(fetcher, [Job(n, httpserver.url_for(f"/{n}")) for n in "abcd"])
    assert sorted(outcomes) == list("abcd")
    assert all(isinstance(got, BudgetSpent) for got in outcomes.values()), outcomes
    assert session.budget.used < 3 * 1024 * 1024


@pytest.mark.parametrize("inflate", [True, False])
def test_a_body_that_keeps_coming_is_not_idle_and_one_that_stops_times_out(
    threaded_server: HTTPServer, inflate: bool
) -> None:
    """The read timeout is the longest wait for a byte: a body arriving in pieces 0.1 s
    apart for ~1 s is not cut at 0.4 s, kept in C or not; one that stops half-way is."""
    httpserver = threaded_server

    def stalls(_: Request) -> Response:
        def pieces() -> Iterator[bytes]:
            yield b"x" * 1000
            time.sleep(1.5)
            yield b"y"

        return Response(pieces())

    httpserver.expect_request("/steady").respond_with_handler(
        lambda _: _streamed(10_000, piece=1000, pause=0.1)
    )
    httpserver.expect_request("/stalls").respond_with_handler(stalls)
    fetcher = BulkFetcher(build_session(2, retries=0, read_timeout=0.4), 2, inflate=inflate)
    outcomes = _fetch_all(
        fetcher,
        [
            Job("steady", httpserver.url_for("/steady")),
            Job("stalls", httpserver.url_for("/stalls")),
        ],
    )
    assert getattr(outcomes["steady"], "body", None) == b"x" * 10_000
    stalled = outcomes["stalls"]
    assert isinstance(stalled, TransportError) and stalled.description == "timed out", stalled


def test_a_connected_server_that_says_nothing_times_out(threaded_server: HTTPServer) -> None:
    httpserver = threaded_server  # its own server: the shared one's log stays clean

    def mute(request: Request) -> Response:
        time.sleep(1.5)
        return Response(b"{}")

    httpserver.expect_request("/mute").respond_with_handler(mute)
    session = build_session(2, retries=0, read_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(TransportError, match="^timed out$") as raised:
        get_one(session, httpserver.url_for("/mute"))
    assert time.monotonic() - started < 1.4
    assert describe_failure(raised.value) == "timed out"


# -- TLS: the CA bundle of the environment, as requests reads it ------------------------------


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[HTTPServer, Path]]:
    server_context, bundle = loopback_tls(tmp_path)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=server_context)
    server.start()
    server.expect_request("/ms").respond_with_data(b'{"name": "ms"}')
    yield server, bundle
    server.clear()
    if server.is_running():
        server.stop()


def test_tls_uses_the_ca_bundle_of_the_environment(
    tls_server: tuple[HTTPServer, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, bundle = tls_server
    url = server.url_for("/ms")
    assert url.startswith("https://")
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with pytest.raises(TransportError, match="^TLS error$") as raised:  # certifi's CAs: not trusted
        get_one(build_session(2, retries=0), url)
    assert describe_failure(raised.value) == "TLS error"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    got = get_one(build_session(2, retries=0), url)
    assert got.status == 200 and got.body == b'{"name": "ms"}'


def test_a_redirect_loop_ends_after_the_session_limit(httpserver: HTTPServer) -> None:
    from depaudit.http import MAX_REDIRECTS

    httpserver.expect_request("/loop").respond_with_response(
        Response(status=302, headers={"Location": "/loop"})
    )
    with pytest.raises(TransportError, match="^TooManyRedirects$"):
        get_one(build_session(2, retries=0), httpserver.url_for("/loop"))
    assert len([r for r, _ in httpserver.log if r.path == "/loop"]) == MAX_REDIRECTS + 1


def test_a_server_that_closes_before_answering_is_retried(httpserver: HTTPServer) -> None:
    """A connection closed before any answer is a read error, retried as urllib3 did (the
    session's ``read`` count); an error after the answer began is not."""
    import socket

    calls: list[int] = []

    def flaky(request: Request) -> Response:
        calls.append(1)
        if len(calls) == 1:  # shut the socket under werkzeug: the client hears nothing
            sock = socket.fromfd(
                request.environ["werkzeug.socket"].fileno(), socket.AF_INET, socket.SOCK_STREAM
            )
            sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        return Response(b"{}")

    httpserver.expect_request("/flaky").respond_with_handler(flaky)
    got = get_one(build_session(2, retries=2, backoff_factor=0), httpserver.url_for("/flaky"))
    assert got.status == 200 and got.body == b"{}"
    assert len(calls) == 2


def test_started_is_said_once_when_the_first_requests_are_out(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/x").respond_with_data(b"{}")
    calls: list[int] = []
    fetcher = BulkFetcher(build_session(2, retries=0), 2)
    jobs = [Job(i, httpserver.url_for("/x")) for i in range(5)]
    outcomes = _fetch_all(fetcher, jobs, started=lambda: calls.append(len(httpserver.log)))
    assert len(outcomes) == 5 and calls and len(calls) == 1
    nothing: list[int] = []
    BulkFetcher(build_session(2, retries=0), 2).get_many(
        [], lambda job, got: None, started=lambda: nothing.append(1)
    )
    assert nothing == []  # no request, nothing under way


# -- HTTP/2: more streams in flight, once an origin answers over it ----------------------


@pytest.fixture
def h2_server(tmp_path: Path) -> Iterator[tuple[str, Path, list[int]]]:
    """A real HTTP/2 server on loopback (hypercorn, TLS with ALPN), whose answers take 0.1 s:
    its URL, the CA bundle that trusts it, and the most requests it had in flight at once."""
    import asyncio
    import socket

    trustme = pytest.importorskip("trustme")
    pytest.importorskip("hypercorn")
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    certfile, keyfile, bundle = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    cert.cert_chain_pems[0].write_to_path(str(certfile))
    for extra in cert.cert_chain_pems[1:]:
        extra.write_to_path(str(certfile), append=True)
    cert.private_key_pem.write_to_path(str(keyfile))
    ca.cert_pem.write_to_path(str(bundle))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)  # connections wait in the backlog until hypercorn accepts them
    port = sock.getsockname()[1]
    in_flight, peak = [0], [0]
    seen: set[str] = set()

    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        if scope["type"] != "http":
            return
        assert scope["http_version"] == "2"
        in_flight[0] += 1
        peak[0] = max(peak[0], in_flight[0])
        await asyncio.sleep(0.1)
        in_flight[0] -= 1
        path = str(scope["path"])
        status, body = 200, path.encode()
        if path.startswith("/flaky/") and path not in seen:  # 503 the first time
            seen.add(path)
            status, body = 503, b"busy"
        await send({"type": "http.response.start", "status": status, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": body})  # type: ignore[operator]

    config = Config()
    config.bind = [f"fd://{sock.fileno()}"]
    config.certfile, config.keyfile = str(certfile), str(keyfile)
    config.accesslog = config.errorlog = None
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    ready = threading.Event()

    async def main() -> None:
        ready.set()
        await serve(app, config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    ready.wait(5)
    yield f"https://127.0.0.1:{port}", bundle, peak
    loop.call_soon_threadsafe(stop.set)
    thread.join(5)
    loop.close()
    sock.detach()  # hypercorn closed the descriptor it was given


def test_an_http2_origin_gets_more_streams_in_flight(
    h2_server: tuple[str, Path, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, bundle, peak = h2_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    fetcher = BulkFetcher(build_session(2, retries=0), 2, 8)
    outcomes = _fetch_all(fetcher, [Job(i, f"{url}/n/{i}") for i in range(40)])
    assert {tag: getattr(got, "body", got) for tag, got in outcomes.items()} == {
        i: f"/n/{i}".encode() for i in range(40)
    }
    assert fetcher.multiplexing == {("https", url.removeprefix("https://"))}
    assert 2 < peak[0] <= 8  # 2 until it answered over HTTP/2, then up to 8 streams


def test_retries_over_http2_keep_the_streams_counted(
    h2_server: tuple[str, Path, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every first answer is a 503, retried: a retried transfer leaves its origin's count and
    comes back into it, so the fetch neither stalls nor goes past ``multiplexed``."""
    url, bundle, peak = h2_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    fetcher = BulkFetcher(build_session(2, retries=2), 2, 6)
    outcomes = _fetch_all(fetcher, [Job(i, f"{url}/flaky/{i}") for i in range(24)])
    assert {
        tag: (getattr(got, "status", got), getattr(got, "body", None))
        for tag, got in outcomes.items()
    } == {i: (200, f"/flaky/{i}".encode()) for i in range(24)}
    assert fetcher.multiplexing and 2 < peak[0] <= 6
    assert not any(fetcher._in_flight.values())  # every transfer left its count


# -- the per-transfer work: origins, request headers, response headers -------------------


@given(
    st.one_of(
        st.text(max_size=40),
        st.from_regex(
            r"(?i)(https?|ftp)?:?//[a-z0-9.\[\]:@%-]{0,20}([/?#][ -~]{0,20})?", fullmatch=True
        ),
    )
)
def test_an_origin_is_what_urlsplit_says(url: str) -> None:
    def expected() -> tuple[str, str]:
        parts = urlsplit(url)
        return parts.scheme.lower(), parts.netloc.lower()

    try:
        wanted: tuple[str, str] | type[Exception] = expected()
    except ValueError:
        wanted = ValueError
    try:
        got: tuple[str, str] | type[Exception] = origin_key(url)
    except ValueError:
        got = ValueError
    assert got == wanted


_NAMES = st.sampled_from(["ETag", "etag", "Content-Type", "Set-Cookie", "set-cookie", "X-A"])
_VALUES = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=12)
_LINES = st.lists(
    st.one_of(
        st.tuples(_NAMES, _VALUES).map(lambda nv: f"{nv[0]}: {nv[1]}\r\n"),
        st.sampled_from(["HTTP/1.1 200 OK\r\n", "HTTP/2 404 \r\n", "HTTP/1.1 x\r\n", "\r\n"]),
    ),
    max_size=12,
)


@given(_LINES)
def test_response_headers_read_as_requests_would_keep_them(lines: list[str]) -> None:
    """The header lines read when the transfer ends give what reading them one by one into
    requests' CaseInsensitiveDict gave: the last response's status and headers, a repeated
    header joined with ", ", any case of a name finding it."""
    status, headers = 0, CaseInsensitiveDict[str]()
    for text in (line.rstrip("\r\n") for line in lines):
        if text.startswith("HTTP/"):
            parts = text.split(None, 2)
            status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
            headers = CaseInsensitiveDict()
        elif ":" in text:
            name, _, value = text.partition(":")
            known = headers.get(name.strip())
            joined = f"{known}, {value.strip()}" if known is not None else value.strip()
            headers[name.strip()] = joined
    transfer = _Transfer(Job(None, "http://h/"), "http://h/", None)  # type: ignore[arg-type]
    for line in lines:
        transfer.header(line.encode("latin-1"))
    read = transfer.read()
    assert transfer.status == status
    assert dict(read.items()) == dict(headers.items())
    for name in ("etag", "ETAG", "Set-Cookie", "x-a"):
        assert read.get(name) == headers.get(name)
        assert read.get(name, "-") == headers.get(name, "-")
        assert (name in read) == (name in headers)


def test_each_request_keeps_its_own_headers_and_credential_in_one_fetch(
    httpserver: HTTPServer,
) -> None:
    """Request headers are built once per kind of request: jobs with their own headers, a
    credential scoped to one path, a job's own Authorization, and redirects (which drop
    both the job's Authorization and a credential out of its scope) each still send
    exactly theirs."""
    seen: list[tuple[str, str | None, str | None]] = []

    def handler(request: Request) -> Response:
        seen.append(
            (request.path, request.headers.get("X-Job"), request.headers.get("Authorization"))
        )
        if request.path.endswith("/moved"):
            return Response(status=302, headers={"Location": "/b/target"})
        return Response(b"{}")

    for path in ("/a/1", "/b/2", "/a/3", "/b/4", "/a/moved", "/b/moved", "/b/target"):
        httpserver.expect_request(path).respond_with_handler(handler)
    session = build_session(2, lambda url: "Bearer only-a" if "/a/" in url else None, retries=0)
    own = {"Authorization": "Bearer job"}
    jobs = [
        Job(1, httpserver.url_for("/a/1"), {"X-Job": "one"}),
        Job(2, httpserver.url_for("/b/2"), {"X-Job": "one"}),
        Job(3, httpserver.url_for("/a/3"), {"X-Job": "three"}),
        Job(4, httpserver.url_for("/b/4"), {}),
        Job(5, httpserver.url_for("/a/moved"), {"X-Job": "one"}),
        Job(6, httpserver.url_for("/b/4"), own),
        Job(7, httpserver.url_for("/b/moved"), own),
    ]
    assert len(_fetch_all(BulkFetcher(session, 1), jobs)) == 7
    assert seen == [
        ("/a/1", "one", "Bearer only-a"),
        ("/b/2", "one", None),
        ("/a/3", "three", "Bearer only-a"),
        ("/b/4", None, None),
        ("/a/moved", "one", "Bearer only-a"),
        ("/b/target", "one", None),
        ("/b/4", None, "Bearer job"),
        ("/b/moved", None, "Bearer job"),
        ("/b/target", None, None),
    ]


def test_requests_of_their_own_kind_are_not_kept_past_the_bound(httpserver: HTTPServer) -> None:
    """A revalidation gives every request its own If-None-Match: each still sends its own,
    and the header lines kept for reuse stay bounded."""
    from depaudit.http_bulk import HEADER_KINDS

    seen: dict[str, str | None] = {}

    def handler(request: Request) -> Response:
        seen[request.path] = request.headers.get("If-None-Match")
        return Response(status=304)

    for i in range(HEADER_KINDS + 40):
        httpserver.expect_request(f"/p{i}").respond_with_handler(handler)
    fetcher = BulkFetcher(build_session(8, retries=0), 8)
    jobs = [
        Job(i, httpserver.url_for(f"/p{i}"), {"If-None-Match": f'"etag-{i}"'})
        for i in range(HEADER_KINDS + 40)
    ]
    assert len(_fetch_all(fetcher, jobs)) == HEADER_KINDS + 40
    assert seen == {f"/p{i}": f'"etag-{i}"' for i in range(HEADER_KINDS + 40)}
    assert len(fetcher._header_lines) == HEADER_KINDS


def _seen(server: HTTPServer) -> list[tuple[str, str, bytes, str | None, str | None]]:
    """Each request the server saw: method, path, body, Content-Type, Expect."""
    return [
        (r.method, r.path, r.get_data(), r.headers.get("Content-Type"), r.headers.get("Expect"))
        for r, _ in server.log
    ]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_post_follows_a_redirect_as_requests_does(httpserver: HTTPServer, status: int) -> None:
    """A POST answered by a redirect goes on as requests' session sends it: a GET without
    its body and Content-Type after 301, 302 and 303, the same POST after 307 and 308; and
    without libcurl's ``Expect`` (a body over 1 MiB)."""
    httpserver.expect_request("/post").respond_with_response(
        Response(status=status, headers={"Location": "/target"})
    )
    httpserver.expect_request("/target").respond_with_data(b"done")
    body = b"x" * (1024 * 1024 + 10)
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    answer = requests.Session().post(httpserver.url_for("/post"), data=body, headers=headers)
    assert answer.status_code == 200
    by_requests = _seen(httpserver)
    httpserver.clear_log()

    outcome = fetch_one(
        build_session(2, retries=0), Job(None, httpserver.url_for("/post"), headers, body)
    )
    assert isinstance(outcome, Fetched) and outcome.status == 200 and outcome.body == b"done"
    assert _seen(httpserver) == by_requests
    assert by_requests[1][0] == ("GET" if status < 307 else "POST")


def test_a_post_sends_no_form_content_type_of_its_own(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/post", method="POST").respond_with_data(b"ok")
    outcome = fetch_one(
        build_session(2, retries=0), Job(None, httpserver.url_for("/post"), {}, b"a=1")
    )
    assert isinstance(outcome, Fetched) and outcome.status == 200
    assert _seen(httpserver) == [("POST", "/post", b"a=1", None, None)]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_post_is_not_retried_on_a_status_nor_a_read_error(
    httpserver: HTTPServer, method: str
) -> None:
    """urllib3 retries a status or a broken connection for the session's allowed methods
    only (GET, HEAD): a POST is sent once; a GET is retried."""
    httpserver.expect_request("/busy").respond_with_data(b"busy", status=503)
    session = build_session(2, retries=2, backoff_factor=0)
    data = b"{}" if method == "POST" else None
    outcome = fetch_one(session, Job(None, httpserver.url_for("/busy"), {}, data))
    assert isinstance(outcome, Fetched) and outcome.status == 503
    assert [r.method for r, _ in httpserver.log] == [method] * (1 if data else 3)


def test_a_post_is_retried_when_it_could_not_connect() -> None:
    """A failure to connect sent nothing: retried whatever the method (the connect count)."""
    import socket

    with socket.socket() as sock:  # a port with nobody listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    tries: list[float] = []
    session = build_session(2, retries=2, backoff_factor=0)
    fetcher = BulkFetcher(session, 1)
    real = fetcher._retry_delay

    def counted(transfer: _Transfer, kind: str) -> float | None:
        delay = real(transfer, kind)
        tries.append(-1.0 if delay is None else delay)
        return delay

    fetcher._retry_delay = counted  # type: ignore[method-assign]
    outcome: list[object] = []
    fetcher.get_many(
        [Job(None, f"http://127.0.0.1:{port}/x", {}, b"{}")], lambda _, o: outcome.append(o)
    )
    assert isinstance(outcome[0], TransportError) and outcome[0].connection
    assert tries == [0.0, 0.0, -1.0]


@pytest.mark.parametrize(
    ("code", "answered", "by_requests"),
    [
        ("E_OPERATION_TIMEDOUT", False, requests.exceptions.ConnectTimeout("x")),
        ("E_OPERATION_TIMEDOUT", True, requests.exceptions.ReadTimeout("x")),
        ("E_BAD_CONTENT_ENCODING", True, requests.exceptions.ContentDecodingError("x")),
        ("E_SSL_CONNECT_ERROR", False, requests.exceptions.SSLError("x")),
        ("E_PEER_FAILED_VERIFICATION", False, requests.exceptions.SSLError("x")),
        ("E_PARTIAL_FILE", True, requests.exceptions.ChunkedEncodingError("x")),
        ("E_RECV_ERROR", True, requests.exceptions.ChunkedEncodingError("x")),
        ("E_RECV_ERROR", False, requests.exceptions.ConnectionError("x")),
        ("E_COULDNT_CONNECT", False, requests.exceptions.ConnectionError("x")),
        ("E_COULDNT_RESOLVE_HOST", False, requests.exceptions.ConnectionError("x")),
    ],
)
def test_a_libcurl_failure_is_recorded_as_requests_exception_for_it_was(
    code: str, answered: bool, by_requests: Exception
) -> None:
    """Each of libcurl's failures is described, and counted as a connection failure or not,
    as the exception requests raises for it (what BulkFetcher handed over before
    ``TransportError``): the scan's warnings and its stop on an unreachable registry."""
    import pycurl

    from depaudit.failures import failure_of

    fetcher = BulkFetcher(build_session(2, retries=0), 1)
    transfer = _Transfer(Job(None, "http://registry.invalid/x"), "http://registry.invalid/x", None)  # type: ignore[arg-type]
    transfer.status = 200 if answered else 0
    transfer.connected_at = 1.0 if answered else None
    failure = fetcher._error(transfer, getattr(pycurl, code))
    assert isinstance(failure, TransportError)
    assert failure_of(failure) == failure_of(by_requests)
    assert describe_failure(failure) == describe_failure(by_requests)


def test_a_redirect_loop_is_recorded_as_requests_too_many_redirects_was() -> None:
    from depaudit.failures import TOO_MANY_REDIRECTS, failure_of

    failure = TransportError(TOO_MANY_REDIRECTS, connection=False)
    assert failure_of(failure) == failure_of(requests.TooManyRedirects("x"))
