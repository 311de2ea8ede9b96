"""Advisories from the GitHub Advisory Database (REST ``GET /advisories``).

Online: ``GET {api}/advisories?ecosystem=npm&affects=a@1.0.0,b@2.1.0&per_page=100`` for
batches of installed ``name@version`` (the documented maximum is 1000; batches are smaller
to keep URLs reasonable), following ``link: <...>; rel="next"`` URLs as given (cursor
pagination). Headers: ``Accept: application/vnd.github+json``, ``X-GitHub-Api-Version:
2022-11-28`` and, when ``GITHUB_TOKEN`` / ``GH_TOKEN`` is set, ``Authorization: Bearer``.
Without a token it still works within the anonymous limit, and says so.

Rate limits (api-notes §3.0): a 403/429 with ``x-ratelimit-remaining: 0`` waits until
``x-ratelimit-reset`` when that is close (at most ``max_wait`` seconds, injectable sleep),
otherwise stops with a warning; a secondary limit waits ``retry-after`` (or a minute) under
the same cap. Never more than two waits per request, never a retry loop.

Every page is cached by its URL (the token is never part of a key), with its ETag, so a
stale page is revalidated with ``If-None-Match`` and a 304 reuses it. ``depaudit db update``
(:meth:`GithubAdvisoryService.update_snapshot`) stores every npm advisory in the leak and
exhaustion CWEs; offline runs answer from cached pages and from that snapshot.

Withdrawn advisories are ignored; each advisory's ``vulnerabilities[]`` is filtered by
ecosystem ``npm`` and package name, its range converted from GitHub's syntax, and it is
attached only when the range covers the installed version.

Why this module is just over ~400 lines: one service, one phase (ask, page, cache, filter);
the snapshot update shares its page reader and filters.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlencode

from depaudit import digests
from depaudit.cache import Cache
from depaudit.classify import classify, default_rules, normalize_cwe
from depaudit.github_client import (
    API_VERSION,
    DEFAULT_API_URL,
    GitHubClient,
    GitHubError,
    GitHubRateLimitError,
    when_allowed,
)
from depaudit.models import Advisory, PackageFacts
from depaudit.ranges import RangeError, github_to_npm, npm_satisfies
from depaudit.services.interface import EnrichmentResult, EnrichmentService, PackageRef

if TYPE_CHECKING:
    from depaudit.http_bulk import Session

__all__ = ["API_VERSION", "GithubAdvisoryService", "advisories_for", "reduce_advisory"]

PAGES = "github-advisories"
SNAPSHOT = "github-snapshot"
SNAPSHOT_KEY = "npm-leak-and-exhaustion"
DEFAULT_BATCH = 150  # name@version per request (the API accepts up to 1000)
PER_PAGE = 100
DEFAULT_TTL = 6 * 3600.0
DEFAULT_MAX_WAIT = 90.0  # seconds: longer rate-limit waits stop the source instead
MAX_PAGES = 1000
_SEMVER = re.compile(r"^v?\d+\.\d+\.\d+(?:[-+].*)?$")


class _Stop(Exception):
    """The source cannot be used any further in this run; the message is the warning."""


def reduce_advisory(raw: Any) -> dict[str, Any] | None:
    """Keep what depaudit uses of one advisory; None for withdrawn or malformed ones."""
    if not isinstance(raw, dict) or not isinstance(raw.get("ghsa_id"), str):
        return None
    if raw.get("withdrawn_at"):
        return None
    vulnerabilities = []
    for vuln in raw.get("vulnerabilities") or []:
        if not isinstance(vuln, dict) or not isinstance(vuln.get("package"), dict):
            continue
        package = vuln["package"]
        if str(package.get("ecosystem", "")).lower() != "npm" or not package.get("name"):
            continue
        patched = vuln.get("first_patched_version")
        if isinstance(patched, dict):  # older shape: {"identifier": "1.2.3"}
            patched = patched.get("identifier")
        vulnerabilities.append(
            {
                "name": str(package["name"]),
                "range": vuln.get("vulnerable_version_range"),
                "patched": patched if isinstance(patched, str) else None,
            }
        )
    cwes = []
    for cwe in raw.get("cwes") or []:
        value = cwe.get("cwe_id") if isinstance(cwe, dict) else cwe
        normal = normalize_cwe(str(value)) if value else None
        if normal:
            cwes.append(normal)
    return {
        "ghsa_id": raw["ghsa_id"],
        "cve_id": raw.get("cve_id") if isinstance(raw.get("cve_id"), str) else None,
        "summary": raw.get("summary") if isinstance(raw.get("summary"), str) else "",
        "description": raw.get("description") if isinstance(raw.get("description"), str) else "",
        "severity": raw.get("severity") if isinstance(raw.get("severity"), str) else None,
        "html_url": raw.get("html_url") if isinstance(raw.get("html_url"), str) else None,
        "cwes": cwes,
        "vulnerabilities": vulnerabilities,
    }


def advisories_for(reduced: Iterable[Mapping[str, Any]], name: str, version: str) -> list[Advisory]:
    """The advisories of ``reduced`` whose npm range for ``name`` covers ``version``."""
    found: dict[str, Advisory] = {}
    for adv in reduced:
        for vuln in adv["vulnerabilities"]:
            if vuln["name"] != name or not isinstance(vuln["range"], str):
                continue
            try:
                npm_range = github_to_npm(vuln["range"])
            except RangeError:
                continue
            if npm_satisfies(version, npm_range) is not True:
                continue
            found.setdefault(
                adv["ghsa_id"],
                Advisory(
                    id=adv["ghsa_id"],
                    source="github",
                    package=name,
                    affected=npm_range,
                    title=adv["summary"],
                    leak_class=classify(adv["cwes"], adv["summary"], adv["description"]),
                    aliases=(adv["cve_id"],) if adv["cve_id"] else (),
                    patched=vuln["patched"],
                    cwes=tuple(adv["cwes"]),
                    severity=adv["severity"],
                    url=adv["html_url"],
                ),
            )
    return [found[k] for k in sorted(found)]


@dataclass
class _Run:
    requests: int = 0
    revalidated: int = 0
    cached_pages: int = 0


class GithubAdvisoryService(EnrichmentService):
    """GitHub-reviewed advisories for every installed npm ``name@version``."""

    name: ClassVar[str] = "GitHub advisories"

    def __init__(
        self,
        session: Session | None,
        cache: Cache | None = None,
        *,
        api_url: str = DEFAULT_API_URL,
        token: str | None = None,
        batch_size: int = DEFAULT_BATCH,
        ttl: float = DEFAULT_TTL,
        offline: bool = False,
        max_wait: float = DEFAULT_MAX_WAIT,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        client: GitHubClient | None = None,
    ) -> None:
        self.session = session
        self.cache = cache
        self.api_url = api_url.rstrip("/")
        self._token = token
        self.batch_size = max(1, min(batch_size, 1000))
        self.ttl = ttl
        self.offline = offline
        self.max_wait = max_wait
        self.sleep = sleep
        self.clock = clock
        self.client = client or GitHubClient(
            token, self.api_url, session=session, sleep=sleep, clock=clock, max_wait=max_wait
        )

    def __repr__(self) -> str:  # never show the token
        token = "***" if self._token else None
        return f"GithubAdvisoryService(api_url={self.api_url!r}, token={token})"

    # -- HTTP (through the one GitHub client) -------------------------------------------------
    def _get_page(self, url: str, run: _Run) -> tuple[list[dict[str, Any]], str | None]:
        """The reduced advisories of one page and the next page's URL (cached by URL)."""
        key = digests.sha256(url.encode("utf-8")).hexdigest()
        entry = self.cache.get(PAGES, key) if self.cache is not None else None
        cached = entry.value if entry is not None and isinstance(entry.value, dict) else None
        if (
            entry is not None
            and cached is not None
            and (self.offline or entry.fresh(self.ttl, self.clock()))
        ):
            run.cached_pages += 1
            return list(cached.get("items", [])), cached.get("next")
        if self.offline:
            raise LookupError(url)
        etag = entry.etag if entry is not None and cached is not None else None
        client = self.client
        before = client.requests_made
        try:
            response = client.request(
                "GET",
                url,
                headers={"If-None-Match": etag} if etag else None,
                what="GitHub advisories",
            )
            nxt = client.next_url(response, "GitHub advisories")
        except GitHubRateLimitError as exc:
            raise _Stop(
                "GitHub advisories: rate limit reached, next request allowed at "
                f"{when_allowed(self.clock(), exc.wait)}; the rest of the packages were not "
                "checked against GitHub"
                + ("" if self._token else " (set GITHUB_TOKEN for a higher limit)")
            ) from None
        except GitHubError as exc:
            if exc.status is None and exc.reason is not None:
                raise _Stop(f"GitHub advisories: {exc.reason} ({self.api_url})") from None
            if exc.status in (401, 403):
                raise _Stop(
                    f"GitHub advisories: HTTP {exc.status} from {self.api_url} "
                    "(check the token's access)"
                ) from None
            if exc.status is not None:
                raise _Stop(f"GitHub advisories: HTTP {exc.status} from {self.api_url}") from None
            raise _Stop(client.redact(exc.message)) from None
        finally:
            run.requests += client.requests_made - before
        status = response.status_code
        if status == 304 and cached is not None:
            run.revalidated += 1
            if self.cache is not None:
                self.cache.touch(PAGES, key)
            return list(cached.get("items", [])), cached.get("next")
        if status != 200:
            raise _Stop(f"GitHub advisories: HTTP {status} from {self.api_url}")
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, list):
            raise _Stop(
                f"GitHub advisories: the answer of {self.api_url}/advisories is not "
                "a list of advisories"
            )
        items = [r for r in (reduce_advisory(raw) for raw in body) if r is not None]
        if self.cache is not None:
            self.cache.set(
                PAGES,
                key,
                {"items": items, "next": nxt},
                etag=response.headers.get("ETag"),
            )
        return items, nxt

    def _all_pages(self, url: str, run: _Run) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        pages = 0
        next_url: str | None = url
        while next_url and pages < MAX_PAGES:
            page, next_url = self._get_page(next_url, run)
            items.extend(page)
            pages += 1
        return items

    def stop_requests(self) -> None:
        """The client's requests end (:meth:`GitHubClient.stop`)."""
        self.client.stop()

    def _url(self, params: Mapping[str, str]) -> str:
        return f"{self.api_url}/advisories?{urlencode(params, safe=',@/')}"

    # -- snapshot ---------------------------------------------------------------------------
    def snapshot_cwes(self) -> list[str]:
        rules = default_rules()
        ids = sorted(
            rules.leak_cwes | rules.exhaustion_cwes | rules.exhaustion_always,
            key=lambda c: int(c.split("-")[1]),
        )
        return [c.split("-")[1] for c in ids]

    def update_snapshot(self) -> tuple[int, tuple[str, ...]]:
        """Fetch every npm advisory in the leak and exhaustion CWEs (all pages) into the
        cache. Returns (advisories stored, warnings)."""
        if self.cache is None or not self.cache.enabled:
            return 0, ("GitHub advisories: the cache is disabled, nothing to update",)
        url = self._url(
            {
                "ecosystem": "npm",
                "cwes": ",".join(self.snapshot_cwes()),
                "per_page": str(PER_PAGE),
                "type": "reviewed",
            }
        )
        run = _Run()
        self.ttl = 0.0  # always ask (revalidating with ETags)
        try:
            items = self._all_pages(url, run)
        except _Stop as stop:
            return 0, (str(stop),)
        self.cache.set(SNAPSHOT, SNAPSHOT_KEY, {"items": items, "api": self.api_url})
        return len(items), tuple(self.cache.warnings)

    def _snapshot(self) -> tuple[list[dict[str, Any]], float] | None:
        if self.cache is None:
            return None
        entry = self.cache.get(SNAPSHOT, SNAPSHOT_KEY)
        if entry is None or not isinstance(entry.value, dict):
            return None
        items = entry.value.get("items")
        return (items, entry.stored_at) if isinstance(items, list) else None

    # -- the service ------------------------------------------------------------------------
    def enrich_all(self, packages: Sequence[PackageRef]) -> EnrichmentResult:
        keys = sorted({(r.name, r.version) for r in packages if _SEMVER.match(r.version)})
        run = _Run()
        warnings: list[str] = []
        answered: dict[tuple[str, str], list[Advisory]] = {}
        unanswered: list[tuple[str, str]] = []
        if not self.offline and not self._token:
            warnings.append(
                "GitHub advisories: no GITHUB_TOKEN or GH_TOKEN, using the anonymous limit "
                "(60 requests per hour)"
            )
        stopped = False
        for start in range(0, len(keys), self.batch_size):
            batch = keys[start : start + self.batch_size]
            if stopped:
                unanswered.extend(batch)
                continue
            url = self._url(
                {
                    "ecosystem": "npm",
                    "affects": ",".join(f"{n}@{v}" for n, v in batch),
                    "per_page": str(PER_PAGE),
                }
            )
            try:
                items = self._all_pages(url, run)
            except LookupError:  # offline and not cached
                unanswered.extend(batch)
                continue
            except _Stop as stop:
                warnings.append(str(stop))
                stopped = True
                unanswered.extend(batch)
                continue
            for name, version in batch:
                answered[(name, version)] = advisories_for(items, name, version)
        snapshot_note = ""
        if unanswered and self.offline:
            snap = self._snapshot()
            if snap is None:
                warnings.append(
                    "GitHub advisories: offline and no snapshot in the cache "
                    "(run `depaudit db update` while online)"
                )
            else:
                items, stored = snap
                for name, version in unanswered:
                    answered[(name, version)] = advisories_for(items, name, version)
                taken = datetime.fromtimestamp(stored, UTC)
                snapshot_note = f", snapshot of {taken:%Y-%m-%d} ({len(items)} advisories)"
        facts = {
            f"{n}@{v}": PackageFacts(name=n, version=v, advisories=tuple(found))
            for (n, v), found in answered.items()
            if found
        }
        mode = "offline" if self.offline else f"{run.requests} requests"
        consulted = (
            f"GitHub advisories ({mode}{snapshot_note}): {len(answered)} of {len(keys)} "
            f"package versions answered, {run.cached_pages} pages from the cache"
        )
        if run.revalidated:
            consulted += f", {run.revalidated} revalidated"
        return EnrichmentResult(
            facts=facts,
            warnings=tuple(warnings),
            consulted=consulted,
            failed=bool(keys) and not answered,
        )


def build_github_service(
    cache: Cache | None,
    client: GitHubClient,
    *,
    offline: bool = False,
    ttl: float = DEFAULT_TTL,
) -> GithubAdvisoryService:
    """The service as ``depaudit scan`` uses it, on the run's GitHub client (its session has no
    transport retries: GitHub's rate limits are handled by the client, and a 429 must not be
    retried blindly)."""
    return GithubAdvisoryService(
        None,  # the client's own session, made when the first request is sent
        cache,
        api_url=client.api_url,
        token=client.token,
        offline=offline,
        ttl=ttl,
        client=client,
    )
