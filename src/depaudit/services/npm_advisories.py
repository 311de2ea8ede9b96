"""Advisories from the npm registry's bulk endpoint (what ``npm audit`` uses).

``POST <registry>-/npm/v1/security/advisories/bulk`` with a gzip-compressed JSON body
``{name: [versions]}``; the answer maps names to advisories (``id``, ``url`` with the GHSA
id, ``title``, ``severity``, ``vulnerable_versions``, ``cwe``, ``cvss``). Only advisories
whose range covers the installed version are attached to that ``name@version``, tested the
way npm audit tests them (see :mod:`depaudit.ranges`).

Many registries (mirrors, private registries) do not serve the endpoint: 404/405/410, any
other non-2xx answer, a network error or a body that is not the documented shape become one
warning ("advisories from the registry were not available"), never an error and never "no
advisories". Answers are cached per ``name@version`` (namespace ``npm-advisories``). A
404/405/410 ("not served here") is remembered per registry for the cache's lifetime (namespace
``npm-advisories-unserved``): later scans post nothing and say so in the same warning.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from depaudit.budget import expire_budget
from depaudit.cache import Cache, CacheEntry, fresh
from depaudit.classify import classify, normalize_cwe
from depaudit.models import Advisory, PackageFacts
from depaudit.ranges import npm_satisfies
from depaudit.services.interface import EnrichmentResult, EnrichmentService, PackageRef

if TYPE_CHECKING:  # the HTTP stack is imported when a request is made: a warm scan makes none
    from depaudit.http_bulk import Session

NAMESPACE = "npm-advisories"
UNSERVED_NAMESPACE = "npm-advisories-unserved"
NOT_SERVED = frozenset({404, 405, 410})
BULK_PATH = "-/npm/v1/security/advisories/bulk"
DEFAULT_BATCH = 500  # names per request
DEFAULT_TTL = 6 * 3600.0
UNAVAILABLE = "advisories from the registry were not available"
_GHSA_URL = re.compile(r"/advisories/(GHSA(?:-[0-9a-z]{4}){3})\b", re.IGNORECASE)
_SEMVER = re.compile(r"^v?\d+\.\d+\.\d+(?:[-+].*)?$")


def ghsa_from_url(url: str | None) -> str | None:
    """``https://github.com/advisories/GHSA-qwcr-r2fm-qrc7`` -> ``GHSA-qwcr-r2fm-qrc7``."""
    match = _GHSA_URL.search(url or "")
    return "GHSA-" + match.group(1)[5:].lower() if match else None


def parse_advisory(name: str, raw: Any) -> Advisory | None:
    """One advisory of the bulk response, or None when it is not the documented shape."""
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), int | str):
        return None
    url_value, title_value, severity_value = raw.get("url"), raw.get("title"), raw.get("severity")
    url = url_value if isinstance(url_value, str) else None
    title = title_value if isinstance(title_value, str) else ""
    severity = severity_value if isinstance(severity_value, str) else "high"  # npm's default
    affected = raw.get("vulnerable_versions")
    if not isinstance(affected, str) or not affected.strip():
        affected = "*"  # npm's default
    raw_cwes = raw.get("cwe")
    cwe_list: list[Any] = raw_cwes if isinstance(raw_cwes, list) else []
    cwes = tuple(c for c in (normalize_cwe(str(x)) for x in cwe_list) if c)
    ghsa_id = ghsa_from_url(url)
    npm_id = f"npm:{raw['id']}"
    return Advisory(
        id=ghsa_id or npm_id,
        source="npm",
        package=name,
        affected=affected,
        title=title,
        leak_class=classify(cwes, title),
        aliases=(npm_id,) if ghsa_id else (),
        cwes=cwes,
        severity=severity.lower(),
        url=url,
    )


def _to_cache(advisory: Advisory) -> dict[str, Any]:
    return {
        "id": advisory.id,
        "affected": advisory.affected,
        "title": advisory.title,
        "leak_class": advisory.leak_class.value,
        "aliases": list(advisory.aliases),
        "cwes": list(advisory.cwes),
        "severity": advisory.severity,
        "url": advisory.url,
    }


def _from_cache(name: str, raw: Any) -> Advisory | None:
    try:
        return Advisory(
            id=str(raw["id"]),
            source="npm",
            package=name,
            affected=str(raw["affected"]),
            title=str(raw["title"]),
            leak_class=classify(raw["cwes"], raw["title"]),
            aliases=tuple(raw["aliases"]),
            cwes=tuple(raw["cwes"]),
            severity=raw.get("severity"),
            url=raw.get("url"),
        )
    except (KeyError, TypeError):
        return None


class NpmAdvisoryService(EnrichmentService):
    """Advisories for every installed ``name@version`` from the registry's bulk endpoint."""

    name: ClassVar[str] = "npm advisories"

    def __init__(
        self,
        registry: str,
        session: Session | Callable[[], Session],
        cache: Cache | None = None,
        *,
        batch_size: int = DEFAULT_BATCH,
        ttl: float = DEFAULT_TTL,
        offline: bool = False,
        now: Callable[[], float] | None = None,
    ) -> None:
        self.registry = registry if registry.endswith("/") else registry + "/"
        self._session = session
        self.cache = cache
        self.batch_size = max(1, batch_size)
        self.ttl = ttl
        self.offline = offline
        self._now = now
        self._stopped = False

    def stop_requests(self) -> None:
        """The session's run budget expires; a session made later is expired when it is
        (none is made only to be expired)."""
        self._stopped = True
        if not callable(self._session):
            expire_budget(self._session)

    @property
    def session(self) -> Session:
        """The session (made on first use when a maker was given: a scan answered from the
        cache posts nothing)."""
        if callable(self._session):
            self._session = self._session()
            if self._stopped:
                expire_budget(self._session)
        return self._session

    @property
    def url(self) -> str:
        return self.registry + BULK_PATH

    def _clock(self) -> float:
        if self._now is not None:
            return self._now()
        return self.cache.clock() if self.cache is not None else 0.0

    def _current(self, stored_at: float, now: float) -> bool:
        """Whether an answer stored at ``stored_at`` is used as it is (offline: any)."""
        return self.offline or fresh(stored_at, self.ttl, now)

    def _cached(self, key: str, entry: CacheEntry | None, now: float) -> list[Advisory] | None:
        if entry is None or not isinstance(entry.value, list):
            return None
        if not self._current(entry.stored_at, now):
            return None
        if not entry.value:
            return []  # most answers: no advisory
        name = key.rsplit("@", 1)[0]
        found = [_from_cache(name, raw) for raw in entry.value]
        return [a for a in found if a is not None]

    def _unserved_key(self) -> str:
        """The registry without any user:password (never in a cache key)."""
        parts = urlsplit(self.url)
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit((parts.scheme, host, parts.path, "", ""))

    def _remembered_unserved(self) -> str | None:
        """The reason an earlier scan found the endpoint not served, while still fresh."""
        if self.cache is None:
            return None
        entry = self.cache.get(UNSERVED_NAMESPACE, self._unserved_key())
        if entry is None or not isinstance(entry.value, str):
            return None
        if not self.offline and not entry.fresh(self.ttl, self._clock()):
            return None
        return f"{entry.value}, remembered from an earlier scan"

    def _post(self, body: Mapping[str, list[str]]) -> tuple[Any, str | None]:
        """The decoded answer, or (None, reason) when advisories are not available. Sent
        through libcurl (:func:`depaudit.http_bulk.fetch_one`) with the session's settings:
        with the fetch workers' session, a cold scan imports no ``requests`` for it."""
        import gzip

        from depaudit.failures import failure_of
        from depaudit.http_bulk import Job, fetch_one

        data = gzip.compress(json.dumps(body, separators=(",", ":")).encode("utf-8"))
        headers = {
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
            "Accept": "application/json",
        }
        answer = fetch_one(self.session, Job(None, self.url, headers, data))
        if isinstance(answer, Exception):  # (a body over the cap said without its URL)
            return None, f"{failure_of(answer)[1]} ({self._unserved_key()})"
        if answer.status != 200:
            reason = f"HTTP {answer.status} from {self._unserved_key()}"
            if answer.status in NOT_SERVED and self.cache is not None:
                self.cache.set(UNSERVED_NAMESPACE, self._unserved_key(), reason)
            return None, reason
        raw = bytes(answer.body)  # (whole: a fetch of one joins its chunks)
        try:
            decoded = json.loads(raw)
        except (ValueError, RecursionError):
            return None, f"the answer of {self._unserved_key()} is not JSON"
        if not isinstance(decoded, dict) or not all(isinstance(v, list) for v in decoded.values()):
            return None, f"the answer of {self._unserved_key()} is not the documented shape"
        return decoded, None

    def enrich_all(self, packages: Sequence[PackageRef]) -> EnrichmentResult:
        wanted: dict[str, set[str]] = {}
        for ref in packages:
            if _SEMVER.match(ref.version):
                wanted.setdefault(ref.name, set()).add(ref.version)
        found: dict[str, list[Advisory]] = {}  # name@version -> advisories
        to_ask: dict[str, list[str]] = {}
        cached = 0
        asked_for = [(n, v, f"{n}@{v}") for n, vs in sorted(wanted.items()) for v in sorted(vs)]
        # one batched read (a lookup per name@version cost more than the rest of the service);
        # the answers that are an empty list, nearly all, as their stored time alone
        empty, stored = (
            self.cache.get_many_unless(NAMESPACE, [key for _, _, key in asked_for], [])
            if self.cache is not None
            else ({}, {})
        )
        now = self._clock()
        for name, version, key in asked_for:
            when = empty.get(key)
            hit: list[Advisory] | None
            if when is not None:
                hit = [] if self._current(when, now) else None
            else:
                hit = self._cached(key, stored.get(key), now)
            if hit is not None:
                found[key] = hit
                cached += 1
            elif not self.offline:
                to_ask.setdefault(name, []).append(version)
        warnings: list[str] = []
        asked = skipped = 0
        failed = False
        names = sorted(to_ask)
        remembered = self._remembered_unserved() if names else None
        if remembered is not None:
            warnings.append(
                f"{UNAVAILABLE} ({remembered}); advisories come from GitHub and "
                "the knowledge base only"
            )
            failed, names = True, []
        to_cache: list[tuple[str, list[dict[str, Any]]]] = []
        for start in range(0, len(names), self.batch_size):
            batch = {n: to_ask[n] for n in names[start : start + self.batch_size]}
            decoded, reason = self._post(batch)
            if decoded is None:
                warnings.append(
                    f"{UNAVAILABLE} ({reason}); advisories come from GitHub and "
                    "the knowledge base only"
                )
                failed = True
                break
            asked += 1
            for name, asked_versions in batch.items():
                raw_list = decoded.get(name, [])
                advisories = [parse_advisory(name, raw) for raw in raw_list]
                skipped += sum(a is None for a in advisories)
                valid = [a for a in advisories if a is not None]
                for version in asked_versions:
                    key = f"{name}@{version}"
                    covering = [a for a in valid if npm_satisfies(version, a.affected) is True]
                    found[key] = covering
                    if self.cache is not None:
                        to_cache.append((key, [_to_cache(a) for a in covering]))
        if self.cache is not None and to_cache:
            with self.cache.batch():  # one commit: per-entry commits took 0.47 s of a cold scan
                for key, value in to_cache:
                    self.cache.set(NAMESPACE, key, value)
        if skipped:
            warnings.append(
                f"{skipped} advisories from {self._unserved_key()} were not in the documented "
                "shape and were ignored"
            )
        facts = {
            key: PackageFacts(
                name=key.rsplit("@", 1)[0],
                version=key.rsplit("@", 1)[1],
                advisories=tuple(advisories),
            )
            for key, advisories in found.items()
            if advisories
        }
        mode = "offline, cache only" if self.offline else f"{asked} requests"
        consulted = (
            f"npm advisories ({mode}): {len(found)} of {sum(map(len, wanted.values()))} "
            f"package versions answered, {cached} from the cache"
        )
        return EnrichmentResult(
            facts=facts,
            warnings=tuple(warnings),
            consulted=consulted,
            failed=failed and not found,
        )
