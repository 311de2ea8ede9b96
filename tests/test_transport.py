"""``depaudit.transport``: a fetch worker's session without ``requests`` must be the session
``requests`` would give it, for every setting ``BulkFetcher`` reads (headers, credentials per
scope, proxies, CA bundle, retries, timeouts, caps), wherever it is used; and it is used only
where the environment names no proxy."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from depaudit import transport
from depaudit.http import build_session
from depaudit.http_bulk import BulkFetcher, Job, _Policy, _Transfer
from depaudit.npm_network import NpmNetwork
from depaudit.run_budget import RunBudget

URL = "https://registry.invalid/pkg"


def credential(url: str) -> str | None:
    return "Bearer t" if url.startswith("https://registry.invalid/") else None


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)


def sessions(**kwargs: Any) -> tuple[Any, Any]:
    """The same settings as requests' session and as the plain one."""
    return build_session(4, credential, **kwargs), transport.plain_session(4, credential, **kwargs)


def test_plain_only_where_no_proxy_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    assert transport.plain_environment({"PATH": "/bin", "REQUESTS_CA_BUNDLE": "/x.pem"})
    for name in ("HTTPS_PROXY", "http_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY", "Ftp_Proxy"):
        assert not transport.plain_environment({name: "x"}), name
    monkeypatch.setattr(sys, "platform", "darwin")  # (urllib reads the system's settings)
    assert not transport.plain_environment({})


@pytest.mark.parametrize(
    ("network", "variables"),
    [
        (None, {}),
        (None, {"REQUESTS_CA_BUNDLE": "/etc/a.pem", "CURL_CA_BUNDLE": "/etc/b.pem"}),
        (None, {"REQUESTS_CA_BUNDLE": "", "CURL_CA_BUNDLE": "/etc/b.pem"}),
        (NpmNetwork(proxy="http://proxy.invalid:3128"), {}),
        (NpmNetwork(proxy="http://proxy.invalid:3128", no_proxy="registry.invalid"), {}),
        (NpmNetwork(no_proxy="registry.invalid"), {}),
        (NpmNetwork(strict_ssl=False), {"CURL_CA_BUNDLE": "/etc/b.pem"}),
        (NpmNetwork(ca_file="/etc/npm-ca.pem"), {"REQUESTS_CA_BUNDLE": "/etc/a.pem"}),
        (NpmNetwork(ca="-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----"), {}),
    ],
)
def test_the_environment_and_npms_settings_as_requests_gives_them(
    monkeypatch: pytest.MonkeyPatch, network: NpmNetwork | None, variables: dict[str, str]
) -> None:
    for name in transport.CA_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    real, plain = sessions(network=network)
    try:
        for url in (URL, "http://other.invalid:8080/x"):
            theirs = real.merge_environment_settings(url, {}, True, None, None)
            ours = plain.merge_environment_settings(url, {}, True, None, None)
            if network is not None and network.ca is not None:  # each writes its own file
                assert (
                    Path(ours.pop("verify")).read_text() == Path(theirs.pop("verify")).read_text()
                )
            assert ours == theirs
            options = [BulkFetcher(s, 4)._origin(url) for s in (real, plain)]
            if network is not None and network.ca is not None:
                options = [[(o, Path(v).read_text()) for o, v in opts[1:]] for opts in options]
            assert options[0] == options[1]
    finally:
        real.close()
        plain.close()


header_name = st.sampled_from(
    ["Accept", "accept", "User-Agent", "authorization", "Authorization", "If-None-Match", "X-A"]
)


@settings(max_examples=200, deadline=None)
@given(
    extra=st.dictionaries(header_name, st.text("abc ", max_size=4), max_size=4),
    hop=st.integers(0, 2),
    url=st.sampled_from([URL, "https://elsewhere.invalid/pkg"]),
    inflate=st.booleans(),
)
def test_every_requests_header_lines_are_requests_sessions(
    extra: dict[str, str], hop: int, url: str, inflate: bool
) -> None:
    """Headers merged by name in any case, the last spelling kept where the first came,
    the credential of the URL's scope (none after a redirect hop unless it is in scope)."""
    real, plain = sessions(user_agent="depaudit/test")
    lines = []
    for session in (real, plain):
        fetcher = BulkFetcher(session, 4, inflate=inflate)
        transfer = _Transfer(Job(1, url, extra), url, None)  # type: ignore[arg-type]
        transfer.hop = hop
        lines.append(fetcher._headers(transfer, extra))
    assert lines[0] == lines[1] == requests_lines(real, extra, hop, url, inflate)


def requests_lines(
    session: Any, extra: dict[str, str], hop: int, url: str, inflate: bool
) -> list[str]:
    """A request's header lines as requests' own merge gives them (``BulkFetcher`` built
    them so before: a CaseInsensitiveDict of the session's headers and the job's)."""
    from requests.structures import CaseInsensitiveDict

    given: CaseInsensitiveDict[str] = CaseInsensitiveDict(dict(session.headers))
    given.update(extra)
    if hop:
        given.pop("Authorization", None)
    found = credential(url)
    if found and "Authorization" not in given:
        given["Authorization"] = found
    owned = ("accept-encoding", "connection", "content-length")
    lines = [f"{k}: {v}" for k, v in given.items() if k.lower() not in owned]
    return lines if inflate else [*lines, "Accept-Encoding: gzip"]


class Answer:
    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers


@pytest.mark.parametrize("retries", [0, 1, 3, 5])
@pytest.mark.parametrize("backoff", [0.0, 0.3, 2.5])
def test_the_retry_policy_is_the_sessions(retries: int, backoff: float) -> None:
    real, plain = sessions(retries=retries, backoff_factor=backoff)
    theirs, ours = _Policy.of(real, URL), _Policy.of(plain, URL)
    fields = ("total", "connect", "read", "status", "backoff_factor", "backoff_max", "statuses")
    assert [getattr(ours, f) for f in fields] == [getattr(theirs, f) for f in fields]
    for value in ("0", "7", "45", " 3 ", "nan", "1e23", "soon", formatdate(usegmt=True)):
        after = [p.retry.get_retry_after(Answer({"Retry-After": value})) for p in (theirs, ours)]
        if value.startswith(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")):
            assert all(a is not None and 0 <= a <= 1 for a in after)  # (now, within a second)
        else:
            assert after[0] == after[1]


def test_the_caps_timeouts_and_budget_are_the_sessions() -> None:
    real, plain = sessions(connect_timeout=3.0, read_timeout=4.0, max_body=1234)
    assert plain.default_timeout == real.default_timeout == (3.0, 4.0)
    assert plain.max_body == real.max_body == 1234
    budget = RunBudget(5.0, 99)
    given_budget = transport.plain_session(1, budget=budget)
    assert given_budget.budget is budget
    assert plain.budget.max_bytes == real.budget.max_bytes
    assert list(plain.headers.items()) == [
        (k, v.decode() if isinstance(v, bytes) else v) for k, v in real.headers.items()
    ]


def test_a_fetch_workers_fetch_imports_no_requests(tmp_path: Path) -> None:
    """A fetch through a plain session (a document, a 404, a port nobody listens on, a
    redirect) in a fresh interpreter: answered, the failure as the scan records it, and no
    ``requests`` imported, the redirect's included."""
    from werkzeug import Response
    from werkzeug.serving import make_server

    def app(environ: dict[str, Any], start: Any) -> Any:
        path = environ["PATH_INFO"]
        if path == "/moved":
            response = Response(status=301, headers={"Location": "/doc"})
        elif path == "/doc":
            response = Response(b'{"name": "doc"}', content_type="application/json")
        else:
            response = Response(b"not found", status=404)
        return response(environ, start)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.port}"
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    script = textwrap.dedent(
        f"""
        import sys
        from depaudit.services.fetch_worker import import_worker_modules
        import_worker_modules()
        from depaudit.http_bulk import BulkFetcher, Job
        from depaudit.transport import plain_session
        from depaudit.services.fetch_worker import failure_of
        got = []
        def fetch(path, base="{base}"):
            session = plain_session(2, retries=0)
            BulkFetcher(session, 2).get_many(
                [Job(path, base + path)],
                lambda job, out: got.append(
                    (job.tag, out.status, bytes(out.body)[:15])
                    if hasattr(out, "status") else (job.tag, failure_of(out))
                ),
            )
        fetch("/doc")
        fetch("/none")
        fetch("/dead", "http://127.0.0.1:{dead}")
        print(got, "requests" in sys.modules)
        fetch("/moved")
        print(got[-1], "requests" in sys.modules)
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    try:
        out = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
        ).stdout.splitlines()
    finally:
        server.shutdown()
    assert out == [
        "[('/doc', 200, b'{\"name\": \"doc\"}'), ('/none', 404, b'not found'), "
        "('/dead', ('error', 'could not connect', True))] False",
        "('/moved', 200, b'{\"name\": \"doc\"}') False",
    ]


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text("0123456789 -+.e\t\u00a0\u0663\u00b2", max_size=12),
        st.sampled_from(
            ["99999999999999999999", "9" * 400, "9" * 5000, "inf", "nan", "", "Wed, 21 Oct 2015"]
        ),
        st.integers(-100, 100).map(lambda d: formatdate(1e9 + d * 86400 * 365, usegmt=True)),
        st.integers(-40, 40).map(lambda d: formatdate(__import__("time").time() + d)),
    )
)
def test_a_retry_after_reads_as_the_sessions(value: str) -> None:
    """Whole seconds, HTTP dates (past, near, far), and what neither reads: the same wait
    (within the instant between the two readings of the clock), capped at 30 s."""
    real, plain = sessions(retries=3)
    theirs, ours = (
        _Policy.of(s, URL).retry.get_retry_after(Answer({"Retry-After": value}))
        for s in (real, plain)
    )
    assert (theirs is None) == (ours is None)
    if theirs is not None:
        assert ours is not None and abs(theirs - ours) < 0.05 and 0 <= ours <= 30


def test_the_plain_session_takes_build_sessions_arguments() -> None:
    """The two are made from the same recipe (``SessionRecipe``): the same parameters, in
    the same order, with the same defaults (only the returned type differs)."""
    import inspect

    def shape(fn: Any) -> list[tuple[str, Any, Any]]:
        params = inspect.signature(fn).parameters.values()
        return [(p.name, p.kind, p.default) for p in params]

    assert shape(transport.plain_session) == shape(build_session)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["%", "%2", "%41", "%7e", "%7E", "%2F", "%25", "%zz", "%g1", "%٣٣"]),
            st.text("aZ09-._~/:?#[]@!$&'()*+,;= %\u00e9\u0663\u00b2\U0001f600", max_size=6),
        ),
        max_size=8,
    ).map("".join)
)
def test_a_redirects_target_is_quoted_as_requests_quotes_it(uri: str) -> None:
    from requests.utils import requote_uri as by_requests

    from depaudit.transport import requote_uri

    assert requote_uri(uri) == by_requests(uri)
