"""A misbehaving registry never stops a scan: each fault, through ``main(argv)``, ends with a
report in which the affected packages are unknown (``null`` facts) and a warning names them;
the exit code is 0, and 3 under ``--strict`` when no registry request succeeded at all."""

from __future__ import annotations

import gzip
import json
import socket
import time
from pathlib import Path

import pytest

from .conftest import (
    MAX_BODY,
    RawServer,
    Runner,
    Scan,
    Seen,
    packument,
    reset,
    send,
    stall,
)


def assert_unknown(result: Scan, name: str, because: str) -> None:
    facts = result.facts(name)
    assert facts["in_registry"] is None and facts["latest"] is None, facts
    warning = next((w for w in result.warnings if "npm registry" in w and name in w), None)
    assert warning is not None, result.warnings
    assert because in warning, warning
    assert "unknown" in warning


def assert_known(result: Scan, name: str, latest: str = "2.0.0") -> None:
    facts = result.facts(name)
    assert facts["in_registry"] is True
    assert facts["latest"] == latest


def status(code: int, headers: dict[str, str] | None = None) -> object:
    def handler(conn: socket.socket, seen: Seen) -> None:
        send(conn, code, b'{"error": "nope"}', headers)

    return handler


def _one_bad_one_good(server: RawServer, handler: object) -> None:
    server.routes["/alpha"] = handler  # type: ignore[assignment]


# -- 429 and 5xx ---------------------------------------------------------------------------------


def test_429_with_retry_after_is_waited_out_and_retried(server: RawServer, scan: Runner) -> None:
    calls: list[int] = []

    def limited(conn: socket.socket, seen: Seen) -> None:
        calls.append(1)
        if len(calls) == 1:
            send(conn, 429, b"{}", {"Retry-After": "1"})
        else:
            send(conn, 200, packument("alpha"))

    server.routes["/alpha"] = limited
    result = scan("--strict")
    assert result.code == 0
    assert server.paths().count("/alpha") == 2
    assert_known(result, "alpha")
    assert not [w for w in result.warnings if "npm registry" in w]


@pytest.mark.parametrize("code", [429, 500, 502, 503])
def test_persistent_error_leaves_that_package_unknown(
    code: int, server: RawServer, scan: Runner
) -> None:
    headers = {"Retry-After": "0"} if code == 429 else None
    server.routes["/alpha"] = status(code, headers)  # type: ignore[assignment]
    result = scan("--strict")
    # beta was fetched, so the registry was usable: not a --strict failure
    assert result.code == 0
    assert_unknown(result, "alpha", f"HTTP {code}")
    assert_known(result, "beta")
    assert server.paths().count("/alpha") == 3  # the first try and two retries


@pytest.mark.parametrize("code", [500, 502, 503])
def test_registry_down_exits_3_under_strict_only(
    code: int, server: RawServer, scan: Runner
) -> None:
    for name in ("/alpha", "/beta"):
        server.routes[name] = status(code)  # type: ignore[assignment]
    relaxed = scan()
    assert relaxed.code == 0
    assert_unknown(relaxed, "alpha", f"HTTP {code}")
    assert_unknown(relaxed, "beta", f"HTTP {code}")
    strict = scan("--strict")
    assert strict.code == 3
    assert strict.report["packages"]  # the report is still written
    assert "registry could not be used" in strict.err.strip().splitlines()[-1]


# -- broken transfers ----------------------------------------------------------------------------


def test_response_slower_than_the_timeout(server: RawServer, scan: Runner) -> None:
    server.routes["/alpha"] = stall(2.0)
    result = scan()
    assert result.code == 0
    assert_unknown(result, "alpha", "timed out")
    assert_known(result, "beta")


def test_connection_reset_mid_body(server: RawServer, scan: Runner) -> None:
    def handler(conn: socket.socket, seen: Seen) -> None:
        body = packument("alpha")
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        conn.sendall(head.encode() + body[: len(body) // 2])
        reset(conn)

    server.routes["/alpha"] = handler
    result = scan()
    assert result.code == 0
    assert_unknown(result, "alpha", "connection broken in the middle of the body")
    assert_known(result, "beta")


def test_body_shorter_than_its_content_length(server: RawServer, scan: Runner) -> None:
    def handler(conn: socket.socket, seen: Seen) -> None:
        body = packument("alpha")
        send(conn, 200, body[:40], length=len(body))
        conn.close()

    server.routes["/alpha"] = handler
    result = scan()
    assert_unknown(result, "alpha", "connection broken in the middle of the body")


def test_truncated_json(server: RawServer, scan: Runner) -> None:
    server.routes["/alpha"] = lambda conn, seen: send(conn, 200, packument("alpha")[:-30])
    result = scan()
    assert result.code == 0
    assert_unknown(result, "alpha", "not a packument")
    assert_known(result, "beta")


def test_html_instead_of_json(server: RawServer, scan: Runner) -> None:
    page = b"<!DOCTYPE html><html><body><h1>Bad gateway</h1></body></html>"
    server.routes["/alpha"] = lambda conn, seen: send(
        conn, 200, page, {"Content-Type": "text/html"}
    )
    result = scan()
    assert_unknown(result, "alpha", "not a packument")
    assert "<html" not in result.out.lower()


def test_json_that_is_not_a_packument(server: RawServer, scan: Runner) -> None:
    server.routes["/alpha"] = lambda conn, seen: send(conn, 200, b'["a", "list"]')
    server.routes["/beta"] = lambda conn, seen: send(
        conn, 200, json.dumps({"name": "beta", "versions": [1, 2], "time": "x"}).encode()
    )
    result = scan()
    assert result.code == 0
    assert_unknown(result, "alpha", "not a packument")
    assert result.facts("beta")["latest"] is None


# -- size ----------------------------------------------------------------------------------------


def test_a_50_mb_packument_is_read(
    server: RawServer, scan: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Big packages have packuments of tens of MB: under the (default 256 MB) cap they are
    read, reduced to a few facts, and the cache holds only those."""
    import functools

    from depaudit import http as depaudit_http
    from depaudit.services import registry as registry_module

    monkeypatch.setattr(
        registry_module,
        "build_session",
        functools.partial(depaudit_http.build_session, retries=0, read_timeout=30.0),
    )
    versions = tuple(f"1.{i}.0" for i in range(400)) + ("2.0.0",)
    filler = "x" * (50 * 1024 * 1024)
    body = packument("alpha", versions, readme=filler)
    assert len(body) > 50 * 1024 * 1024
    server.routes["/alpha"] = lambda conn, seen: send(conn, 200, body)
    result = scan("--cache-ttl", "1h")
    assert result.code == 0
    facts = result.facts("alpha")
    assert facts["latest"] == "2.0.0"
    assert facts["versions_behind"] == 400
    cached = sum(f.stat().st_size for f in (Path(scan_cache(result)).rglob("*")) if f.is_file())
    assert cached < 5 * 1024 * 1024  # the facts, not the document


def scan_cache(result: Scan) -> str:
    return str(Path(result.report["source"]["path"]).parent.parent / "cache")


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "no-length"])
def test_oversized_body_is_cut_at_the_cap(declared: bool, server: RawServer, scan: Runner) -> None:
    body = packument("alpha", readme="y" * (MAX_BODY * 2))

    def handler(conn: socket.socket, seen: Seen) -> None:
        send(conn, 200, body, length=None if declared else -1)
        conn.close()

    server.routes["/alpha"] = handler
    result = scan()
    assert result.code == 0
    assert_unknown(result, "alpha", "exceeds")
    assert_known(result, "beta")


def test_gzip_bomb_is_cut_at_the_cap(server: RawServer, scan: Runner) -> None:
    """200 kB on the wire, 200 MB once inflated: reading stops at the cap."""
    inflated = b'{"name": "alpha", "readme": "' + b"0" * (200 * 1024 * 1024) + b'"}'
    bomb = gzip.compress(inflated, compresslevel=9)
    del inflated
    assert len(bomb) < 1024 * 1024
    server.routes["/alpha"] = lambda conn, seen: send(conn, 200, bomb, {"Content-Encoding": "gzip"})
    result = scan()
    assert result.code == 0
    assert_unknown(result, "alpha", "exceeds")
    assert_known(result, "beta")


@pytest.mark.parametrize("gzipped", [False, True])
def test_a_plain_text_404_is_not_in_the_registry(
    gzipped: bool, server: RawServer, scan: Runner
) -> None:
    """Some registries answer a missing package with a page, not JSON: still a fact (not in
    the registry), gzipped or not, never an error of the scan."""
    body = b"<html><body>Not Found</body></html>"
    headers = {"Content-Encoding": "gzip"} if gzipped else {}
    sent = gzip.compress(body) if gzipped else body
    server.routes["/alpha"] = lambda conn, seen: send(conn, 404, sent, headers)
    result = scan()
    assert result.code == 0
    assert result.facts("alpha")["in_registry"] is False
    assert_known(result, "beta")


@pytest.mark.parametrize("broken", ["cut", "not-asked"])
def test_a_body_not_in_its_encoding_is_unknown(
    broken: str, server: RawServer, scan: Runner
) -> None:
    """The decoder inflates what the registry sends (gzip, as asked): a gzip body cut short,
    or one in an encoding not asked for (br), leaves that package unknown, the run going on."""
    body = gzip.compress(packument("alpha"))
    if broken == "cut":
        sent, encoding = body[: len(body) // 2], "gzip"
    else:
        sent, encoding = body, "br"
    server.routes["/alpha"] = lambda conn, seen: send(
        conn, 200, sent, {"Content-Encoding": encoding}
    )
    result = scan()
    assert result.code == 0
    assert_unknown(result, "alpha", "could not be decompressed")
    assert_known(result, "beta")


# -- redirects and credentials -------------------------------------------------------------------

TOKEN = "npm_SECRETtoken0123456789abcdef"


def test_redirect_to_another_host_drops_the_credentials(
    server: RawServer, other_server: RawServer, scan: Runner, project: Path
) -> None:
    (project / ".npmrc").write_text(
        f"registry={server.url}\n//127.0.0.1:{server.port}/:_authToken={TOKEN}\n"
    )
    target = f"{other_server.url}alpha"
    server.routes["/alpha"] = lambda conn, seen: send(conn, 302, b"", {"Location": target})
    result = scan("--registry", server.url)
    assert result.code == 0
    first = next(s for s in server.seen if s.path == "/alpha")
    assert first.headers.get("authorization") == f"Bearer {TOKEN}"  # the token was configured
    moved = [s for s in other_server.seen if s.path == "/alpha"]
    assert moved, "the redirect was followed"
    assert all("authorization" not in s.headers for s in moved)
    assert_known(result, "alpha")
    assert TOKEN not in result.out + result.err


def test_unreachable_registry(scan: Runner) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    relaxed = scan(registry=url)
    assert relaxed.code == 0
    assert_unknown(relaxed, "alpha", "could not connect")
    assert scan("--strict", registry=url).code == 3


# -- npm's own fetch-timeout and fetch-retries ---------------------------------------------------


def test_npmrc_fetch_retries_and_timeout_are_honoured(
    server: RawServer, scan: Runner, project: Path
) -> None:
    """The registry's session takes npm's `fetch-retries` and `fetch-timeout` (ms) from the
    project's .npmrc when they are set: 0 retries means one request for a failing package,
    and a 3 s timeout lets a 1 s answer through that the default of these tests (0.5 s) cuts."""
    server.routes["/alpha"] = status(503)  # type: ignore[assignment]
    server.routes["/beta"] = stall(1.0)
    (project / ".npmrc").write_text("fetch-retries=0\nfetch-timeout=3000\n")
    result = scan()
    assert result.code == 0
    assert server.paths().count("/alpha") == 1
    assert_unknown(result, "alpha", "HTTP 503")
    assert_known(result, "beta")


def test_bad_fetch_timeout_is_a_configuration_error(
    server: RawServer, scan: Runner, project: Path
) -> None:
    (project / ".npmrc").write_text("fetch-timeout=soon\n")
    result = scan()
    assert result.code == 2
    assert result.out == ""
    line = result.err.strip().splitlines()[-1]
    assert "fetch-timeout 'soon' is not a whole number of milliseconds" in line


def test_credentials_in_the_registry_url_reach_only_the_authorization_header(
    scan: Runner, server: RawServer, tmp_path: Path
) -> None:
    """``--registry http://user:pw@host/`` (npm accepts it): the password is sent as Basic
    auth to that registry, and never reaches a cache key, a warning or the report."""
    import base64
    import sqlite3

    from depaudit.cache import Cache

    secret = "s3cr3t-pw"
    with_creds = server.url.replace("http://", f"http://alice:{secret}@")
    # the advisory endpoint fails, so its warning (which names the URL) is in the report
    server.routes["/-/npm/v1/security/advisories/bulk"] = lambda conn, seen: send(conn, 500)
    result = scan(registry=with_creds)
    assert result.code == 0
    assert any("advisor" in w for w in result.warnings)
    assert secret not in result.out and secret not in result.err
    expected = "Basic " + base64.b64encode(f"alice:{secret}".encode()).decode()
    assert {s.headers.get("authorization") for s in server.seen} == {expected}
    keys = Cache(tmp_path / "cache")
    assert keys.get("registry", f"{server.url}alpha") is not None  # keyed by the clean URL
    keys.close()
    (db,) = list((tmp_path / "cache").rglob("cache.db"))
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT namespace, key, etag, lm, value FROM entries").fetchall()
    stored = b"".join(str(field).encode() for row in rows for field in row)
    assert stored and secret.encode() not in stored


def test_a_bad_registry_url_with_credentials_is_refused_without_them(
    scan: Runner,
) -> None:
    result = scan(registry="http://bob:hunter2@[::1/")
    assert result.code == 2
    assert "hunter2" not in result.err and "***@" in result.err


# -- the run's network budget (README "Resource budget") -------------------------------------

MANY = {f"pkg{i}": "1.0.0" for i in range(8)}
RATE_LIMIT_STRIKES = 3  # services/registry.py


def _many(scan: Runner, tmp_path: Path, *extra: str) -> Scan:
    from .conftest import write_project

    return scan("--no-advisories", *extra, directory=write_project(tmp_path / "many", MANY))


def _stopped(result: Scan) -> list[str]:
    return [w for w in result.warnings if w.startswith("npm registry: stopped")]


def _given_budget(scan: Runner, tmp_path: Path, flag: str, value: str) -> Scan:
    """The MANY project scanned afresh (its own cache), one request at a time, with a budget
    given on the command line."""
    return _many(
        scan,
        tmp_path / "given",
        "--jobs",
        "1",
        flag,
        value,
        "--cache-dir",
        str(tmp_path / "given-cache"),
    )


def test_a_registry_trickling_one_byte_at_a_time_meets_the_deadline(
    server: RawServer, scan: Runner, tmp_path: Path
) -> None:
    """Bytes arrive faster than the read timeout, so no single read times out; the run's
    network deadline (--network-budget) ends it, and every package not fetched is unknown,
    in one line."""

    def trickle(conn: socket.socket, seen: Seen) -> None:
        body = packument(seen.path.strip("/"))
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body[:10])
        for byte in body[10:]:
            time.sleep(0.1)
            conn.sendall(bytes([byte]))

    for name in MANY:
        server.routes[f"/{name}"] = trickle
    started = time.monotonic()
    result = _many(scan, tmp_path, "--network-budget", "1.5")
    assert time.monotonic() - started < 30  # the body alone would take minutes per package
    assert result.code == 0
    (line,) = _stopped(result)
    assert "network time budget of 1.5 s per run is spent" in line
    assert "8 of 8 packages not fetched" in line
    assert all(result.facts(n)["latest"] is None for n in MANY)


def test_the_default_network_time_grows_with_the_tree(
    server: RawServer, scan: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given no --network-budget, a run may spend its floor or a fixed time per document it
    asks for, whichever is more: a slow registry serving a big tree is waited for, a
    trickling one still stops at a bound, and a budget given is kept as given."""
    from depaudit import budget

    monkeypatch.setattr(budget, "NETWORK_SECONDS", 0.6)
    monkeypatch.setattr(budget, "NETWORK_SECONDS_PER_DOCUMENT", 0.5)
    assert budget.network_allowance(len(MANY)) == len(MANY) * 0.5
    for name in MANY:  # 8 answers 0.15 s apart, one at a time: 1.2 s, over the 0.6 s floor
        server.routes[f"/{name}"] = stall(0.15)
    by_tree = _many(scan, tmp_path, "--jobs", "1")
    assert not _stopped(by_tree)
    assert all(by_tree.facts(n)["latest"] == "2.0.0" for n in MANY)
    given = _given_budget(scan, tmp_path, "--network-budget", "0.6")
    (line,) = _stopped(given)
    assert "network time budget of 0.6 s per run is spent" in line
    for name in MANY:  # a registry that never answers: stopped at 8 x 0.5 s
        server.routes[f"/{name}"] = stall(60)
    started = time.monotonic()
    hostile = _many(scan, tmp_path / "hostile", "--cache-dir", str(tmp_path / "hostile-cache"))
    assert time.monotonic() - started < 20
    (line,) = _stopped(hostile)
    assert f"network time budget of {len(MANY) * 0.5:g} s per run is spent" in line


def test_a_registry_dribbling_its_status_line_and_headers_meets_the_deadline(
    server: RawServer, scan: Runner, tmp_path: Path
) -> None:
    """The status line and headers arrive a byte every 0.1 s: each byte within the read
    timeout, their end an hour away. The run's deadline shuts the sockets down, so the scan
    ends soon after it (not when the headers would), every package unknown, in one line."""

    def dribble(conn: socket.socket, seen: Seen) -> None:
        head = b"HTTP/1.1 200 OK\r\nX-Pad: " + b"a" * 40_000 + b"\r\n\r\n"
        for byte in head:
            time.sleep(0.1)
            conn.sendall(bytes([byte]))

    for name in MANY:
        server.routes[f"/{name}"] = dribble
    started = time.monotonic()
    result = _many(scan, tmp_path, "--network-budget", "1.5")
    assert time.monotonic() - started < 20
    assert result.code == 0
    (line,) = _stopped(result)
    assert "network time budget of 1.5 s per run is spent" in line
    assert "8 of 8 packages not fetched" in line
    assert all(result.facts(n)["latest"] is None for n in MANY)


def test_persistent_429_gives_up_on_the_host(
    server: RawServer, scan: Runner, tmp_path: Path
) -> None:
    """429 after every retry: the rest of that host is skipped (not retried for hours)."""
    for name in MANY:
        server.routes[f"/{name}"] = lambda conn, seen: send(conn, 429, b"", {"Retry-After": "0"})
    result = _many(scan, tmp_path)
    assert result.code == 0
    # three packages answered 429 to the end (plus the one in flight), 3 tries each; not 8 x 3
    assert len(server.paths()) <= (RATE_LIMIT_STRIKES + 1) * 3 < len(MANY) * 3
    (line,) = _stopped(result)
    assert "kept answering 429" in line and "packages not fetched" in line
    assert all(result.facts(n)["latest"] is None for n in MANY)


def test_retry_after_30_is_cut_at_the_deadline(
    server: RawServer, scan: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in MANY:
        server.routes[f"/{name}"] = lambda conn, seen: send(conn, 429, b"", {"Retry-After": "30"})
    monkeypatch.setenv("DEPAUDIT_NETWORK_BUDGET", "1")  # the flag's twin
    started = time.monotonic()
    result = _many(scan, tmp_path)
    assert time.monotonic() - started < 20  # two retries of 30 s each, per package, otherwise
    assert result.code == 0 and _stopped(result)
    assert all(result.facts(n)["latest"] is None for n in MANY)


def test_the_default_response_budget_grows_with_the_tree(
    server: RawServer, scan: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given no --response-budget, a run may read its floor or a fixed allowance per document
    it asks for, whichever is more: a tree of many names is read whole (a fixed 1 GiB left a
    cold scan of 10,000 names partly unknown), a hostile registry still stops, and a budget
    given is kept as given."""
    from depaudit import budget

    body = packument("x")[:-1] + b', "pad": "' + b" " * (40 * 1024) + b'"}'  # ~40 KiB each
    for name in MANY:
        server.routes[f"/{name}"] = lambda conn, seen: send(conn, 200, body)
    monkeypatch.setattr(budget, "RESPONSE_BYTES", 64 * 1024)  # the floor: one or two bodies
    monkeypatch.setattr(budget, "RESPONSE_BYTES_PER_DOCUMENT", 64 * 1024)
    assert budget.response_allowance(0) == 64 * 1024
    assert budget.response_allowance(len(MANY)) == len(MANY) * 64 * 1024
    by_tree = _many(scan, tmp_path, "--jobs", "1")
    assert by_tree.code == 0 and not _stopped(by_tree)
    assert all(by_tree.facts(n)["latest"] == "2.0.0" for n in MANY)
    given = _given_budget(scan, tmp_path, "--response-budget", "64K")
    (line,) = _stopped(given)
    assert f"response budget of {64 * 1024} bytes per run is spent" in line
    assert sum(given.facts(n)["latest"] is not None for n in MANY) <= 2
    # a registry padding every body beyond the allowance is still stopped by it
    fat = packument("x")[:-1] + b', "pad": "' + b" " * (200 * 1024) + b'"}'
    for name in MANY:
        server.routes[f"/{name}"] = lambda conn, seen: send(conn, 200, fat)
    hostile = _many(
        scan, tmp_path / "hostile", "--jobs", "1", "--cache-dir", str(tmp_path / "hostile-cache")
    )
    (line,) = _stopped(hostile)
    assert f"response budget of {len(MANY) * 64 * 1024} bytes per run is spent" in line


def test_response_bytes_are_budgeted_per_run(
    server: RawServer, scan: Runner, tmp_path: Path
) -> None:
    """Each packument is a gzip bomb under the per-response cap; the run's budget
    (--response-budget) stops the decoding after a few, not after every package's worth."""
    inflated = packument("x")[:-1] + b', "pad": "' + b" " * (3 * 1024 * 1024) + b'"}'
    bomb = gzip.compress(inflated, compresslevel=9)
    for name in MANY:
        server.routes[f"/{name}"] = lambda conn, seen: send(
            conn, 200, bomb, {"Content-Encoding": "gzip"}
        )
    result = _many(scan, tmp_path, "--jobs", "1", "--response-budget", "7M")
    assert result.code == 0
    (line,) = _stopped(result)
    assert f"response budget of {7 * 1024 * 1024} bytes per run is spent" in line
    fetched = [n for n in MANY if result.facts(n)["latest"] is not None]
    assert 1 <= len(fetched) <= 3
