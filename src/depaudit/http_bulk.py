"""Many GETs at once through libcurl's multi interface (pycurl): the registry's cold fetch;
and, one at a time (:func:`fetch_one`, each on the connection the session kept from the one
before: :func:`depaudit.connections.kept_connections`), the scan's other requests (a POST,
GitHub's calls).

Why libcurl: measured in-process on theia's 1,877 packuments (215 MB from a loopback replay,
no decoding; benchmarks/README.md "Cold scan"), the session's urllib3 pool driven by 32
threads took 3.0 s of CPU and 4.1 s of wall time, libcurl's multi interface 0.46 s and
1.2 s: the transfers run in C with the GIL released, and one thread drives them all. libcurl
also speaks HTTP/2 to a registry that offers it (ALPN), many streams on one connection.

Every transfer follows the :class:`~depaudit.http.DepauditSession` it is given (or, in a fetch
worker, the :class:`~depaudit.transport.PlainSession` that holds the same settings without
``requests``, which is then imported only where there are proxies to choose from), as a
request of that session would:

* its headers (User-Agent...), and the credential of each URL's own scope
  (``session.auth_lookup``), chosen again on every redirect hop (never carried to another
  scope); redirects are followed here, at most :data:`~depaudit.http.MAX_REDIRECTS`;
* its proxies and CA bundle, as ``session.merge_environment_settings`` gives them: npm's
  settings where npm sets them (:mod:`depaudit.npm_network`), else the environment's as
  requests reads them (``HTTP(S)_PROXY``, ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``,
  ``CURL_CA_BUNDLE``; certifi's bundle otherwise), and a client certificate when the
  session has one;
* its connect and read timeouts (the read timeout is the longest wait for a byte once the
  connection is made, as a socket timeout is), and its ``Retry`` policy: the statuses it
  retries (429, 5xx), ``Retry-After`` capped as the session caps it, the back-off, the
  connect and read retry counts;
* its body cap (``session.max_body``, on the decoded bytes, so a compression bomb stops
  there) and its run budget (:class:`~depaudit.http.RunBudget`): no transfer outlives the
  deadline, and decoded bytes are counted against the run's response budget. With
  ``inflate=False`` (the registry's fetch) gzip is asked for and the bodies are handed over
  as sent: the cap and the budget then count the bytes as sent, and the caller inflates
  under the same cap and charges the budget for the rest (``services/registry_decode``).
  Those bytes are kept by libcurl's write calls straight into a list, in C, and counted
  after each round of transfers (``BulkFetcher._count``), not in a Python call per chunk
  (theia's 215 MB came in ~25,000 chunks: ~6% of the fetch's CPU); a body over the cap is
  stopped by libcurl's own (``MAXFILESIZE``, as it comes from libcurl 8.4 on) or by that
  count, and what one round brings past the budget is at most what the sockets held.

A failure reaches ``done`` as a :class:`~depaudit.failures.TransportError` of the kind
``requests`` would have raised for it (``ConnectionError``, ``Timeout``,
``ChunkedEncodingError``, ``SSLError``...: ``connection`` says which of them count as a
failure to connect) or as :class:`~depaudit.http.BodyTooLarge` /
:class:`~depaudit.http.BudgetSpent`, so callers describe it with
:func:`~depaudit.failures.describe_failure`, without importing ``requests``.

Why this module is over ~400 lines: it is one loop and what acts on its transfers (the
session's settings per URL, redirects, the retry policy, the idle timeout, the run budget,
libcurl's errors as requests' exceptions); split, each part would reach into the others'
transfer state.
"""

from __future__ import annotations

import copy
import heapq
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import field
from functools import lru_cache
from os.path import isdir
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from certifi import where

from depaudit.connections import kept_connections
from depaudit.errors import TLS_ERROR
from depaudit.failures import (
    BROKEN_BODY,
    COULD_NOT_CONNECT,
    TIMED_OUT,
    TOO_MANY_REDIRECTS,
    UNDECODABLE,
    TransportError,
)
from depaudit.run_budget import BodyTooLarge, BudgetSpent, RunBudget
from depaudit.slots import dataclass
from depaudit.transport import MAX_REDIRECTS, REDIRECTS, Fetched, Pieces, requote_uri

if TYPE_CHECKING:  # (requests is imported where proxies need it: a fetch
    # worker runs without it, depaudit.transport)
    from depaudit.http import DepauditSession
    from depaudit.transport import PlainSession

    Session = DepauditSession | PlainSession

#: seconds between two looks at the deadline and at idle transfers while none is active
TICK = 0.05
#: statuses whose Retry-After urllib3 honours (its ``Retry.RETRY_AFTER_STATUS_CODES``)
RETRY_AFTER_STATUSES = frozenset({413, 429, 503})
#: kinds of request whose header lines one fetch keeps (a revalidation's If-None-Match makes
#: each request its own kind: those are built each time, not kept)
HEADER_KINDS = 256
#: headers libcurl writes itself (Accept-Encoding through ACCEPT_ENCODING, so it decodes)
_CURL_OWNS = frozenset({"accept-encoding", "connection", "content-length"})


@dataclass(frozen=True, slots=True)
class Job:
    """One request: a GET, or a POST of ``data``, or ``method`` (with ``data`` or not):
    ``tag`` is the caller's (handed back with the outcome)."""

    tag: Any
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    data: bytes | None = None
    method: str | None = None

    @property
    def verb(self) -> str:
        return self.method or ("GET" if self.data is None else "POST")


Done = Callable[[Job, "Fetched | Exception"], None]


@dataclass
class _Policy:
    """The session's ``Retry`` as counters (urllib3 ``Retry.increment`` semantics)."""

    total: int
    connect: int
    read: int
    status: int
    backoff_factor: float
    backoff_max: float
    statuses: frozenset[int]
    retry: Any  # the session's Retry: its get_retry_after caps Retry-After
    #: the methods retried after a read error or on a status (urllib3's ``allowed_methods``;
    #: empty: every method); a failure to connect is retried whatever the method
    methods: frozenset[str]

    @classmethod
    def of(cls, session: Session, url: str) -> _Policy:
        adapter = session.get_adapter(url)
        retry = getattr(adapter, "max_retries", None)

        def count(value: object, default: int) -> int:
            return default if value is None or value is False else int(value)  # type: ignore[call-overload]

        total = count(getattr(retry, "total", 0), 0)
        return cls(
            total=total,
            connect=count(getattr(retry, "connect", None), total),
            read=count(getattr(retry, "read", None), total),
            status=count(getattr(retry, "status", None), total),
            backoff_factor=float(getattr(retry, "backoff_factor", 0.0) or 0.0),
            backoff_max=float(getattr(retry, "backoff_max", 120.0) or 120.0),
            statuses=frozenset(getattr(retry, "status_forcelist", None) or ()),
            retry=retry,
            methods=frozenset(getattr(retry, "allowed_methods", None) or ()),
        )

    def retried(self, method: str) -> bool:
        """Whether a read error or a status may retry a request of ``method`` (urllib3's
        ``Retry._is_method_retryable``)."""
        return not self.methods or method in self.methods


class _Answer:
    """The headers of a response, as ``retry.get_retry_after`` reads them."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self.headers = headers


def _proxy_of(url: str, proxies: Mapping[str, str]) -> str:
    """requests' ``select_proxy`` of ``url`` among ``proxies``, "" for none (which also
    keeps libcurl from reading the environment itself); requests is imported only where
    there are proxies to choose from."""
    if not proxies:
        return ""
    from requests.utils import select_proxy

    return select_proxy(url, proxies) or ""


def origin_key(url: str) -> tuple[str, str]:
    """``url``'s scheme and ``host[:port]``, lowercased: ``urlsplit``'s, read once per origin
    (they lie before the first ``/`` after ``//``, so that prefix has the same ones)."""
    start = url.find("//")
    end = url.find("/", start + 2) if start >= 0 else -1
    return _origin_of(url if end < 0 else url[:end])


@lru_cache(maxsize=256)
def _origin_of(prefix: str) -> tuple[str, str]:
    parts = urlsplit(prefix)
    return parts.scheme.lower(), parts.netloc.lower()


@dataclass(slots=True)
class _Transfer:
    job: Job
    url: str
    policy: _Policy
    #: what this hop sends: the job's method, body and headers, until a redirect changes
    #: the method or drops the body
    method: str = "GET"
    data: bytes | None = None
    extra: Mapping[str, str] = field(default_factory=dict)
    origin: tuple[str, str] = ("", "")  # of the hop in flight (``url``), set when it starts
    hop: int = 0
    errors: int = 0  # consecutive errors, for the back-off
    status: int = 0  # and headers: read from ``lines`` when the transfer ends (:meth:`read`)
    headers: Headers | None = None
    lines: list[bytes] = field(default_factory=list)  # the header lines as libcurl gave them
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0
    counted: int = 0  # the chunks counted into ``size`` (``inflate=False``: BulkFetcher._count)
    connected_at: float | None = None
    last_byte: float = 0.0
    failure: Exception | None = None

    def header(self, line: bytes) -> None:
        """libcurl's header callback: kept as it came, read once the transfer ends (each of
        a packument's ~20 header lines costs a Python call; parsing each one here too had
        ~2.3 times the profile's samples of keeping it and reading them all at the end)."""
        self.lines.append(line)
        self.last_byte = time.monotonic()

    def read(self) -> Headers:
        """``status`` and ``headers`` from the header lines (the last response's, after a
        proxy's CONNECT answer; a repeated header joined with ``, ``)."""
        if self.headers is None:
            names: dict[str, str] = {}
            values: dict[str, str] = {}
            for line in self.lines:
                text = line.decode("iso-8859-1").rstrip("\r\n")
                if text.startswith("HTTP/"):  # a new response
                    parts = text.split(None, 2)
                    self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
                    names, values = {}, {}
                    continue
                name, colon, value = text.partition(":")
                if colon:
                    name, value = name.strip(), value.strip()
                    key = name.lower()
                    names[key] = name  # (the last one's spelling, as requests keeps)
                    values[key] = f"{values[key]}, {value}" if key in values else value
            self.headers = Headers(names, values)
        return self.headers


class Headers(Mapping[str, str]):
    """A response's headers, by name in any case (as ``requests``' CaseInsensitiveDict,
    built for a fraction of its cost: ~20 of them on each of thousands of responses)."""

    __slots__ = ("_names", "_values")

    def __init__(self, names: dict[str, str], values: dict[str, str]) -> None:
        self._names, self._values = names, values  # lowercased name -> as sent; -> value

    def __getitem__(self, name: str) -> str:
        return self._values[name.lower()]

    def get(self, name: str, default: Any = None) -> Any:  # (Mapping's: two calls and a try)
        return self._values.get(name.lower(), default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names.values())

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return repr(dict(self.items()))


class BulkFetcher:
    """``get_many(jobs, done)``: at most ``parallel`` transfers at a time to one origin, and
    ``multiplexed`` to an origin that has answered over HTTP/2 (many streams on one or two
    connections, where each HTTP/1.1 transfer holds a connection of its own), through one
    session's settings (see the module's docstring). One thread drives every transfer;
    ``done`` is called on that thread, once per job, in completion order."""

    def __init__(
        self,
        session: Session,
        parallel: int,
        multiplexed: int | None = None,
        *,
        inflate: bool = True,
        whole: bool = True,
        timeout: tuple[float, float] | None = None,
        max_body: int | None = None,
        share: Any = None,
    ) -> None:
        """``inflate=False``: ask for gzip and hand each body over as sent, with its
        ``Content-Encoding``; the caller inflates it, under the same cap (``session.max_body``)
        and charges the run's budget for what it inflates (the registry's decoding worker
        does, on another core: libcurl inflating theia's 215 MB cost this thread ~0.4 s).
        ``whole=False``: a body that came in more than one chunk is handed over as its
        :class:`~depaudit.http.Pieces`, not joined (the registry's decoding worker takes
        them as they are: joining theia's bodies cost this thread ~0.1 s of CPU).
        ``timeout`` (connect, read) and ``max_body``: this fetch's, not the session's (a
        request's own, as ``timeout=`` to a requests session). ``share``: a
        ``pycurl.CurlShare`` whose connections the transfers use and keep
        (:func:`depaudit.connections.kept_connections`), where they would otherwise end with
        the fetch."""
        import pycurl

        self.pycurl = pycurl
        self.session = session
        self.parallel = max(1, parallel)
        self.multiplexed = max(self.parallel, multiplexed or 0)
        self.inflate = inflate
        self.whole = whole
        #: origins (scheme, host[:port]) that answered over HTTP/2 or later, this fetch
        self.multiplexing: set[tuple[str, str]] = set()
        self._in_flight: dict[tuple[str, str], int] = {}
        self.budget: RunBudget = session.budget
        self.limit = session.max_body if max_body is None else max_body
        self.connect_timeout, self.read_timeout = timeout or session.default_timeout
        self._free: list[Any] = []
        self.share = share
        self._seq = 0
        self._origins: dict[tuple[str, str], list[tuple[int, Any]]] = {}
        self._policies: dict[int, _Policy] = {}
        #: a request's header lines by (its job's headers, a redirect hop, its credential),
        #: for one get_many (the session's headers do not change meanwhile)
        self._header_lines: dict[tuple[Any, ...], list[str]] = {}
        self._fixed: list[tuple[int, Any]] = [
            (pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS),  # redirects too
            # every encoding libcurl decodes; or gzip, left as sent (``inflate=False``)
            *([(pycurl.ACCEPT_ENCODING, "")] if inflate else [(pycurl.HTTP_CONTENT_DECODING, 0)]),
            (pycurl.NOSIGNAL, 1),
            (pycurl.FOLLOWLOCATION, 0),  # followed here, with each hop's credential
            (pycurl.CONNECTTIMEOUT_MS, max(1, math.ceil(self.connect_timeout * 1000))),
            (pycurl.MAXFILESIZE_LARGE, self.limit),
            (pycurl.BUFFERSIZE, 256 * 1024),
            # wait for the first connection to an HTTP/2 registry and multiplex on it, as
            # curl --parallel does, rather than open a connection (and a TLS handshake) per
            # transfer: theia against the registry here, 4.7-5.1 s against 4.9-6.3 s wall
            (pycurl.PIPEWAIT, 1),
        ]

    def _policy(self, url: str) -> _Policy:
        """A fresh copy of the retry counters of the adapter that serves ``url``."""
        adapter = self.session.get_adapter(url)
        policy = self._policies.get(id(adapter))
        if policy is None:
            policy = self._policies[id(adapter)] = _Policy.of(self.session, url)
        return copy.copy(policy)

    # -- one transfer -------------------------------------------------------------------
    def _headers(self, transfer: _Transfer, extra: Mapping[str, str]) -> list[str]:
        lookup = self.session.auth_lookup
        credential = lookup(transfer.url) if lookup is not None else None
        key = (*extra.items(), bool(transfer.hop), credential)
        lines = self._header_lines.get(key)
        if lines is None:
            # by name in any case, the last spelling kept where the name came first, as
            # requests' CaseInsensitiveDict keeps them
            given: dict[str, tuple[str, str]] = {}
            for k, v in self.session.headers.items():
                given[k.lower()] = (k, v.decode("latin-1") if isinstance(v, bytes) else v)
            for k, v in extra.items():
                given[k.lower()] = (k, v)
            if transfer.hop:
                given.pop("authorization", None)
            if credential and "authorization" not in given:
                given["authorization"] = ("Authorization", credential)
            lines = [f"{k}: {v}" for low, (k, v) in given.items() if low not in _CURL_OWNS]
            if not self.inflate:
                lines.append("Accept-Encoding: gzip")
            if len(self._header_lines) < HEADER_KINDS:
                self._header_lines[key] = lines
        return lines

    def _origin(self, url: str) -> list[tuple[int, Any]]:
        """The options of an origin's transfers that come from the environment (proxy, CA
        bundle, client certificate): read once per scheme and host, as the session does."""
        pycurl = self.pycurl
        key = origin_key(url)
        options = self._origins.get(key)
        if options is None:
            settings = self.session.merge_environment_settings(url, {}, True, None, None)
            verify, cert = settings["verify"], settings["cert"]
            options = [(pycurl.PROXY, _proxy_of(url, settings["proxies"]))]
            if verify is False:
                options += [(pycurl.SSL_VERIFYPEER, 0), (pycurl.SSL_VERIFYHOST, 0)]
            else:
                bundle = verify if isinstance(verify, str) else where()
                options.append((pycurl.CAPATH if isdir(bundle) else pycurl.CAINFO, bundle))
            if cert:
                certificate, key_file = cert if isinstance(cert, tuple) else (cert, None)
                options.append((pycurl.SSLCERT, certificate))
                if key_file:
                    options.append((pycurl.SSLKEY, key_file))
            self._origins[key] = options
        return options

    def _handle(self, transfer: _Transfer) -> Any:
        pycurl = self.pycurl
        if self._free:
            curl = self._free.pop()
            curl.reset()  # (which keeps its share: libcurl's curl_easy_reset does)
        else:
            curl = pycurl.Curl()
            if self.share is not None:
                curl.setopt(pycurl.SHARE, self.share)
        curl.setopt(pycurl.URL, transfer.url)
        lines = self._headers(transfer, transfer.extra)
        method = transfer.method
        if transfer.data is not None:
            # as requests sends a body: no ``Expect: 100-continue``, and no Content-Type
            # unless the caller gave one (libcurl would add a form's)
            lines = [*lines, "Expect:"]
            if not any(k.lower() == "content-type" for k in transfer.extra):
                lines.append("Content-Type:")
            curl.setopt(pycurl.POSTFIELDSIZE_LARGE, len(transfer.data))
            curl.setopt(pycurl.POSTFIELDS, transfer.data)
        if method == "HEAD":
            curl.setopt(pycurl.NOBODY, 1)
        elif method != ("GET" if transfer.data is None else "POST"):  # (libcurl's own choice)
            curl.setopt(pycurl.CUSTOMREQUEST, method)
        curl.setopt(pycurl.HTTPHEADER, lines)
        for option, value in self._fixed:
            curl.setopt(option, value)
        for option, value in self._origin(transfer.url):
            curl.setopt(option, value)
        transfer.status, transfer.size, transfer.headers = 0, 0, None
        transfer.lines, transfer.chunks = [], []
        transfer.connected_at, transfer.failure = None, None
        curl.setopt(pycurl.PREREQFUNCTION, lambda *_: self._connected(transfer))
        curl.setopt(pycurl.HEADERFUNCTION, transfer.header)
        if self.inflate:  # (decoded bytes: each chunk checked as libcurl makes it, or a bomb
            # would inflate a whole round's bytes before any check)
            curl.setopt(pycurl.WRITEFUNCTION, lambda chunk: self._write(transfer, chunk))
        else:  # (as sent: kept in C, counted after each round by _count)
            transfer.counted = 0
            curl.setopt(pycurl.WRITEFUNCTION, transfer.chunks.append)
        return curl

    def release(self) -> None:
        """Close the handles this fetcher keeps for its next transfers (none of them then
        holds its ``share``)."""
        for curl in self._free:
            curl.close()
        self._free.clear()

    def _connected(self, transfer: _Transfer) -> int:
        transfer.connected_at = transfer.last_byte = time.monotonic()
        return 0  # CURL_PREREQFUNC_OK

    def _write(self, transfer: _Transfer, chunk: bytes) -> int | None:
        transfer.last_byte = time.monotonic()
        transfer.size += len(chunk)
        try:
            if transfer.size > self.limit:
                raise BodyTooLarge(f"{transfer.url}: body exceeds {self.limit} bytes")
            self.budget.take(len(chunk))
        except BodyTooLarge as exc:  # BudgetSpent too
            transfer.failure = exc
            return 0  # a short write: libcurl ends the transfer (CURLE_WRITE_ERROR)
        transfer.chunks.append(chunk)
        return None

    # -- outcomes -------------------------------------------------------------------------
    def _error(self, transfer: _Transfer, code: int) -> Exception:
        """The failure for libcurl's ``code``, as the kind of exception requests would raise
        for it (a :class:`~depaudit.failures.TransportError`: never libcurl's message, which
        can carry the URL)."""
        pycurl = self.pycurl
        if transfer.failure is not None:
            return transfer.failure
        if code == pycurl.E_FILESIZE_EXCEEDED:
            declared = transfer.read().get("Content-Length", "?")
            return BodyTooLarge(
                f"{transfer.url}: body exceeds {self.limit} bytes ({declared} declared)"
            )
        if code == pycurl.E_OPERATION_TIMEDOUT:  # (ConnectTimeout before, ReadTimeout after)
            return TransportError(TIMED_OUT, connection=True)
        if code == pycurl.E_BAD_CONTENT_ENCODING:
            return TransportError(UNDECODABLE, connection=False)
        if code in _TLS_ERRORS:  # (SSLError, a ConnectionError)
            return TransportError(TLS_ERROR, connection=True)
        if transfer.status and code in _BROKEN_BODY:
            return TransportError(BROKEN_BODY, connection=False)
        return TransportError(COULD_NOT_CONNECT, connection=True)

    def _retry_delay(self, transfer: _Transfer, kind: str) -> float | None:
        """Seconds to wait before the next try, or None when the policy is spent."""
        policy = transfer.policy
        if kind != "connect" and not policy.retried(transfer.method):
            return None  # (urllib3 raises at once: the request may have had its effect)
        policy.total -= 1
        if kind == "status":
            policy.status -= 1
        elif kind == "connect":
            policy.connect -= 1
        else:
            policy.read -= 1
        if min(policy.total, policy.status, policy.connect, policy.read) < 0:
            return None
        transfer.errors += 1
        if kind == "status" and policy.retry is not None:
            get = getattr(policy.retry, "get_retry_after", None)
            if get is not None and transfer.status in RETRY_AFTER_STATUSES:
                after = get(_Answer(transfer.read()))
                if after:
                    return float(after)  # already capped by the session's Retry
        if transfer.errors <= 1:
            return 0.0
        return min(policy.backoff_max, policy.backoff_factor * 2.0 ** (transfer.errors - 1))

    def _finish(self, transfer: _Transfer) -> Fetched | Exception | float:
        """A completed transfer: the answer, a redirect or a retry (the delay, after which
        the transfer starts again), or an exception."""
        headers = transfer.read()
        status, location = transfer.status, headers.get("Location")
        if status in REDIRECTS and location:
            if transfer.hop >= MAX_REDIRECTS:  # (requests' TooManyRedirects)
                return TransportError(TOO_MANY_REDIRECTS, connection=False)
            transfer.url = requote_uri(urljoin(transfer.url, location))
            transfer.hop += 1
            # as requests' rebuild_method and resolve_redirects: 302 and 303 go on as a GET
            # (a HEAD stays one), 301 turns a POST into a GET; and past any redirect but 307
            # and 308 the body is dropped, with the headers that describe it
            if (status in (302, 303) and transfer.method != "HEAD") or (
                status == 301 and transfer.method == "POST"
            ):
                transfer.method = "GET"
            if status not in (307, 308):
                transfer.data = None
                transfer.extra = {
                    k: v for k, v in transfer.extra.items() if k.lower() not in _BODY_HEADERS
                }
            return 0.0
        if status in transfer.policy.statuses:
            delay = self._retry_delay(transfer, "status")
            if delay is not None:
                return delay
        chunks = transfer.chunks
        transfer.chunks = []
        body: bytes | Pieces
        if len(chunks) == 1:
            body = chunks[0]
        else:
            body = b"".join(chunks) if self.whole or not chunks else Pieces(chunks)
        return Fetched(status, transfer.url, headers, body)

    def _failed(self, transfer: _Transfer, code: int) -> Exception | float:
        transfer.read()
        error = self._error(transfer, code)
        transfer.chunks = []
        if isinstance(error, BodyTooLarge) or transfer.status:
            return error  # the answer began: as urllib3 with a streamed body, not retried
        kind = "connect" if transfer.connected_at is None else "read"
        delay = self._retry_delay(transfer, kind)
        return error if delay is None else delay

    # -- the loop -------------------------------------------------------------------------
    def get_many(
        self,
        jobs: Iterable[Job],
        done: Done,
        admit: Callable[[int], bool] = lambda _: True,
        started: Callable[[], None] | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> None:
        """Fetch every job, ``parallel`` at a time; ``done(job, Fetched | Exception)`` for
        each, in the order they end. The slots of a round's answers are refilled, and the new
        requests sent, before those answers go to ``done``: no request waits on their Python.
        A failure (an exception, or a status from 400 on) goes to ``done`` at once: the
        caller may decide on it whether to go on asking. ``admit(pending)`` is asked before a
        new job starts (False: wait, e.g. while fetched bodies wait for their decoder);
        ``pending`` is the bytes of the bodies answered and not handed to ``done`` yet. Jobs
        are drawn from ``jobs`` lazily, so its iterator may decide at that moment to skip
        some. ``started()`` is called once, when the first transfers are under way. When
        ``stop()`` says so (the run ends early: an error, or Ctrl-C), the answers in are
        handed over, the transfers in flight are dropped and the rest never start; ``done``
        is not called for them."""
        pycurl = self.pycurl
        multi = pycurl.CurlMulti()
        multi.setopt(pycurl.M_MAXCONNECTS, self.parallel)
        active: dict[Any, _Transfer] = {}
        waiting: list[tuple[float, int, _Transfer]] = []  # retries and redirects, by time
        source = iter(jobs)
        drained = False
        held: _Transfer | None = None  # drawn, waiting for room at its origin
        self._in_flight.clear()
        self._header_lines = {}
        #: answers settled but not handed to ``done`` yet: their slots are refilled and the
        #: new requests sent first (``deliver``), so no request waits on the Python of the
        #: answers that came in with it (~0.3 ms each, 32 of a round at once: 1.30x against
        #: 1.34x the floor at 50 ms, benchmarks/README.md "The scan's end"); ``pending`` is
        #: their bodies' bytes, which ``admit`` counts
        ready: list[tuple[Job, Fetched | Exception]] = []
        pending = 0

        def deliver() -> None:
            nonlocal pending
            batch = ready[:]
            ready.clear()
            pending = 0
            for job, outcome in batch:
                done(job, outcome)

        def start(transfer: _Transfer) -> None:
            try:
                self.budget.check()
            except BudgetSpent as exc:
                deliver()  # (the answers before it first)
                done(transfer.job, exc)
                return
            curl = self._handle(transfer)
            transfer.last_byte = time.monotonic()
            transfer.origin = origin_key(transfer.url)
            self._in_flight[transfer.origin] = self._in_flight.get(transfer.origin, 0) + 1
            active[curl] = transfer
            multi.add_handle(curl)

        def settle(curl: Any, outcome: Fetched | Exception | float) -> None:
            nonlocal pending
            transfer = active.pop(curl)
            self._in_flight[transfer.origin] -= 1
            multi.remove_handle(curl)
            self._free.append(curl)
            if isinstance(outcome, float):
                self._seq += 1
                heapq.heappush(waiting, (time.monotonic() + outcome, self._seq, transfer))
            elif isinstance(outcome, Fetched) and outcome.status < 400:
                ready.append((transfer.job, outcome))
                pending += len(outcome.body)
            else:  # a failure, at once (after those before it): the caller may stop asking
                deliver()  # on it (the registry does, for a host out of reach or rate limited)
                done(transfer.job, outcome)

        try:
            while True:
                if stop is not None and stop():
                    deliver()  # (what had come in; the transfers in flight are removed below)
                    return
                now = time.monotonic()
                if self.budget.out_of_time():
                    deliver()
                    if held is not None:
                        waiting.append((now, 0, held))  # answered with the rest
                        held = None
                    self._stop_all(active, waiting, source, multi, done)
                    return
                before = len(active)
                while waiting and waiting[0][0] <= now and self._room(waiting[0][2].url):
                    start(heapq.heappop(waiting)[2])
                while len(active) + len(waiting) < self.multiplexed and admit(pending):
                    if held is None:
                        job = None if drained else next(source, None)
                        if job is None:
                            drained = True
                            break
                        held = _Transfer(
                            job, job.url, self._policy(job.url), job.verb, job.data, job.headers
                        )
                    if not self._room(held.url):
                        break  # its origin is full (more HTTP/1.1 transfers would queue in
                        # libcurl, where the wait counts against the connect timeout)
                    start(held)
                    held = None
                if ready:
                    if len(active) > before:
                        multi.perform()  # the new requests go out before the answers' Python
                    deliver()
                if drained and held is None and not active and not waiting:
                    return
                pumped = self._pump(multi, active, settle)
                if started is not None and active:
                    call = started
                    started = None
                    call()  # the first requests are out
                if pumped or self._time_out_idle(active, settle):
                    continue  # slots freed: new transfers start before any waiting
                if active:
                    wanted = multi.timeout()  # ms until libcurl wants to be called, -1: none
                    multi.select(TICK if wanted < 0 else min(TICK, wanted / 1000))
                else:
                    wake = waiting[0][0] - time.monotonic() if waiting else TICK
                    time.sleep(min(max(wake, 0.0), TICK, self.budget.remaining()))
        finally:
            for curl in list(active):
                multi.remove_handle(curl)
            multi.close()

    def _pump(
        self,
        multi: Any,
        active: dict[Any, _Transfer],
        settle: Callable[[Any, Fetched | Exception | float], None],
    ) -> int:
        """Let libcurl move every transfer along; settle those it finished (how many)."""
        pycurl = self.pycurl
        while True:
            code, _ = multi.perform()
            if code != pycurl.E_CALL_MULTI_PERFORM:
                break
        settled = 0 if self.inflate else self._count(active, settle)
        while True:
            queued, succeeded, failed = multi.info_read()
            # (a transfer _count ended has no message left: libcurl drops those of a
            # handle removed)
            for curl in succeeded:
                self._learn(curl, active[curl])
                settle(curl, self._finish(active[curl]))
            for curl, errno, _message in failed:
                settle(curl, self._failed(active[curl], errno))
            settled += len(succeeded) + len(failed)
            if not queued:
                return settled

    def _count(
        self,
        active: dict[Any, _Transfer],
        settle: Callable[[Any, Fetched | Exception | float], None],
    ) -> int:
        """For bodies kept as sent (``inflate=False``: their chunks appended by libcurl, in
        C), what each transfer received since the last round: its size, the time of its last
        byte, the cap and the run's budget, as :meth:`_write` checks each chunk otherwise. A
        transfer over the cap ends with :class:`BodyTooLarge`; every transfer under way, once
        the budget is spent, with :class:`BudgetSpent` (each would at its next chunk). How
        many ended."""
        got, now = 0, 0.0
        over: list[Any] = []
        for curl, transfer in active.items():
            chunks = transfer.chunks
            if len(chunks) == transfer.counted:
                continue
            size = sum(map(len, chunks[transfer.counted :]))
            transfer.counted = len(chunks)
            transfer.size += size
            got += size
            transfer.last_byte = now = now or time.monotonic()
            if transfer.size > self.limit:
                over.append(curl)
        for curl in over:
            transfer = active[curl]
            transfer.chunks = []
            settle(curl, BodyTooLarge(f"{transfer.url}: body exceeds {self.limit} bytes"))
        if not got:
            return len(over)
        try:
            self.budget.take(got)
        except BudgetSpent as exc:
            spent = list(active)
            for curl in spent:
                active[curl].chunks = []
                settle(curl, exc)
            return len(over) + len(spent)
        return len(over)

    def _room(self, url: str) -> bool:
        """Whether a transfer to ``url`` may start now: fewer than ``parallel`` in flight to
        its origin, or ``multiplexed`` once it has answered over HTTP/2."""
        origin = origin_key(url)
        cap = self.multiplexed if origin in self.multiplexing else self.parallel
        return self._in_flight.get(origin, 0) < cap

    def _learn(self, curl: Any, transfer: _Transfer) -> None:
        """Note an origin that answered over HTTP/2 (or 3): its transfers share connections,
        so more of them can be in flight (the round trips, not the connections, bound it)."""
        if transfer.origin not in self.multiplexing and self.multiplexed > self.parallel:
            version = curl.getinfo(self.pycurl.INFO_HTTP_VERSION)
            if version >= self.pycurl.CURL_HTTP_VERSION_2_0:
                self.multiplexing.add(transfer.origin)

    def _time_out_idle(
        self,
        active: dict[Any, _Transfer],
        settle: Callable[[Any, Fetched | Exception | float], None],
    ) -> int:
        """A connected transfer that heard nothing for the read timeout ends as a read
        timeout (libcurl's own timeouts cover connecting only); how many ended."""
        now = time.monotonic()
        idle = [
            (curl, transfer)
            for curl, transfer in active.items()
            if transfer.connected_at is not None and now - transfer.last_byte > self.read_timeout
        ]
        for curl, transfer in idle:
            settle(curl, self._failed(transfer, self.pycurl.E_OPERATION_TIMEDOUT))
        return len(idle)

    def _stop_all(
        self,
        active: dict[Any, _Transfer],
        waiting: list[tuple[float, int, _Transfer]],
        source: Iterable[Job],
        multi: Any,
        done: Done,
    ) -> None:
        """The deadline passed: every job not answered yet ends with BudgetSpent."""
        try:
            self.budget.check()
        except BudgetSpent as exc:
            spent = exc
        else:  # pragma: no cover - out_of_time() said so
            spent = BudgetSpent("the network time budget per run is spent")
        for curl, transfer in list(active.items()):
            multi.remove_handle(curl)
            del active[curl]
            done(transfer.job, spent)
        for _, _, transfer in waiting:
            done(transfer.job, spent)
        waiting.clear()
        for job in source:
            done(job, spent)


def get_one(session: Session, url: str, headers: Mapping[str, str] | None = None) -> Fetched:
    """One GET through :class:`BulkFetcher`; its failure is raised."""
    result = fetch_one(session, Job(None, url, headers or {}))
    if isinstance(result, Exception):
        raise result
    return result


def fetch_one(
    session: Session,
    job: Job,
    timeout: tuple[float, float] | None = None,
    max_body: int | None = None,
) -> Fetched | Exception:
    """One request (:class:`Job`) through :class:`BulkFetcher`: the answer (any status), or
    the exception for its failure. Its connection is kept for the session's next request
    (:func:`depaudit.connections.kept_connections`), unless another thread's request holds
    them: then it has one of its own, ended with it."""
    outcome: list[Fetched | Exception] = []
    kept = kept_connections(session)
    if kept is not None and not kept[1].acquire(blocking=False):
        kept = None
    fetcher = BulkFetcher(
        session, 1, timeout=timeout, max_body=max_body, share=kept[0] if kept else None
    )
    try:
        fetcher.get_many([job], lambda _, o: outcome.append(o))
    finally:
        fetcher.release()
        if kept is not None:
            kept[1].release()
    (result,) = outcome
    return result


#: the headers requests drops with the body (``SessionRedirectMixin.resolve_redirects``)
_BODY_HEADERS = frozenset({"content-length", "content-type", "transfer-encoding"})


def _codes(*names: str) -> frozenset[int]:
    import pycurl

    return frozenset(getattr(pycurl, name) for name in names if hasattr(pycurl, name))


_TLS_ERRORS = _codes(
    "E_SSL_CONNECT_ERROR",
    "E_PEER_FAILED_VERIFICATION",
    "E_SSL_CERTPROBLEM",
    "E_SSL_CIPHER",
    "E_SSL_CACERT_BADFILE",
    "E_SSL_SHUTDOWN_FAILED",
    "E_SSL_CRL_BADFILE",
    "E_SSL_ISSUER_ERROR",
    "E_SSL_PINNEDPUBKEYNOTMATCH",
    "E_SSL_INVALIDCERTSTATUS",
    "E_SSL_ENGINE_NOTFOUND",
    "E_SSL_ENGINE_SETFAILED",
    "E_SSL_CLIENTCERT",
)
_BROKEN_BODY = _codes(
    "E_PARTIAL_FILE", "E_RECV_ERROR", "E_GOT_NOTHING", "E_HTTP2_STREAM", "E_HTTP2"
)
