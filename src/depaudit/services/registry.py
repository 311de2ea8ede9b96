"""npm registry enrichment: one packument request per unique name, concurrent, cached.

For every name in the tree: ``GET <registry>{name}`` (scoped names as ``@scope%2fname``) for
the *full* document, because only it carries ``time`` (publish dates; the abbreviated
"corgi" document has none). The requests go through :class:`depaudit.http_bulk.BulkFetcher`
(libcurl from one thread; :data:`DEFAULT_JOBS` per origin in flight over HTTP/1.1,
:data:`MULTIPLEXED_JOBS` over HTTP/2), gzip asked for; each body is handed, as sent, to
:class:`~depaudit.services.registry_decode.Decoders` (a worker process for big fetches, and
a second when it falls behind on two cores or more), which inflates it under the body cap,
reads only the fields depaudit needs (:func:`~depaudit.services.packument_body.pack_body`)
and gives back the cached form (one string line per version, cheap to read back), and the
body is dropped. As soon as a name's answer is decoded its cache entry (with the ETag /
Last-Modified validators) and its facts are made, while other requests still wait on the
network. A warm scan reads every name's entry in one batched :meth:`Cache.get_many`; after
the TTL they are revalidated (``If-None-Match`` / ``If-Modified-Since``; a 304 only
refreshes the timestamp). ``offline`` uses the cache alone.

A 404 is a fact (not in the registry); an unpublished tombstone (200 or 404 body with
``time.unpublished``) is a fact too. Network trouble leaves the package unknown and adds one
aggregated warning; ``failed`` is set only when no request succeeded at all.

Why this module is over ~400 lines: it is one service, one phase (ask, fetch, decode,
cache); the fetch loop, the decoder off the fetch path and :class:`BodyGate` share one
bounded memory budget and one set of outcomes.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote, urlsplit

from depaudit.budget import network_allowance, response_allowance
from depaudit.cache import DEFAULT_TTL, Cache, CacheEntry, GroupedWrites
from depaudit.errors import TLS_ERROR, ConfigError
from depaudit.models import PackageFacts
from depaudit.npm_process import RegistryQuery
from depaudit.npmrc import NoRegistry, NpmConfig, load_npm_config
from depaudit.progress import Progress
from depaudit.services import metrics
from depaudit.services import registry_snapshot as snapshot
from depaudit.services.fetch_claims import Crew
from depaudit.services.interface import EnrichmentResult, EnrichmentService, PackageRef
from depaudit.services.session_recipe import SessionRecipe
from depaudit.slots import dataclass

if TYPE_CHECKING:  # the HTTP stack is imported when a request is made, the fetch workers'
    # side when they are started: a warm scan makes no request and starts none
    from concurrent.futures import Future

    from depaudit.http import DepauditSession
    from depaudit.http_bulk import Job
    from depaudit.run_budget import RunBudget
    from depaudit.services.fetch_worker import FetchWorkers
    from depaudit.services.registry_decode import Decoders
    from depaudit.transport import PlainSession


NAMESPACE = "registry"
ACCEPT_FULL = "application/json"
#: requests in flight to one origin over HTTP/1.1 (a connection each): sized for a registry
#: tens of ms away (at a 50 ms round trip, 8 took 3.5x the latency floor of curl's 32;
#: benchmarks/README.md "Cold scan against curl"), twice npm's own 15 sockets
DEFAULT_JOBS = 32
#: and once the origin answers over HTTP/2, streams sharing one or two connections: against
#: the registry here (HTTP/2), theia's 1,766 names took 4.4-4.5 s with 32, 3.1-3.2 s with 64,
#: 2.4-2.8 s with 128 and no less with 192 or 256 (benchmarks/README.md, "Streams")
MULTIPLEXED_JOBS = 128
#: bytes of fetched bodies waiting for the decoder before new requests wait (peak memory)
PENDING_BODY_BYTES = 48 * 1024 * 1024
#: packuments to fetch from which decoding gets a process of its own (registry_decode.py);
#: starting one costs ~0.1 s of CPU, a few packuments decode in less in a thread
DECODE_PROCESS_FROM = 64
MAX_CONSECUTIVE_CONNECTION_FAILURES = 8
#: packages answered 429 after every retry before the rest of that host is skipped
RATE_LIMIT_STRIKES = 3
BUDGET_STOP = "budget: "  # an error that a run budget (time, bytes, rate limit) caused
OFFLINE_PLACEHOLDER = "https://registry.invalid/"
NPM_CONFIG_NAMESPACE = "npm-config"  # npm's last answer for the registry, for --offline


def build_session(*args: Any, **kwargs: Any) -> DepauditSession:
    """:func:`depaudit.http.build_session`, imported when the first request is near."""
    from depaudit.http import build_session as build

    return build(*args, **kwargs)


#: a name ``quote`` leaves as it is: ASCII letters, digits and ``_.-~``, and ``@`` and ``/``
_UNQUOTED_NAME = re.compile(r"[A-Za-z0-9_.~@/-]*")


def escape_name(name: str) -> str:
    """``@scope/name`` -> ``@scope%2fname`` (what npm sends); other characters quoted. The
    names of real packages have nothing to quote: they skip ``quote`` (theia's 1,766 names:
    0.6 ms where 1.5)."""
    if _UNQUOTED_NAME.fullmatch(name):
        return name.replace("/", "%2f")
    return quote(name, safe="@/").replace("/", "%2f")


@dataclass(frozen=True, slots=True)
class _Outcome:
    name: str
    data: dict[str, Any] | None = None  # extracted facts (fresh from the network)
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class _Pending:
    """An answer whose body the decoder has."""

    name: str
    url: str
    entry: CacheEntry | None
    status: int
    etag: str | None
    last_modified: str | None


class BodyGate:
    """Bounds the bytes of fetched bodies not decoded yet: while they reach ``limit``, no
    new request starts (:meth:`open` is False; the transfers under way finish), so a decoder
    slower than the network costs waiting, not memory: at most ``limit`` plus the bodies of
    the requests in flight."""

    def __init__(self, limit: int = PENDING_BODY_BYTES) -> None:
        self.limit = limit
        self.held = 0
        self.peak = 0
        self._lock = threading.Lock()

    def hold(self, size: int) -> None:
        with self._lock:
            self.held += size
            self.peak = max(self.peak, self.held)

    def release(self, size: int) -> None:
        with self._lock:
            self.held -= size

    def open(self, pending: int = 0) -> bool:
        """Whether a new request may start, with ``pending`` bytes of bodies fetched and not
        handed over yet (:meth:`BulkFetcher.get_many <depaudit.http_bulk.BulkFetcher.get_many>`)."""
        return self.held + pending < self.limit


def _versions(packages: Sequence[PackageRef]) -> dict[str, set[str]]:
    """Each name's versions."""
    versions: dict[str, set[str]] = {}
    for ref in packages:
        versions.setdefault(ref.name, set()).add(ref.version)
    return versions


def _stands(
    name: str,
    got: tuple[str, CacheEntry | None, _Outcome],
    urls: Mapping[str, str],
    versions: Mapping[str, set[str]],
    ready: Mapping[str, PackageFacts],
) -> bool:
    """Whether ``name``'s answer fetched early (its url, entry before, outcome) stands
    without its cache entry (``enrich_all`` reads it otherwise): for the same URL, an error,
    a 304 with the entry it revalidated, or a document whose every version in the tree has
    its facts made."""
    url, before, outcome = got
    if urls.get(name) != url:
        return False
    if outcome.error is not None or (outcome.not_modified and before is not None):
        return True
    return outcome.data is not None and all(f"{name}@{v}" in ready for v in versions[name])


def _packed(stored: Mapping[str, CacheEntry], url: str) -> CacheEntry | None:
    """``url``'s cache entry, None where it has another shape (fetched afresh, with no
    validators, and rewritten)."""
    entry = stored.get(url)
    return entry if entry is not None and metrics.is_packed(entry.value) else None


@dataclass
class _Early:
    """A fetch begun before the tree was built (:meth:`RegistryService.begin`), and what it
    left once its thread ended."""

    now: datetime  #: the moment every package's ages are counted from (the scan's)
    stopping: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    #: each fetched name's (url, cache entry before, outcome), its facts made as they came
    outcomes: dict[str, tuple[str, CacheEntry | None, _Outcome]] = field(default_factory=dict)
    ready: dict[str, PackageFacts] = field(default_factory=dict)
    rows: dict[int, list[Any]] = field(default_factory=dict)
    asked: int = 0  #: documents it asked for
    ended: float = 0.0  #: when its thread ended (monotonic)
    error: BaseException | None = None


class RegistryService(EnrichmentService):
    """Registry facts for every package: dates, lag, deprecation, repository."""

    name: ClassVar[str] = "registry"
    runs_long: ClassVar[bool] = True

    def __init__(
        self,
        config: NpmConfig,
        session: DepauditSession | Callable[[], DepauditSession],
        cache: Cache | None = None,
        *,
        jobs: int | None = None,
        ttl: float = DEFAULT_TTL,
        offline: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        progress: Callable[[str, int], Progress] = Progress,
        decode_process: bool = True,
        bytes_by_tree: bool = False,
        time_by_tree: bool = False,
    ) -> None:
        """``bytes_by_tree`` / ``time_by_tree``: the session's response / network time
        budget was not given, so it grows to :func:`depaudit.budget.response_allowance` /
        :func:`~depaudit.budget.network_allowance` of the documents a fetch asks for."""
        self.bytes_by_tree = bytes_by_tree
        self.time_by_tree = time_by_tree
        self.config = config
        self._session: DepauditSession | None = None
        self._make_session: Callable[[], DepauditSession] | None = None
        #: how the session is made, where a fetch worker can make it too: a big fetch then
        #: runs in worker processes (``fetch_worker.py``); a session handed in is used here
        self._recipe = session if isinstance(session, SessionRecipe) else None
        #: fetch workers started before the session was made (:meth:`_spawn_ahead`)
        self._ahead = Crew()
        #: those given their set-up and jobs by :meth:`begin` (:meth:`_hand_over`), with the
        #: jobs' list, for the early fetch's thread
        self._handed: tuple[FetchWorkers | None, Sequence[Any]] | None = None
        #: the threads reaping fetch workers that answered everything (joined by close)
        self._reapers: list[threading.Thread] = []
        #: the run's network budget (:attr:`budget`)
        self._budget: RunBudget | None = None
        self._budget_lock = threading.Lock()
        #: the session of this process's other requests, where it is not the session
        #: (:meth:`side_session`)
        self._side: PlainSession | None = None
        if isinstance(session, SessionRecipe):
            recipe = session  # (made here through this module's build_session, as before)
            self._make_session = lambda: recipe.build(
                recipe.network_seconds,
                recipe.response_bytes,
                lambda *args, **kwargs: build_session(*args, **kwargs),
                budget=self.budget,
            )
        elif callable(session):
            self._make_session = session
        else:
            self._session = session
        self.cache = cache
        #: requests in flight, whatever the protocol; None: by protocol (DEFAULT_JOBS over
        #: HTTP/1.1, MULTIPLEXED_JOBS once an origin answers over HTTP/2)
        self.jobs = None if jobs is None else max(1, jobs)
        self.ttl = ttl
        self.offline = offline
        self.clock = clock
        self.progress = progress
        self._gate = BodyGate()
        self._decoder: Decoders | None = None  # set while enrich_all fetches
        self._settle: Callable[[str, CacheEntry | None, _Outcome], None] | None = None
        self._writes: GroupedWrites | None = None  # the cache writes of _fetch_all
        self._crashes: list[Exception] = []
        #: decode in a process of its own (registry_decode.py); False: in a thread
        self.decode_process = decode_process
        self._lock = threading.Lock()
        self._connection_failures = 0
        self._rate_limited: dict[str, int] = {}  # host -> packages answered 429 to the end
        self._successes = 0
        self.failed = False  # set by enrich_all: no request succeeded at all
        self._early: _Early | None = None  # a fetch begun before the tree (begin)

    @property
    def session(self) -> DepauditSession:
        """The session, made on first use (a scan answered from the cache makes none)."""
        with self._lock:
            if self._session is None:
                assert self._make_session is not None
                self._session = self._make_session()
            return self._session

    @property
    def budget(self) -> RunBudget:
        """The run's network budget: the session's. Where the session is made from its
        recipe, the budget is made first, alone, and the session made later takes it: a
        fetch in fetch workers needs this process's budget, not its session (nor its TLS
        set-up; measured neutral in wall time, benchmarks/README.md)."""
        if self._budget is None:
            if self._session is None and self._recipe is not None:
                from depaudit.run_budget import RunBudget

                with self._budget_lock:  # (not _lock: the session is made under it)
                    if self._budget is None:
                        recipe = self._recipe
                        self._budget = RunBudget(recipe.network_seconds, recipe.response_bytes)
            else:
                self._budget = self.session.budget
        return self._budget

    def side_session(self) -> DepauditSession | PlainSession:
        """The session of this process's other requests to the registry (the advisories'
        POST): where the session would be made from its recipe and is not made yet, in a
        :func:`~depaudit.transport.plain_environment`, one without ``requests`` on this
        run's budget (:meth:`SessionRecipe.plain`): so a cold scan whose fetch runs in fetch
        workers imports no ``requests`` (~0.1 s of CPU); else the registry's session."""
        from depaudit.transport import plain_environment

        with self._lock:
            recipe = self._recipe if self._session is None else None
            if self._side is None and recipe is not None and plain_environment():
                self._side = recipe.plain(self.budget)  # (budget: not under the session's lock)
            side = self._side
        return side if side is not None else self.session

    def close(self) -> None:
        """End a fetch begun early and not used (:meth:`stop`); close the sessions made."""
        self.stop()
        self._end_ahead()
        self._end_handed()
        for reaper in self._reapers:  # (fetch workers that ended well: long reaped, mostly)
            reaper.join()
        self._reapers.clear()
        if self._session is not None:
            self._session.close()
        if self._side is not None:
            self._side.close()

    # -- a fetch begun before the tree is built --------------------------------------------
    def begin(self, packages: Sequence[PackageRef], workers_only: bool = False) -> bool:
        """Start fetching the documents of ``packages`` (the lockfile's, previewed before its
        tree is built: ``sources.preview``) in a thread of its own, so the fetch waits on the
        network while the tree is read; :meth:`enrich_all` then takes what it fetched and
        asks only for the names it did not. Only online, with a cache to hand the documents
        over in (a version the preview did not name has its facts made from the entry);
        True when it started. Names whose cache entry is fresh are not fetched (the scan
        reads them, or the tree's snapshot, from the cache); with a scope whose registry is
        not a URL nothing starts (:meth:`enrich_all` says so, before any request).
        ``workers_only``: start only where the fetch will run in fetch workers
        (:meth:`_by_workers`), for a tree read by this process's Python (a lockfile alone),
        which a fetch driven here would only take turns with."""
        if self.offline or self.cache is None or not self.cache.enabled or self._early:
            return False
        early = _Early(self.clock())
        versions = _versions(packages)
        try:
            urls = {name: self.url_for(name) for name in sorted(versions)}
        except ConfigError:  # a scope whose registry is not a URL: enrich_all says so, for
            return False  # the tree's packages of that scope, before any request
        now = self.cache.clock()
        # which entries are missing or stale, told by their stamps (a warm scan reads the
        # tree's snapshot, not each entry: reading all of theia's cost it 15-40 ms); the
        # stale ones are read for their validators
        stamps = self.cache.stamps(NAMESPACE, urls.values())
        stale = {
            name: url
            for name, url in urls.items()
            if url not in stamps or not 0 <= now - stamps[url][0] < self.ttl
        }
        if not stale:
            return False  # (the scan reads every one, or the tree's snapshot, from the cache)
        if workers_only and not self._by_workers(len(stale)):
            return False
        stored = self.cache.get_many(NAMESPACE, stale.values())
        to_fetch = [(name, url, _packed(stored, url)) for name, url in stale.items()]
        early.asked = len(to_fetch)
        self._spawn_ahead(len(to_fetch))  # (first: they get ready meanwhile)
        if not self._ahead:  # fetched by this process: what the first request needs is
            # made here, before the thread: in the thread, this Python (~0.1 s, most of it
            # the HTTP stack's imports) would take turns with the tree's reading for the
            # GIL, and the first request would wait for both
            from depaudit import http_bulk  # noqa: F401
            from depaudit.services import registry_decode  # noqa: F401

            _ = self.session  # (made now)
        self._allow(early.asked)
        self._hand_over(to_fetch)
        settled = partial(self._settled, versions, early.now, early.ready, early.rows)
        early.thread = threading.Thread(
            target=self._fetch_early, args=(early, to_fetch, settled), name="registry-early"
        )
        try:
            early.thread.start()
        except RuntimeError:  # no thread can start: nothing began (the workers handed their
            self._end_handed()  # jobs end); the scan's fetch asks for all, as without begin
            return False
        self._early = early
        return True

    def stop(self) -> None:
        """End a fetch begun early that the scan will not use (its tree could not be read,
        Ctrl-C): no new request starts, those in flight are dropped, and its thread is
        waited for."""
        early, self._early = self._early, None
        if early is not None and early.thread is not None:
            early.stopping.set()
            early.thread.join()

    def _fetch_early(
        self,
        early: _Early,
        to_fetch: Sequence[tuple[str, str, CacheEntry | None]],
        settled: Callable[[str, CacheEntry | None, _Outcome], _Outcome],
    ) -> None:
        """The thread of :meth:`begin`: fetch the names whose cache entry is missing or
        stale, each name's cache entry and facts made as it comes (:meth:`_settled`)."""
        try:
            with self.progress("npm registry", len(to_fetch)) as progress:
                done = self._fetch_all(to_fetch, progress, settled, None, early.stopping.is_set)
            early.outcomes = {outcome.name: (url, entry, outcome) for url, entry, outcome in done}
        except BaseException as exc:  # noqa: BLE001 - raised in the scan's thread (enrich_all)
            early.error = exc
        finally:
            early.ended = time.monotonic()

    def _joined(self) -> _Early | None:
        """The fetch begun early, ended (its error raised here), or None (:meth:`enrich_all`
        has told ``under_way`` that its requests are out)."""
        early, self._early = self._early, None
        if early is None:
            return None
        if early.thread is not None:
            early.thread.join()
            # the time it waited for the tree with nothing in flight is not the network's
            # (--network-budget): what the tree has and it did not ask for comes after
            self.budget.wait_off(time.monotonic() - early.ended)
        if early.error is not None:
            raise early.error
        return early

    def _spawn_ahead(self, documents: int) -> None:
        """Where the fetch will run in fetch workers, start them now (``fetch_worker.spawn``:
        forked, ready at once, or started as interpreters, which get ready meanwhile), before
        the rest of the fetch's own work (:meth:`_fetch_remote` gives them their set-up)."""
        from depaudit.services import fetch_worker
        from depaudit.services.registry_decode import decode_workers

        self._end_ahead()
        if self._by_workers(documents):
            self._ahead = fetch_worker.spawn(decode_workers())

    def _by_workers(self, documents: int) -> bool:
        """Whether a fetch of ``documents`` runs in fetch workers (:meth:`_fetch_remote`): a
        big one, where the session's recipe is known, on POSIX (the workers' answers are
        read with ``select``)."""
        return (
            self.decode_process
            and documents >= DECODE_PROCESS_FROM
            and self._recipe is not None
            and os.name == "posix"
        )

    def _end_ahead(self) -> None:
        """End fetch workers started for a fetch that did not happen."""
        if self._ahead:
            from depaudit.services import fetch_worker

            fetch_worker.end(self._ahead)
            self._ahead = Crew()

    def _hand_over(self, to_fetch: Sequence[tuple[str, str, CacheEntry | None]]) -> None:
        """Where fetch workers were started ahead (:meth:`_spawn_ahead`), give them their
        set-up and every job of ``to_fetch`` now, from the thread that begins the fetch
        (:meth:`begin`), before the tree's reading: from the early fetch's own thread, they
        went out while that thread took turns for the GIL with the tree's reading, 12-18 ms
        after the set-up (theia; benchmarks/README.md). The thread then reads the answers
        (:meth:`_fetch_remote`)."""
        if self._ahead:
            self._handed = (self._start_workers(to_fetch), to_fetch)

    def _end_handed(self) -> None:
        """End fetch workers handed their jobs whose answers were never read (the early
        fetch's thread did not run)."""
        handed, self._handed = self._handed, None
        _end_handed(handed)

    def _allow(self, documents: int) -> None:
        """Size the run's budgets by the documents asked for, where they were not given."""
        if self.bytes_by_tree or self.time_by_tree:
            self.budget.allow(
                response_allowance(documents) if self.bytes_by_tree else 0,
                network_allowance(documents) if self.time_by_tree else 0.0,
            )

    def url_for(self, name: str) -> str:
        return self.config.registry_for(name) + escape_name(name)

    # -- network (one thread drives every transfer: http_bulk) -------------------------------
    def _admit(self, name: str, url: str) -> _Outcome | None:
        """An outcome without a request, when the registry is out of reach or the host
        kept answering 429; else None (the request is made)."""
        with self._lock:
            if not self._successes and (
                self._connection_failures >= MAX_CONSECUTIVE_CONNECTION_FAILURES
            ):
                return _Outcome(name, error="skipped: the registry could not be reached")
            if not self._rate_limited:  # (the common case: no URL to split per request)
                return None
            host = urlsplit(url).netloc
            if self._rate_limited.get(host, 0) >= RATE_LIMIT_STRIKES:
                return _Outcome(
                    name, error=f"{BUDGET_STOP}{host} kept answering 429 (rate limited)"
                )
        return None

    @staticmethod
    def _headers(entry: CacheEntry | None) -> dict[str, str]:
        headers = {"Accept": ACCEPT_FULL}
        if entry is not None and entry.etag:
            headers["If-None-Match"] = entry.etag
        if entry is not None and entry.last_modified:
            headers["If-Modified-Since"] = entry.last_modified
        return headers

    def _answered(self, name: str, url: str, entry: CacheEntry | None, got: Any) -> Any:
        """One request's :class:`Fetched` or exception -> an outcome, or, for a body, a
        :class:`_Pending` whose body the decoder has."""
        from depaudit.failures import failure_of

        if isinstance(got, Exception):
            return self._failed(name, *failure_of(got))
        pending = self._status(name, url, entry, got.status, got.headers)
        if not isinstance(pending, _Pending):
            return pending
        size = len(got.body)
        self._gate.hold(size)
        assert self._decoder is not None  # set while _fetch_all runs
        # a partial, not a closure over ``got``: the Future keeps its callbacks, and with
        # them every body, until the fetch ends (215 MB held for theia's 1,862 packuments)
        body = got.body
        decoded = self._decoder.submit(  # (its chunks, as they came: the worker's pipe takes them)
            body if isinstance(body, bytes) else body.chunks,
            got.headers.get("Content-Encoding", ""),
            self.session.max_body,
        )
        decoded.add_done_callback(partial(self._decoded, pending=pending, size=size))
        return pending

    def _failed(self, name: str, kind: str, text: str, connection: bool) -> _Outcome:
        """A request that failed (:func:`failures.failure_of`) as its outcome; a
        connection failure is counted (:meth:`_admit`)."""
        if connection:
            with self._lock:
                self._connection_failures += 1
        return _Outcome(name, error=f"{BUDGET_STOP}{text}" if kind == "budget" else text)

    def _status(
        self, name: str, url: str, entry: CacheEntry | None, status: int, headers: Mapping[str, str]
    ) -> _Outcome | _Pending:
        """An answer's status as its outcome, or, for a body to decode (200, 404), its
        :class:`_Pending`. A 304 and a 429 are counted (:meth:`_admit`)."""
        etag = headers.get("ETag")
        modified = headers.get("Last-Modified")
        if status == 304 and entry is not None:
            self._succeeded()
            return _Outcome(name, not_modified=True, etag=etag or entry.etag)
        if status == 429:  # after the retries; a few such packages end the host
            host = urlsplit(url).netloc
            with self._lock:
                self._rate_limited[host] = self._rate_limited.get(host, 0) + 1
        if status not in (200, 404):
            hint = " (check the registry credentials)" if status in (401, 403) else ""
            return _Outcome(name, error=f"HTTP {status}{hint}")
        return _Pending(name, url, entry, status, etag, modified)

    def _remote(
        self, name: str, url: str, entry: CacheEntry | None, answer: tuple[Any, ...]
    ) -> _Outcome | _Pending:
        """A fetch worker's answer (:func:`fetch_worker.describe`) taken as :meth:`_answered`
        takes a request's: its body's bytes as sent are charged to the run's budget here,
        and its decoded document settles the outcome (:meth:`_settle_decoded`)."""
        from depaudit.run_budget import BudgetSpent
        from depaudit.services.registry_decode import answer_result

        if answer[0] == "failed":
            return self._failed(name, answer[1], answer[2], answer[3])
        _, status, validators, size, decoded = answer
        pending = self._status(name, url, entry, status, validators)
        if not isinstance(pending, _Pending):
            return pending
        try:
            self.budget.take(size)
        except BudgetSpent as exc:  # this body was the one over: it is not used
            return _Outcome(name, error=f"{BUDGET_STOP}{exc}")
        # (decoded already: the gate holds nothing for it, and no future is made for it,
        # ~1,800 a cold theia scan)
        self._settle_decoded(pending, size, *answer_result(decoded))
        return pending

    def _decoded(
        self, done: Future[tuple[dict[str, Any], int]], *, pending: _Pending, size: int
    ) -> None:
        """A body is decoded (the decoder's thread): its bytes leave the gate, and its
        outcome is settled (:meth:`_settle_decoded`)."""
        self._gate.release(size)
        error = done.exception()
        if error is None:
            self._settle_decoded(pending, size, done.result(), None)
        else:
            self._settle_decoded(pending, size, None, error)

    def _settle_decoded(
        self,
        pending: _Pending,
        size: int,
        result: tuple[dict[str, Any], int] | None,
        error: BaseException | None,
    ) -> None:
        """A decoded body (``result``: the document and its inflated size, or the ``error``
        decoding it raised): what it inflated to is charged to the run's response budget
        (the bytes as sent were, as they came), a usable answer counts as a success at once
        (5xx or an HTML page do not; a plain 404 does), and its outcome is settled."""
        from depaudit.run_budget import BudgetSpent

        if error is None or pending.status == 404:
            self._succeeded()
        assert self._settle is not None  # set while _fetch_all runs
        try:
            outcome = self._outcome(pending, result, error)
            if outcome.data is not None and result is not None:
                inflated = result[1]
                if inflated > size:
                    self.budget.take(inflated - size)
        except BudgetSpent as exc:  # this body was the one over: it is not used
            outcome = _Outcome(pending.name, error=f"{BUDGET_STOP}{exc}")
        except Exception as exc:  # noqa: BLE001 - a bug: raised again after the fetch
            self._crashes.append(exc)
            outcome = _Outcome(pending.name, error=type(exc).__name__)
        self._settle(pending.url, pending.entry, outcome)

    @staticmethod
    def _outcome(
        pending: _Pending,
        result: tuple[dict[str, Any], int] | None,
        error: BaseException | None,
    ) -> _Outcome:
        """The outcome of a decoded body (``error``: what decoding it raised, raised again
        here unless it says what the body is)."""
        from depaudit.services.decode_worker import TooLarge, Undecodable

        if isinstance(error, TooLarge):
            return _Outcome(pending.name, error=str(error))
        if isinstance(error, Undecodable):
            return _Outcome(pending.name, error="body could not be decompressed")
        if isinstance(error, ValueError):
            if pending.status == 404:  # plain "Not found" (or an empty body)
                return _Outcome(pending.name, data={"state": metrics.STATE_MISSING})
            return _Outcome(pending.name, error="the response is not a packument")
        if error is not None:
            raise error
        assert result is not None
        data = result[0]
        if pending.status == 404 and data.get("state") != metrics.STATE_UNPUBLISHED:
            data = {"state": metrics.STATE_MISSING}
        return _Outcome(
            pending.name, data=data, etag=pending.etag, last_modified=pending.last_modified
        )

    def _succeeded(self) -> None:
        with self._lock:
            self._successes += 1

    # -- orchestration (main thread) -------------------------------------------------------
    def enrich_all(self, packages: Sequence[PackageRef]) -> EnrichmentResult:
        if self._early is not None and self._early.thread is not None and self.under_way:
            self.under_way()  # (its requests are out: the other services may start)
        # what needs no answer is done while the fetch begun early may still run
        versions = _versions(packages)
        names = sorted(versions)
        urls = {name: self.url_for(name) for name in names}
        early = self._joined()  # a fetch begun before the tree (begin): its answers count
        found: dict[str, dict[str, Any]] = {}
        to_fetch: list[tuple[str, str, CacheEntry | None]] = []
        cached = revalidated = missed = fetched = 0
        errors: dict[str, str] = {}
        now = self.cache.clock() if self.cache is not None else 0.0
        # one moment for every package's ages (the early fetch's, whose facts are made)
        now_facts = early.now if early is not None else self.clock()
        ready: dict[str, PackageFacts] = {}  # facts made as the fetch went
        rows: dict[int, list[Any]] = {}  # and their snapshot rows, by id of the fact
        taken: Mapping[str, tuple[str, CacheEntry | None, _Outcome]] = {}
        if early is not None:
            ready.update(early.ready)
            rows.update(early.rows)
            taken = early.outcomes
        # (not after a fetch begun early that asked for anything: what it asked for was
        # stale or missing, so the last scan's snapshot cannot stand; ~6 ms for theia)
        asked_early = early is not None and early.asked > 0
        shortcut = None if asked_early else self._from_snapshot(packages, urls, now)
        if shortcut is not None:
            return self._said(shortcut)
        # one batched read of the entries used (a lookup per name cost more than the rest):
        # not those of names whose answer, fetched early, stands alone (theia's: ~15 ms)
        stands = {name for name, got in taken.items() if _stands(name, got, urls, versions, ready)}
        used = [url for name, url in urls.items() if name not in stands]
        stored = self.cache.get_many(NAMESPACE, used) if self.cache is not None and used else {}
        with self.progress("npm registry", len(names)) as progress:
            for name in names:
                url = urls[name]
                entry = _packed(stored, url)
                got = taken.get(name)
                if got is not None and got[0] == url:  # fetched early: its answer stands
                    _, before, outcome = got
                    # (a version the lockfile did not lock has its facts made from the
                    # document: the entry as it was before a 304, else the one just written)
                    whole = name in stands or all(f"{name}@{v}" in ready for v in versions[name])
                    if outcome.error is not None:
                        errors[name] = outcome.error
                    elif outcome.not_modified and before is not None:
                        found[name] = before.value
                        revalidated += 1
                    elif outcome.data is not None and whole:
                        found[name] = outcome.data
                        fetched += 1
                    elif outcome.data is not None and entry is not None:
                        found[name] = entry.value
                        fetched += 1
                    else:  # (its entry could not be written: asked again)
                        got = None
                    if got is not None:
                        progress.advance(cached=False)
                        continue
                if entry is not None:
                    if self.offline or entry.fresh(self.ttl, now):
                        found[name] = entry.value
                        cached += 1
                        progress.advance(cached=True)
                        continue
                elif self.offline:
                    missed += 1
                    progress.advance(cached=False)
                    continue
                to_fetch.append((name, url, entry))
            if to_fetch:
                self._spawn_ahead(len(to_fetch))
                self._allow(len(to_fetch) + (early.asked if early is not None else 0))
                settled = partial(self._settled, versions, now_facts, ready, rows)
                done = self._fetch_all(to_fetch, progress, settled, self.under_way)
                for _url, entry, outcome in done:
                    if outcome.error is not None:
                        errors[outcome.name] = outcome.error
                    elif outcome.not_modified and entry is not None:
                        found[outcome.name] = entry.value
                        revalidated += 1
                    elif outcome.data is not None:
                        found[outcome.name] = outcome.data
                        fetched += 1
        facts = self._facts(packages, found, now_facts, ready)
        warnings = self._warnings(errors, missed, len(names))
        network = self.config.network
        asked = bool(to_fetch) or bool(early is not None and early.asked)
        if asked and not network.strict_ssl:  # said once, not once per request
            warnings.insert(
                0,
                "npm registry: TLS certificates were not checked "
                f"(strict-ssl=false in {network.origins.get('strict-ssl', 'npm config')})",
            )
        if self.cache is not None:
            warnings.extend(self.cache.warnings)
        failed = asked and self._successes == 0
        not_found = sum(1 for d in found.values() if d.get("state") != metrics.STATE_OK)
        summary = self._summary(len(names), cached, fetched, revalidated, not_found)
        if errors or missed:
            summary += f", {len(errors) + missed} unknown"
        elif len(found) == len(names):
            self._keep_snapshot(packages, urls, facts, not_found, rows)
        self.failed = failed
        return self._said(
            EnrichmentResult(
                facts=facts, warnings=tuple(warnings), consulted=summary, failed=failed
            )
        )

    def _said(self, result: EnrichmentResult) -> EnrichmentResult:
        """``result`` with the npmrc values left out as npm leaves them out said first (npm
        warns of them on every command too), fetched, cached or offline alike."""
        if not self.config.dropped:
            return result
        return replace(result, warnings=(*self.config.dropped, *result.warnings))

    def _fetch_all(
        self,
        to_fetch: Sequence[tuple[str, str, CacheEntry | None]],
        progress: Progress,
        settled: Callable[[str, CacheEntry | None, _Outcome], _Outcome],
        started: Callable[[], None] | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> list[tuple[str, CacheEntry | None, _Outcome]]:
        """Every request: a big fetch (:data:`DECODE_PROCESS_FROM` or more, with the session's
        recipe) by fetch workers first (:meth:`_fetch_remote`); the rest, or all, through
        :class:`depaudit.http_bulk.BulkFetcher` here (one thread; ``jobs`` in flight, or by
        protocol when None), bodies decoded by
        :class:`~depaudit.services.registry_decode.Decoders`; no new request starts while
        :class:`BodyGate` is full. ``settled(url, entry, outcome)`` is called once per name
        as soon as its outcome is final (from the fetch's or the decoder's thread), so its
        cache entry and facts are done while other transfers still wait on the network; what
        it returns is the outcome kept (and returned here). ``started()`` and ``stop()``: see
        :meth:`BulkFetcher.get_many <depaudit.http_bulk.BulkFetcher.get_many>`."""
        done: list[tuple[str, CacheEntry | None, _Outcome]] = []
        lock = threading.Lock()

        def settle(url: str, entry: CacheEntry | None, outcome: _Outcome) -> None:
            kept = settled(url, entry, outcome)
            with lock:
                done.append((url, entry, kept))

        def jobs() -> Iterator[Job]:  # (the HTTP stack's import: for a fetch here only)
            from depaudit.http_bulk import Job

            for name, url, entry in to_fetch:
                skipped = self._admit(name, url)
                if skipped is not None:
                    progress.advance(cached=False)
                    settle(url, entry, skipped)
                    continue
                yield Job((name, entry), url, self._headers(entry))

        def answered(job: Job, got: Any) -> None:
            name, entry = job.tag
            result = self._answered(name, job.url, entry, got)
            progress.advance(cached=False)
            if not isinstance(result, _Pending):
                settle(job.url, entry, result)

        in_process = self.decode_process and len(to_fetch) >= DECODE_PROCESS_FROM
        self._settle, self._crashes = settle, []
        # the documents' cache entries, written a group at a time as they are settled
        self._writes = GroupedWrites(self.cache) if self.cache is not None else None
        try:
            if self._by_workers(len(to_fetch)):
                # fetched and decoded by worker processes; what they did not answer is
                # fetched here, below, as it always was
                to_fetch = self._fetch_remote(to_fetch, progress, settle, started, stop)
                started = None
            if to_fetch and not (stop is not None and stop()):
                self._fetch_here(len(to_fetch), jobs(), answered, in_process, started, stop)
        finally:  # (the decoder has answered everything: its close waited)
            writes, self._writes = self._writes, None
            if writes is not None:
                writes.flush()
        self._settle = None
        if self._crashes:
            raise self._crashes[0]
        return done

    def _fetch_here(
        self,
        count: int,
        jobs: Iterator[Job],
        answered: Callable[[Job, Any], None],
        in_process: bool,
        started: Callable[[], None] | None,
        stop: Callable[[], bool] | None,
    ) -> None:
        """``count`` jobs fetched by this thread, their bodies decoded beside it."""
        from depaudit.http_bulk import BulkFetcher
        from depaudit.services.registry_decode import Decoders, decode_workers

        with Decoders(decode_workers(), use_process=in_process) as decoder:
            self._decoder = decoder
            try:
                fetcher = BulkFetcher(
                    self.session,
                    min(self.jobs or DEFAULT_JOBS, count),
                    min(self.jobs or MULTIPLEXED_JOBS, count),
                    inflate=False,  # the decoder inflates, beside the fetch
                    whole=False,  # and takes each body's chunks as they came
                )
                fetcher.get_many(jobs, answered, admit=self._gate.open, started=started, stop=stop)
            finally:
                self._decoder = None

    def _fetch_remote(
        self,
        to_fetch: Sequence[tuple[str, str, CacheEntry | None]],
        progress: Progress,
        settle: Callable[[str, CacheEntry | None, _Outcome], None],
        started: Callable[[], None] | None,
        stop: Callable[[], bool] | None,
    ) -> list[tuple[str, str, CacheEntry | None]]:
        """``to_fetch`` fetched and decoded by worker processes (``fetch_worker.py``), each
        answer settled here (:meth:`_remote`); returned: what they did not answer. They are
        told to stop when the registry is out of reach, a host kept answering 429 or the
        run's budget is spent: what is left is then decided by the fetch here, as always.
        The workers :meth:`begin` handed these jobs to already (:meth:`_hand_over`) are
        those; else they are given them now (:meth:`_start_workers`)."""
        handed, self._handed = self._handed, None
        if handed is not None and handed[1] is to_fetch:
            workers = handed[0]
        else:
            _end_handed(handed)  # (workers handed other jobs: never, but none left running)
            workers = self._start_workers(to_fetch)
        if workers is None:
            return list(to_fetch)
        waiting = dict(enumerate(to_fetch))
        with workers:
            if started is not None:
                started()
            stopped = False
            for tag, answer in workers.answers(stop):
                item = waiting.pop(tag, None)
                if item is None:
                    continue
                name, url, entry = item
                progress.advance(cached=False)
                try:
                    result = self._remote(name, url, entry, answer)
                except Exception as exc:  # noqa: BLE001 - a bug: raised again after the fetch
                    self._crashes.append(exc)
                    result = _Outcome(name, error=type(exc).__name__)
                if not isinstance(result, _Pending):
                    settle(url, entry, result)
                if not stopped and self._spent(url):
                    workers.stop()
                    stopped = True
                if not waiting:  # every job answered: the workers' own end is not waited for
                    break
        if workers.reaper is not None:
            self._reapers.append(workers.reaper)
        return list(waiting.values())

    def _start_workers(
        self, to_fetch: Sequence[tuple[str, str, CacheEntry | None]]
    ) -> FetchWorkers | None:
        """The fetch workers of ``to_fetch`` (those started ahead, or new ones) given their
        set-up and every job, each tagged with its index; None where none could start."""
        from depaudit.services.fetch_worker import FetchWorkers
        from depaudit.services.registry_decode import decode_workers

        assert self._recipe is not None
        budget = self.budget
        count = len(to_fetch)
        many = decode_workers()
        # the transfers in flight shared out, as many as one fetch here would make: the
        # connections of an HTTP/1.1 registry, and all of them when --jobs says how many;
        # but each worker's own HTTP/2 connection carries as many streams as the scan's one
        # (half as many: theia against the registry, 1.51 s against 1.42 s)
        shared = max(1, min(self.jobs or DEFAULT_JOBS, count) // many)
        streams = (
            max(1, min(self.jobs, count) // many) if self.jobs else min(MULTIPLEXED_JOBS, count)
        )
        spec = {
            "recipe": self._recipe,
            "seconds": budget.remaining(),
            "bytes": max(0, budget.max_bytes - budget.used),
            "parallel": shared,
            "multiplexed": streams,
        }
        ready_made, self._ahead = self._ahead, Crew()
        workers = FetchWorkers.start(spec, many, ready_made)
        if workers is not None:
            workers.send(
                [(tag, url, self._headers(entry)) for tag, (_, url, entry) in enumerate(to_fetch)]
            )
        return workers

    def _spent(self, url: str) -> bool:
        """Whether to stop asking: the registry out of reach, ``url``'s host rate limited,
        or the run's budget spent (:meth:`_admit`, ``BulkFetcher``'s own check)."""
        budget = self.budget
        if budget.out_of_time() or budget.used > budget.max_bytes:
            return True
        return self._admit("", url) is not None

    def _summary(
        self, names: int, cached: int, fetched: int, revalidated: int, not_found: int
    ) -> str:
        mode = "offline" if self.offline else "online"
        summary = f"npm registry ({mode}): {names} names, {cached} cached"
        if not self.offline:
            summary += f", {fetched} fetched, {revalidated} revalidated"
        if not_found:
            summary += f", {not_found} not in the registry"
        return summary

    # -- the tree's snapshot (registry_snapshot.py) -----------------------------------------
    def _from_snapshot(
        self, packages: Sequence[PackageRef], urls: Mapping[str, str], now: float
    ) -> EnrichmentResult | None:
        """The facts of the last scan of this tree, when every entry they came from is
        still there, fresh (or the run is offline) and unchanged; else None."""
        if self.cache is None or not urls:
            return None
        stamps = self.cache.stamps(NAMESPACE, urls.values())
        if len(stamps) != len(set(urls.values())):
            return None
        if not self.offline and not all(0 <= now - t < self.ttl for t, _ in stamps.values()):
            return None
        kept = self.cache.get(snapshot.NAMESPACE, snapshot.question(packages, urls))
        value = kept.value if kept is not None else None
        if not isinstance(value, dict) or value.get("stamp") != snapshot.stamp(stamps):
            return None
        try:
            facts = snapshot.decode(value.get("facts"), self.clock())
        except (TypeError, ValueError):
            return None
        not_found = value.get("not_found")
        if {ref.key for ref in packages} != set(facts) or not isinstance(not_found, int):
            return None
        with self.progress("npm registry", len(urls)) as progress:
            progress.advance(cached=True, count=len(urls))
        self.failed = False
        return EnrichmentResult(
            facts=facts,
            warnings=tuple(self.cache.warnings),
            consulted=self._summary(len(urls), len(urls), 0, 0, not_found),
            failed=False,
        )

    def _keep_snapshot(
        self,
        packages: Sequence[PackageRef],
        urls: Mapping[str, str],
        facts: Mapping[str, PackageFacts],
        not_found: int,
        rows: Mapping[int, list[Any]] | None = None,
    ) -> None:
        """Keep this tree's facts beside the entries they came from (their stamps as they
        are now, after this run's writes), for the next scan of the same tree."""
        if self.cache is None or not self.cache.enabled:
            return
        stamps = self.cache.stamps(NAMESPACE, urls.values())
        if len(stamps) != len(set(urls.values())):
            return
        value = {
            "stamp": snapshot.stamp(stamps),
            "facts": snapshot.encode(facts.values(), rows),
            "not_found": not_found,
        }
        with self.cache.batch():
            self.cache.prune(snapshot.NAMESPACE, self.cache.clock() - snapshot.KEEP_SECONDS)
            self.cache.set(snapshot.NAMESPACE, snapshot.question(packages, urls), value)

    def _settled(
        self,
        versions: Mapping[str, set[str]],
        now: datetime,
        ready: dict[str, PackageFacts],
        rows: dict[int, list[Any]],
        url: str,
        entry: CacheEntry | None,
        outcome: _Outcome,
    ) -> _Outcome:
        """One name's outcome is final (during the fetch, any thread): its cache entry is
        written or touched, and the facts of its versions (and their snapshot rows) are made.
        Returned: the outcome to keep, its facts reduced to their state once they are used
        (a tree of 36,000 names held 3.4 KB of them per name to the end of the fetch)."""
        if outcome.error is not None:
            return outcome
        data = outcome.data
        writes = self._writes or self.cache  # (grouped during _fetch_all)
        if outcome.not_modified and entry is not None:
            data = entry.value
            if writes is not None:
                writes.touch(NAMESPACE, url)
        elif data is not None and writes is not None:
            writes.set(NAMESPACE, url, data, etag=outcome.etag, last_modified=outcome.last_modified)
        if data is None:
            return outcome
        for version in versions.get(outcome.name, ()):
            fact = self._fact(outcome.name, version, data, now)
            ready[f"{outcome.name}@{version}"] = fact
            rows[id(fact)] = snapshot.encode_one(fact)  # the snapshot's row, now too
        if outcome.data is None:  # answered from the cache entry (304): nothing to let go
            return outcome
        return _Outcome(  # (dataclasses.replace, per name: ~4x the cost)
            outcome.name,
            data={"state": outcome.data.get("state")},
            not_modified=outcome.not_modified,
            etag=outcome.etag,
            last_modified=outcome.last_modified,
            error=outcome.error,
        )

    @staticmethod
    def _fact(name: str, version: str, data: Mapping[str, Any], now: datetime) -> PackageFacts:
        try:
            return metrics.facts_for(name, version, data, now)
        except (TypeError, ValueError, AttributeError, KeyError, IndexError):  # damaged
            return PackageFacts(name=name, version=version)

    def _facts(
        self,
        packages: Sequence[PackageRef],
        found: Mapping[str, dict[str, Any]],
        now: datetime,
        ready: Mapping[str, PackageFacts],
    ) -> dict[str, PackageFacts]:
        """Every package's facts: those made during the fetch, the others from ``found``."""
        out: dict[str, PackageFacts] = {}
        for ref in packages:
            made = ready.get(ref.key)
            if made is not None:
                out[ref.key] = made
                continue
            data = found.get(ref.name)
            if data is None:
                out[ref.key] = PackageFacts(name=ref.name, version=ref.version)
            else:
                out[ref.key] = self._fact(ref.name, ref.version, data, now)
        return out

    def _warnings(self, errors: Mapping[str, str], missed: int, total: int) -> list[str]:
        warnings = []
        stopped = {n: e for n, e in errors.items() if e.startswith(BUDGET_STOP)}
        if stopped:  # one line per reason a budget stopped the work
            for reason in sorted(set(stopped.values())):
                count = sum(1 for e in stopped.values() if e == reason)
                warnings.append(
                    f"npm registry: stopped, {reason.removeprefix(BUDGET_STOP)}: {count} of "
                    f"{total} packages not fetched, their registry facts are unknown "
                    "(see Resource budget in the README)"
                )
            errors = {n: e for n, e in errors.items() if n not in stopped}
        if errors:
            sample = ", ".join(f"{n} ({errors[n]})" for n in sorted(errors)[:5])
            more = f" and {len(errors) - 5} more" if len(errors) > 5 else ""
            tls = (
                "; for a TLS error, a registry signed by your company's CA is trusted with "
                "cafile=PATH in .npmrc (as npm trusts it) or REQUESTS_CA_BUNDLE"
                if TLS_ERROR in errors.values()
                else ""
            )
            warnings.append(
                f"npm registry: could not fetch {len(errors)} of {total} packages: "
                f"{sample}{more}; their registry facts are unknown{tls}"
            )
        if missed:
            warnings.append(
                f"offline: {missed} of {total} packages are not in the cache; "
                "their registry facts are unknown (run once online to fill it)"
            )
        return warnings


def _end_handed(handed: tuple[FetchWorkers | None, Sequence[Any]] | None) -> None:
    """End the workers of ``handed`` (:meth:`RegistryService._hand_over`), if any."""
    if handed is not None and handed[0] is not None:
        from depaudit.services import fetch_worker

        fetch_worker.end(handed[0].processes)


def build_registry_service(
    directory: Path,
    *,
    registry: str | None = None,
    offline: bool = False,
    use_cache: bool = True,
    cache_dir: Path | None = None,
    cache_ttl: float = DEFAULT_TTL,
    jobs: int | None = None,
    npm_timeout: float = 20.0,
    cache: Cache | None = None,
    network_seconds: float | None = None,
    response_bytes: int | None = None,
    asked: RegistryQuery | None = None,
) -> RegistryService:
    """The service as ``depaudit scan`` uses it: npm configuration of ``directory``, one
    pooled session with scoped credentials, the user cache. ``asked``: npm's answer for the
    registry, started earlier (:func:`depaudit.npmrc.registry_query`).

    Offline runs never ask npm: without a registry in ``--registry``, the environment or an
    ``.npmrc``, they use npm's answer of the last online run (``NpmConfig.npm_said``: its
    default, the registry its own npmrc names, or ``npm config get registry``), which the
    cache keeps (its entries are keyed by registry URL)."""
    if cache is None:  # the composition root hands in the run's one cache
        cache = Cache(cache_dir, enabled=use_cache)
    if offline:
        kept = cache.get(NPM_CONFIG_NAMESPACE, "registry")
        url = kept.value if kept and isinstance(kept.value, str) else None
        try:  # the same files as online (scoped registries: the same cache keys)
            config = load_npm_config(
                directory,
                registry,
                npm_timeout=npm_timeout,
                ask_npm=False,
                remembered=url,
                network=False,  # nothing is sent: a proxy or CA setting is not used
            )
        except NoRegistry:  # none anywhere and no online run yet: every package unknown
            config = NpmConfig(registry=OFFLINE_PLACEHOLDER, origin="offline")
    else:
        config = load_npm_config(directory, registry, npm_timeout=npm_timeout, asked=asked)
        if config.npm_said:
            cache.set(NPM_CONFIG_NAMESPACE, "registry", config.registry)
    tuning: dict[str, Any] = {}  # npm's fetch-timeout / fetch-retries, when configured
    if config.fetch_timeout is not None:
        tuning["read_timeout"] = config.fetch_timeout
    if config.fetch_retries is not None:
        tuning["retries"] = config.fetch_retries

    session = SessionRecipe(
        jobs or DEFAULT_JOBS,
        config,
        network_allowance(0) if network_seconds is None else network_seconds,
        response_allowance(0) if response_bytes is None else response_bytes,
        tuning,
    )

    return RegistryService(
        config,
        session,
        cache,
        jobs=jobs,
        ttl=cache_ttl,
        offline=offline,
        bytes_by_tree=response_bytes is None,
        time_by_tree=network_seconds is None,
    )
