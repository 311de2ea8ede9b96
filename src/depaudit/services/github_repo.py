"""GitHub repository signals for the top suspects: archived, and open "memory leak" issues.

For the repositories of the highest-ranked suspects only (the search API allows 30 requests a
minute with a token, and DESIGN.md says never to spend it on more than the top suspects):

* ``GET /repos/{owner}/{repo}`` (``../shared/api-notes.md`` §3.2): ``archived``;
* ``GET /search/issues`` with ``"memory leak" in:title repo:owner/repo is:issue state:open``
  and ``per_page=1`` (§3.3): ``total_count``.

Only with a token (``GITHUB_TOKEN`` / ``GH_TOKEN``); without one nothing is asked and one
warning says so. Answers are cached per repository for a day; ``--offline`` reads only the
cache. A rate limit or an error stops the checks with a warning: the scan goes on with the
facts unknown.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import quote, urlsplit

from depaudit.cache import Cache
from depaudit.github_client import GitHubClient, GitHubError, GitHubRateLimitError
from depaudit.models import PackageFacts, Suspect
from depaudit.slots import dataclass

NAMESPACE = "github-repo"
DEFAULT_TTL = 24 * 3600.0
#: repositories checked per scan: those of the highest-ranked suspects
DEFAULT_TOP = 10
#: the longest a scan sleeps for a GitHub rate limit before it stops asking
MAX_WAIT = 10.0
LEAK_QUERY = '"memory leak" in:title is:issue state:open'


@dataclass(frozen=True, slots=True)
class RepoFacts:
    archived: bool | None
    leak_issues: int | None
    leak_issues_url: str | None


@dataclass(frozen=True, slots=True)
class RepoResult:
    facts: dict[str, PackageFacts]  # updated facts, by name@version
    warnings: tuple[str, ...] = ()
    consulted: str | None = None


def web_host(api_url: str) -> str:
    """The host of repository URLs the API at ``api_url`` answers for (``api.github.com``
    serves ``github.com``; GitHub Enterprise serves its own host)."""
    host = (urlsplit(api_url).hostname or "").lower()
    return "github.com" if host == "api.github.com" else host


def repo_of(url: str | None, host: str) -> tuple[str, str] | None:
    """``https://github.com/owner/repo`` -> (owner, repo) when it is on ``host``."""
    if not url:
        return None
    parts = urlsplit(url)
    if (parts.hostname or "").lower() != host:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) < 2:
        return None
    owner, repo = segments[0], segments[1].removesuffix(".git")
    if not owner or not repo or any(c in owner + repo for c in " ?#%\\"):
        return None
    return owner, repo


class GithubRepoService:
    """Archived state and open leak issues of the top suspects' GitHub repositories."""

    name = "GitHub repositories"

    def __init__(
        self,
        cache: Cache | None,
        *,
        api_url: str,
        token: str | None,
        offline: bool = False,
        top: int = DEFAULT_TOP,
        ttl: float = DEFAULT_TTL,
        client: GitHubClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cache = cache
        self.api_url = api_url.rstrip("/")
        self.host = web_host(self.api_url)
        self.offline = offline
        self.top = top
        self.ttl = ttl
        self.clock = clock
        self._client = client
        self._token = token

    def __repr__(self) -> str:  # never show the token
        return (
            f"GithubRepoService(api_url={self.api_url!r}, token={'***' if self._token else None})"
        )

    def _repos(
        self, suspects: Sequence[Suspect], facts: Mapping[str, PackageFacts]
    ) -> dict[tuple[str, str], list[str]]:
        """The repositories of the top suspects, each with the names it is the repository of."""
        repos: dict[tuple[str, str], list[str]] = {}
        for suspect in suspects:
            found = facts.get(f"{suspect.name}@{suspect.version}")
            repo = repo_of(found.repository if found else None, self.host)
            if repo is None:
                continue
            if repo not in repos and len(repos) >= self.top:
                continue
            names = repos.setdefault(repo, [])
            if suspect.name not in names:
                names.append(suspect.name)
        return repos

    def _cached(self, repo: tuple[str, str]) -> RepoFacts | None:
        if self.cache is None:
            return None
        entry = self.cache.get(NAMESPACE, f"{self.host}/{repo[0]}/{repo[1]}".lower())
        if entry is None or not isinstance(entry.value, dict):
            return None
        if not self.offline and not entry.fresh(self.ttl, self.clock()):
            return None
        value = entry.value
        archived = value.get("archived")
        issues = value.get("leak_issues")
        return RepoFacts(
            archived if isinstance(archived, bool) else None,
            issues if isinstance(issues, int) and not isinstance(issues, bool) else None,
            self._search_url(repo),
        )

    def _search_url(self, repo: tuple[str, str]) -> str:
        query = quote(f"{LEAK_QUERY} repo:{repo[0]}/{repo[1]}", safe="")
        return f"https://{self.host}/search?q={query}&type=issues"

    def _fetch(self, client: GitHubClient, repo: tuple[str, str]) -> RepoFacts:
        owner, name = repo
        data: Any = client.get_json(
            f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}",
            what=f"GitHub repository {owner}/{name}",
            max_wait=MAX_WAIT,
        )
        archived = data.get("archived") if isinstance(data, dict) else None
        found: Any = client.get_json(
            "/search/issues",
            params={"q": f"{LEAK_QUERY} repo:{owner}/{name}", "per_page": 1},
            what=f"GitHub issue search in {owner}/{name}",
            max_wait=MAX_WAIT,
        )
        count = found.get("total_count") if isinstance(found, dict) else None
        result = RepoFacts(
            archived if isinstance(archived, bool) else None,
            count if isinstance(count, int) and not isinstance(count, bool) else None,
            self._search_url(repo),
        )
        if self.cache is not None:
            self.cache.set(
                NAMESPACE,
                f"{self.host}/{owner}/{name}".lower(),
                {"archived": result.archived, "leak_issues": result.leak_issues},
            )
        return result

    @staticmethod
    def _stopped(exc: GitHubError, left: int, total: int) -> str:
        return (
            f"GitHub repositories: {exc.message}; {left} of {total} repositories not checked "
            "(archived, open memory-leak issues unknown)"
        )

    def enrich(self, suspects: Sequence[Suspect], facts: Mapping[str, PackageFacts]) -> RepoResult:
        repos = self._repos(suspects, facts)
        if not repos:
            return RepoResult({})
        learned: dict[tuple[str, str], RepoFacts] = {}
        warnings: list[str] = []
        missing = []
        for repo in repos:
            cached = self._cached(repo)
            if cached is not None:
                learned[repo] = cached
            else:
                missing.append(repo)
        asked = 0
        if missing and not self.offline:
            if not self._token:
                warnings.append(
                    "GitHub repositories: no GITHUB_TOKEN or GH_TOKEN, so the top suspects' "
                    "repositories were not checked (archived, open memory-leak issues)"
                )
            else:
                client = self._client or GitHubClient(self._token, self.api_url, max_wait=MAX_WAIT)
                unreadable: list[str] = []
                for index, repo in enumerate(missing):
                    try:
                        learned[repo] = self._fetch(client, repo)
                        asked += 1
                    except GitHubRateLimitError as exc:
                        warnings.append(self._stopped(exc, len(missing) - index, len(repos)))
                        break
                    except GitHubError as exc:
                        if exc.status is None or exc.status >= 500:  # GitHub is down: stop
                            warnings.append(self._stopped(exc, len(missing) - index, len(repos)))
                            break
                        # renamed away, private, or search refused: this one stays unknown
                        unreadable.append(f"{repo[0]}/{repo[1]} (HTTP {exc.status})")
                if unreadable:
                    warnings.append(
                        f"GitHub repositories: {len(unreadable)} could not be read, their "
                        f"archived state and leak issues are unknown: {', '.join(unreadable)}"
                    )
        updated: dict[str, PackageFacts] = {}
        for repo, known in learned.items():
            names = set(repos[repo])
            for key, current in facts.items():
                if current.name in names:
                    updated[key] = replace(
                        current,
                        archived=known.archived,
                        leak_issues=known.leak_issues,
                        leak_issues_url=known.leak_issues_url,
                    )
        mode = " (offline)" if self.offline else ""
        consulted = (
            f"GitHub repositories{mode}: {len(learned)} of the top {len(repos)} suspects' "
            f"repositories known, {asked} asked"
        )
        return RepoResult(updated, tuple(warnings), consulted)
