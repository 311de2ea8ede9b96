"""What a transfer needs that is not ``requests``': the fetch workers run on it alone.

A fetch worker (:mod:`depaudit.services.fetch_worker`) drives libcurl
(:mod:`depaudit.http_bulk`) with the settings a :class:`~depaudit.http.DepauditSession` would
give each request. Importing ``requests`` (urllib3, charset_normalizer, http.cookiejar, ssl,
email...) cost the scan 46-80 ms before it could fork its workers, on the one core its start
uses; so where the environment names no proxy (:func:`plain_environment`, on Linux), a
worker's session is a :class:`PlainSession`: the same headers, retry counts, timeouts, body
cap, budget, credentials per scope, CA bundle and npm's proxy and TLS settings
(:class:`NpmSettings`, shared with ``DepauditSession``), computed without ``requests``.
``Retry-After`` is read as urllib3 reads it, a redirect's target as requests quotes it
(:func:`requote_uri`), and libcurl's failures are :class:`~depaudit.failures.TransportError`
instances; only proxies to choose from import ``requests``.

Also here, for the same reason: the response types (:class:`Fetched`, :class:`Pieces`), the
redirect statuses and the process's heap settings for bodies (:func:`fixed_mmap_threshold`,
:func:`heap_for_bodies`). :mod:`depaudit.http` re-exports them.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import tempfile
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from certifi import where

from depaudit import __version__
from depaudit.budget import NETWORK_SECONDS, RESPONSE_BYTES
from depaudit.connections import close_kept_connections
from depaudit.errors import ConfigError
from depaudit.npm_network import bypasses_proxy, read_pem_file
from depaudit.run_budget import RunBudget
from depaudit.slots import dataclass

if TYPE_CHECKING:
    from depaudit.npm_network import NpmNetwork

USER_AGENT = f"depaudit/{__version__}"
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_MAX_BODY = 256 * 1024 * 1024  # the biggest packuments are tens of MB
RETRY_STATUSES = (429, 500, 502, 503, 504)
#: the methods retried after a read error or on a status (a request that may have had its
#: effect is not sent again: a POST, a PATCH); a failure to connect is retried whatever
RETRIED_METHODS = frozenset({"GET", "HEAD"})
MAX_RETRY_AFTER = 30.0  # seconds: never sleep longer than this on one Retry-After
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10
#: url -> Authorization header value (or None)
AuthLookup = Callable[[str], "str | None"]


class Pieces:
    """A body as the chunks it arrived in (libcurl's write callbacks, ~8 kB each over TLS),
    not joined: a registry fetch the scan drives itself hands them to its decoding worker's
    pipe as they are (``os.writev``), so theia's 215 MB are not copied once more by the
    fetch's thread, the scan's busiest (:class:`~depaudit.http_bulk.BulkFetcher` with
    ``whole=False``). ``len`` is the body's size in bytes; ``bytes(pieces)`` joins them."""

    __slots__ = ("chunks", "size")

    def __init__(self, chunks: Sequence[bytes]) -> None:
        self.chunks = tuple(chunks)
        self.size = sum(map(len, self.chunks))

    def __len__(self) -> int:
        return self.size

    def __bytes__(self) -> bytes:
        return b"".join(self.chunks)

    def __repr__(self) -> str:
        return f"Pieces({len(self.chunks)} chunks, {self.size} bytes)"


@dataclass(frozen=True, slots=True)
class Fetched:
    """A response whose body was read under the cap: whole, or as :class:`Pieces` where the
    fetch was asked for them."""

    status: int
    url: str
    headers: Mapping[str, str]
    body: bytes | Pieces


#: glibc's M_MMAP_THRESHOLD and M_TRIM_THRESHOLD (mallopt); see :func:`fixed_mmap_threshold`
M_MMAP_THRESHOLD = -3
M_TRIM_THRESHOLD = -1
MMAP_THRESHOLD = 256 * 1024
#: a fetch worker's: bodies up to this size from its heap (see :func:`heap_for_bodies`)
WORKER_MMAP_THRESHOLD = 64 * 1024 * 1024
_mmap_fixed: bool | None = None


def _mallopt(*settings: tuple[int, int]) -> bool:
    """glibc's ``mallopt`` for each (parameter, value); False where there is none, or where
    it refused one."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    done = [bool(mallopt(parameter, value)) for parameter, value in settings]  # (each one)
    return all(done)


def fixed_mmap_threshold() -> bool:
    """Blocks over 256 KiB (response bodies) are mapped and unmapped by themselves, not carved
    from the heap. glibc raises its threshold to the largest block freed (up to 32 MB), so
    after the first big packument every body came from the heap of one of the fetch threads'
    arenas and fragmented it: a cold scan of 1,877 packuments peaked at 246-256 MiB, 98-100
    MiB with the threshold fixed (benchmarks/README.md). Once per process (a fetch worker
    then sets its own: :func:`heap_for_bodies`); False where there is no glibc ``mallopt``."""
    global _mmap_fixed
    if _mmap_fixed is None:
        _mmap_fixed = _mallopt((M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    return _mmap_fixed


def heap_for_bodies() -> bool:
    """In a fetch worker, where one thread joins each body and decodes it before the next:
    bodies up to :data:`WORKER_MMAP_THRESHOLD` come from the heap, and what is freed stays
    there for the next one (trimmed above twice that). Mapped afresh each time, a body's
    pages were faulted in and zeroed by the kernel before the join copied into them: joining
    half of theia's bodies (102 MB) took 52-56 ms, 9-10 ms from the heap; with msgspec's
    decode 164-184 ms against 130-140 ms (benchmarks/README.md). False where there is no
    glibc ``mallopt``."""
    global _mmap_fixed
    _mmap_fixed = True  # (build_session's setting must not come back in this process)
    return _mallopt(
        (M_MMAP_THRESHOLD, WORKER_MMAP_THRESHOLD), (M_TRIM_THRESHOLD, 2 * WORKER_MMAP_THRESHOLD)
    )


def _read_text(path: str) -> str:
    """certifi's bundle, ending with a line break (so the next file starts on its own)."""
    with open(path, encoding="utf-8", errors="replace") as source:
        text = source.read()
    return text if text.endswith("\n") else text + "\n"


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


class NpmSettings:
    """npm's proxy and TLS settings for a URL, over what the environment gives
    (``DepauditSession.merge_environment_settings``, :class:`PlainSession`); an inline CA
    is written to a file of its own (``_ca_bundle``), removed by :meth:`_close_parts`."""

    _ca_bundle: str | None = None

    def _npm_settings(self, url: str, settings: Any, network: NpmNetwork) -> Any:
        """npm's proxy and TLS settings over the environment's (``settings``), for ``url``:
        its proxy, or none for a ``noproxy`` host; ``strict-ssl=false``; ``cafile``/``ca``
        as the only certificates trusted, as npm trusts them; else ``NODE_EXTRA_CA_CERTS``
        beside certifi's, where the environment names no bundle for Python."""
        out = settings.copy()
        if network.proxy is not None:
            proxy = network.proxy_for(url, os.environ)
            out["proxies"] = {"http": proxy, "https": proxy} if proxy else {}
        elif network.no_proxy and bypasses_proxy(url, network.no_proxy):
            out["proxies"] = {}  # the environment's proxy, skipped as npm skips it
        if not network.strict_ssl:
            out["verify"] = False
            self._insecure()
        elif network.ca_file is not None:
            out["verify"] = network.ca_file
        elif network.ca is not None:
            out["verify"] = self._written_ca(lambda: network.ca or "")
        elif network.extra_ca_file is not None and out["verify"] is True:
            # node's default CAs and NODE_EXTRA_CA_CERTS, where Python was told nothing:
            # certifi's and the extra ones (unless the file has gone since it was read, or
            # the temporary folder is read-only: certifi's alone then, as before)
            with contextlib.suppress(OSError, ValueError, ConfigError):
                extra = read_pem_file(Path(network.extra_ca_file))
                out["verify"] = self._written_ca(lambda: _read_text(where()) + extra)
        return out

    def _insecure(self) -> None:
        """``strict-ssl=false`` applies (requests' session silences urllib3's warning)."""

    def _written_ca(self, pem: Callable[[], str]) -> str:
        """Certificates that are not in one file yet (npm's inline ``ca``; certifi's with
        ``NODE_EXTRA_CA_CERTS``) in a file of their own, as TLS libraries read them: written
        once, removed when the session closes."""
        if self._ca_bundle is None:
            text = pem()
            path = ""
            try:
                handle, path = tempfile.mkstemp(prefix="depaudit-ca-", suffix=".pem")
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    out.write(text if text.endswith("\n") else text + "\n")
            except OSError as exc:  # a read-only or full temporary folder
                if path:
                    _unlink_quietly(path)
                raise ConfigError(
                    f"{tempfile.gettempdir()}: the CA certificates to trust cannot be written "
                    f"there for TLS ({exc.strerror or exc})",
                    "set TMPDIR to a writable folder, or give npm a cafile=PATH",
                ) from None
            self._ca_bundle = path
            weakref.finalize(self, _unlink_quietly, path)
        return self._ca_bundle

    def _close_parts(self) -> None:
        """End what the session holds beside its settings: the connections
        ``http_bulk.fetch_one`` kept (``connections.kept_connections``), the CA bundle written
        for an inline ``ca``."""
        close_kept_connections(self)
        bundle, self._ca_bundle = self._ca_bundle, None
        if bundle is not None:
            _unlink_quietly(bundle)


#: the CA bundles requests reads from the environment, the first one set winning
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


#: the characters a URL never needs escaped (RFC 3986 "unreserved"): an escape of one of
#: them is written as the character itself by :func:`requote_uri`
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def requote_uri(uri: str) -> str:
    """A redirect's target made a URL as ``requests`` makes it (``requests.utils.requote_uri``,
    held to it by a property test, ``tests/test_transport.py``), without ``requests``: an
    escape of an unreserved character unescaped, every other escape kept, and what a URL may
    not hold (spaces, non-ASCII...) escaped; where a ``%`` is followed by two letters or
    digits that are not hexadecimal, every ``%`` is escaped instead."""
    from urllib.parse import quote

    first, *after = uri.split("%")
    pieces = [first]
    for piece in after:
        code = piece[:2]
        if len(code) < 2 or not code.isalnum():
            pieces.append("%" + piece)
            continue
        try:
            char = chr(int(code, 16))
        except ValueError:  # (not hexadecimal: the URL's escapes cannot be trusted)
            return quote(uri, safe="!#$&'()*+,/:;=?@[]~")
        pieces.append(char + piece[2:] if char in _UNRESERVED else "%" + piece)
    return quote("".join(pieces), safe="!#$%&'()*+,/:;=?@[]~")


def plain_environment(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``requests`` would read no proxy from this environment (on Linux, where
    urllib reads proxies from the environment alone): no ``*_proxy`` variable in any case
    (a proxy, or ``no_proxy``). Its CA bundle variables :class:`PlainSession` reads itself."""
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux"):
        return False
    return not any(name.lower().endswith("_proxy") for name in env)


class _PlainRetry:
    """A session's retry policy as ``make_retry`` sets it (``depaudit.http``), and its
    ``CappedRetry.get_retry_after`` without urllib3 (urllib3's ``Retry.parse_retry_after``:
    whole seconds, else an HTTP date; tests/test_transport.py holds the two together)."""

    def __init__(self, total: int, backoff_factor: float, budget: RunBudget) -> None:
        self.total, self.connect, self.status = total, total, total
        self.read = min(total, 2)
        self.backoff_factor = backoff_factor
        self.backoff_max = 120.0  # (urllib3's Retry.DEFAULT_BACKOFF_MAX)
        self.status_forcelist = frozenset(RETRY_STATUSES)
        self.allowed_methods = RETRIED_METHODS
        self.budget = budget

    def get_retry_after(self, response: Any) -> float | None:
        value = response.headers.get("Retry-After")
        if value is None:
            return None
        try:
            bare = value.strip()  # (urllib3's ^\s*[0-9]+\s*$: whole seconds, else a date)
            if bare.isascii() and bare.isdigit():
                seconds = float(min(int(bare), 1 << 53))  # (capped below: 400 digits too)
            else:
                from email.utils import mktime_tz, parsedate_tz

                parsed = parsedate_tz(value)
                if parsed is None:
                    return None  # unreadable: the usual back-off applies
                seconds = mktime_tz(parsed) - time.time()
        except (ValueError, OverflowError):
            return None
        if not math.isfinite(seconds):
            return None
        return min(min(max(seconds, 0.0), MAX_RETRY_AFTER), self.budget.remaining())


@dataclass(frozen=True, slots=True)
class _PlainAdapter:
    max_retries: _PlainRetry


class PlainSession(NpmSettings):
    """What :class:`~depaudit.http_bulk.BulkFetcher` reads of a session, made without
    ``requests`` for a :func:`plain_environment`: :func:`plain_session` makes it, with
    :func:`depaudit.http.build_session`'s arguments."""

    def __init__(
        self,
        timeout: tuple[float, float],
        auth_lookup: AuthLookup | None,
        max_body: int,
        budget: RunBudget,
        network: NpmNetwork | None,
        user_agent: str,
        retry: _PlainRetry,
    ) -> None:
        self.default_timeout = timeout
        self.auth_lookup = auth_lookup
        self.max_body = max_body
        self.budget = budget
        self.network = network if network is not None and network.configured else None
        # requests.utils.default_headers(), in its order, the User-Agent set as build_session
        # sets it (BulkFetcher leaves Accept-Encoding and Connection to libcurl)
        self.headers = {
            "User-Agent": user_agent,
            "Accept-Encoding": "gzip, deflate",
            "Accept": "*/*",
            "Connection": "keep-alive",
        }
        self._adapter = _PlainAdapter(retry)
        self._environment: dict[str, dict[str, Any]] = {}

    def get_adapter(self, url: str) -> _PlainAdapter:
        return self._adapter

    def merge_environment_settings(
        self, url: str, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        """As ``DepauditSession.merge_environment_settings`` for a :func:`plain_environment`
        and what ``BulkFetcher`` asks (no proxies, verify or cert of its own): no proxy, the
        environment's CA bundle as requests reads it (:data:`CA_VARIABLES`), then npm's."""
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        cached = self._environment.get(key)
        if cached is None:
            bundle = next((v for v in map(os.environ.get, CA_VARIABLES) if v), None)
            verify = bundle if bundle is not None else True
            cached = {"proxies": {}, "stream": stream, "verify": verify, "cert": None}
            if self.network is not None:
                cached = self._npm_settings(url, cached, self.network)
            self._environment[key] = cached
        fresh = cached.copy()
        fresh["proxies"] = dict(cached["proxies"])
        return fresh

    def close(self) -> None:
        self._close_parts()


def plain_session(
    jobs: int = 8,
    auth_lookup: AuthLookup | None = None,
    *,
    retries: int = 3,
    backoff_factor: float = 0.3,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    max_body: int = DEFAULT_MAX_BODY,
    user_agent: str = USER_AGENT,
    network_seconds: float = NETWORK_SECONDS,
    response_bytes: int = RESPONSE_BYTES,
    network: NpmNetwork | None = None,
    budget: RunBudget | None = None,
) -> PlainSession:
    """A :class:`PlainSession` with :func:`depaudit.http.build_session`'s arguments and
    defaults (``jobs``: a pool's size, which libcurl's transfers do not use)."""
    fixed_mmap_threshold()
    if budget is None:
        budget = RunBudget(network_seconds, response_bytes)
    return PlainSession(
        (connect_timeout, read_timeout),
        auth_lookup,
        max_body,
        budget,
        network,
        user_agent,
        _PlainRetry(retries, backoff_factor, budget),
    )
