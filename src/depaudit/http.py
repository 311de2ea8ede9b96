"""One ``requests.Session`` for every service: User-Agent, retries, timeouts, scoped
credentials and a cap on how much of a body is read.

Services get their session from :func:`build_session`; their requests are sent by libcurl
(:mod:`depaudit.http_bulk`: the registry's packuments many at once, the advisories' POST and
GitHub's calls one at a time with ``fetch_one``), which follows the session's settings, so no
response can fill memory and no credential reaches a URL outside its npm "nerf dart" scope
(see :mod:`depaudit.npmrc`), not even after a redirect. ``requests`` still chooses the
proxies for a URL and holds the retry policy its adapters carry.

What a transfer needs that is not ``requests``' (the response types, npm's proxy and TLS
settings per URL, the heap settings for bodies, the defaults) is :mod:`depaudit.transport`'s,
re-exported here, as the run's network budget is :mod:`depaudit.run_budget`'s: a fetch worker
runs on them without ``requests``.
"""

from __future__ import annotations

import math
import socket
import warnings
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import exceptions as urllib3_exceptions
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.retry import Retry

if TYPE_CHECKING:
    from requests.sessions import _Settings

    from depaudit.npm_network import NpmNetwork

from depaudit.budget import NETWORK_SECONDS, RESPONSE_BYTES
from depaudit.failures import TransportError as TransportError
from depaudit.failures import describe_failure as describe_failure
from depaudit.run_budget import WATCHDOG as WATCHDOG  # (the budget's names, re-exported)
from depaudit.run_budget import BodyTooLarge as BodyTooLarge
from depaudit.run_budget import BudgetSpent as BudgetSpent
from depaudit.run_budget import RunBudget as RunBudget
from depaudit.run_budget import Watchdog as Watchdog
from depaudit.transport import (  # (requests-free: the fetch workers' own; re-exported)
    DEFAULT_CONNECT_TIMEOUT as DEFAULT_CONNECT_TIMEOUT,
)
from depaudit.transport import DEFAULT_MAX_BODY as DEFAULT_MAX_BODY
from depaudit.transport import DEFAULT_READ_TIMEOUT as DEFAULT_READ_TIMEOUT
from depaudit.transport import MAX_REDIRECTS as MAX_REDIRECTS
from depaudit.transport import MAX_RETRY_AFTER as MAX_RETRY_AFTER
from depaudit.transport import REDIRECTS as REDIRECTS
from depaudit.transport import RETRIED_METHODS as RETRIED_METHODS
from depaudit.transport import RETRY_STATUSES as RETRY_STATUSES
from depaudit.transport import USER_AGENT as USER_AGENT
from depaudit.transport import AuthLookup as AuthLookup
from depaudit.transport import Fetched as Fetched
from depaudit.transport import NpmSettings
from depaudit.transport import Pieces as Pieces
from depaudit.transport import fixed_mmap_threshold as fixed_mmap_threshold
from depaudit.transport import heap_for_bodies as heap_for_bodies

#: the run's network budget (README "Resource budget"): wall time from the session's start
#: and decoded response bytes, over every request
RUN_NETWORK_SECONDS = NETWORK_SECONDS
RUN_RESPONSE_BYTES = RESPONSE_BYTES


def watched_pools(budget: RunBudget) -> dict[str, type[HTTPConnectionPool]]:
    """urllib3 pool classes whose connections put their sockets under ``budget``'s
    deadline (the raw socket when it is made, the TLS one once connected); past the
    deadline no connection is made (a connection error: urllib3's retries end fast, and
    :func:`get_capped` says the budget is spent)."""

    def refuse_late(conn: HTTPConnection) -> None:
        if budget.out_of_time():
            raise urllib3_exceptions.NewConnectionError(conn, "the run's network deadline passed")

    class WatchedHTTPConnection(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            refuse_late(self)
            sock = super()._new_conn()
            budget.watch(sock)
            return sock

    class WatchedHTTPSConnection(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            refuse_late(self)
            sock = super()._new_conn()
            budget.watch(sock)
            return sock

        def connect(self) -> None:
            super().connect()
            if self.sock is not None:
                budget.watch(self.sock)

    class WatchedHTTPPool(HTTPConnectionPool):
        ConnectionCls = WatchedHTTPConnection

    class WatchedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = WatchedHTTPSConnection

    return {"http": WatchedHTTPPool, "https": WatchedHTTPSPool}


class WatchedAdapter(HTTPAdapter):
    """An HTTPAdapter whose pools (direct and through a proxy) are :func:`watched_pools`."""

    def __init__(self, budget: RunBudget, **kwargs: Any) -> None:
        self.pools = watched_pools(budget)
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self.pools

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = self.pools
        return manager


class CappedRetry(Retry):
    """urllib3 Retry that honours Retry-After, but never for longer than MAX_RETRY_AFTER
    (nor past the run's network deadline, when the class carries a budget)."""

    budget: RunBudget | None = None

    def get_retry_after(self, response: Any) -> float | None:
        value = self._retry_after(response)
        if value is not None and self.budget is not None:
            return min(value, self.budget.remaining())
        return value

    def _retry_after(self, response: Any) -> float | None:
        try:
            value = super().get_retry_after(response)
        except (urllib3_exceptions.InvalidHeader, ValueError, OverflowError):
            return None  # "nan", "1e23", "inf": unreadable, so the usual back-off applies
        if value is None or not math.isfinite(float(value)):
            return None
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)


def make_retry(
    total: int = 3, backoff_factor: float = 0.3, budget: RunBudget | None = None
) -> Retry:
    retry_class: type[CappedRetry] = CappedRetry
    if budget is not None:  # a class attribute: urllib3 copies a Retry by its arguments

        class BudgetedRetry(CappedRetry):
            pass

        BudgetedRetry.budget = budget
        retry_class = BudgetedRetry
    return retry_class(
        total=total,
        connect=total,
        read=min(total, 2),
        status=total,
        backoff_factor=backoff_factor,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=RETRIED_METHODS,
        respect_retry_after_header=True,
        raise_on_status=False,
    )


class ScopedAuth(requests.auth.AuthBase):
    """Adds ``Authorization`` only when the lookup has a credential for the request URL."""

    def __init__(self, lookup: AuthLookup) -> None:
        self.lookup = lookup

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        header = self.lookup(request.url or "")
        if header and "Authorization" not in request.headers:
            request.headers["Authorization"] = header
        return request

    def __repr__(self) -> str:
        return "ScopedAuth(***)"


class DepauditSession(requests.Session, NpmSettings):
    """A Session with default timeouts and scope-checked credentials on every hop, and
    npm's proxy and TLS settings (``network``) over the environment's where npm sets them."""

    def __init__(
        self,
        timeout: tuple[float, float],
        auth_lookup: AuthLookup | None,
        max_body: int,
        budget: RunBudget | None = None,
        network: NpmNetwork | None = None,
    ) -> None:
        super().__init__()
        self.default_timeout = timeout
        self.auth_lookup = auth_lookup
        self.max_body = max_body
        self.budget = budget if budget is not None else RunBudget()
        self.network = network if network is not None and network.configured else None
        self._environment: dict[tuple[Any, ...], _Settings] = {}
        self._ca_bundle: str | None = None  # npm's inline ``ca``, written out for TLS
        if auth_lookup is not None:
            self.auth = ScopedAuth(auth_lookup)

    def close(self) -> None:
        super().close()
        self._close_parts()

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        kwargs.setdefault("timeout", self.default_timeout)
        return super().request(method, url, *args, **kwargs)

    def merge_environment_settings(
        self, url: str | bytes | None, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> _Settings:
        """requests reads the proxy and CA variables of the environment on every request
        (two scans of ``os.environ`` each: a quarter of a thousand-packument fetch, profiled);
        they do not change during a run, so the answer is kept per scheme and host."""
        text = url.decode() if isinstance(url, bytes) else (url or "")
        parts = urlsplit(text)
        key = (
            parts.scheme,
            parts.netloc,
            tuple(sorted((proxies or {}).items())),
            stream,
            verify if isinstance(verify, (bool, str, type(None))) else id(verify),
            cert if isinstance(cert, (str, tuple, type(None))) else id(cert),
        )
        cached = self._environment.get(key)
        if cached is None:
            npm = self.network if not proxies and verify is None else None  # none given
            cached = super().merge_environment_settings(url, proxies, stream, verify, cert)
            if npm is not None:
                cached = self._npm_settings(text, cached, npm)
            self._environment[key] = cached
        fresh = cached.copy()
        fresh["proxies"] = dict(cached["proxies"])  # requests may change it per request
        return fresh

    def _insecure(self) -> None:
        # the registry's service says it once in the report, not urllib3 per request
        warnings.filterwarnings("ignore", category=urllib3_exceptions.InsecureRequestWarning)

    def rebuild_auth(
        self, prepared_request: requests.PreparedRequest, response: requests.Response
    ) -> None:
        """On a redirect, drop any Authorization and add one only if the *new* URL is in a
        credential's scope (requests alone would keep it for another path on the same host,
        and would consult ~/.netrc)."""
        prepared_request.headers.pop("Authorization", None)
        if self.auth_lookup is not None:
            header = self.auth_lookup(prepared_request.url or "")
            if header:
                prepared_request.headers["Authorization"] = header


def build_session(
    jobs: int = 8,
    auth_lookup: AuthLookup | None = None,
    *,
    retries: int = 3,
    backoff_factor: float = 0.3,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    max_body: int = DEFAULT_MAX_BODY,
    user_agent: str = USER_AGENT,
    network_seconds: float = RUN_NETWORK_SECONDS,
    response_bytes: int = RUN_RESPONSE_BYTES,
    network: NpmNetwork | None = None,
    budget: RunBudget | None = None,
) -> DepauditSession:
    """One pooled session (pool >= ``jobs``) with retries on 429/5xx and default timeouts.

    ``auth_lookup`` is typically :meth:`depaudit.npmrc.NpmConfig.auth_for`, and ``network``
    :attr:`depaudit.npmrc.NpmConfig.network` (npm's proxy and TLS settings). ``budget``: the
    run's, made already (``network_seconds`` and ``response_bytes`` are then its own)."""
    fixed_mmap_threshold()
    if budget is None:
        budget = RunBudget(network_seconds, response_bytes)
    session = DepauditSession(
        (connect_timeout, read_timeout), auth_lookup, max_body, budget, network
    )
    session.headers["User-Agent"] = user_agent
    adapter = WatchedAdapter(
        budget,
        pool_connections=4,
        pool_maxsize=max(jobs, 4),
        max_retries=make_retry(retries, backoff_factor, budget),
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
