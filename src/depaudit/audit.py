"""Orchestration: tree -> problems -> facts -> suspects -> Report. No I/O of its own.

``build_report`` is the composition root: it opens the run's one cache, the HTTP sessions (one
for the npm registry, one for GitHub, whose rate limits forbid transport retries) and the
services the settings ask for, hands each its parts, runs the :class:`Auditor` over them and
closes everything again. The Report records the services that failed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from depaudit import __version__
from depaudit.cache import Cache
from depaudit.config import Settings
from depaudit.models import (
    DependencyTree,
    MeasuredGrowth,
    PackageFacts,
    Report,
    Suspect,
    TreeProblem,
)
from depaudit.scoring import LeakScorer
from depaudit.services.interface import EnrichmentResult, EnrichmentService, PackageRef
from depaudit.services.knowledge_base import KnowledgeBaseService
from depaudit.slots import dataclass
from depaudit.tree import find_problems

if TYPE_CHECKING:  # imported in build_report when the settings ask for them
    from depaudit.github_client import GitHubClient
    from depaudit.npm_process import RegistryQuery
    from depaudit.services.github_repo import GithubRepoService
    from depaudit.services.registry import RegistryService


Clock = Callable[[], datetime]

#: scoring hook: (tree, problems, facts by name@version) -> ranked suspects
Scorer = Callable[
    [DependencyTree, Sequence[TreeProblem], Mapping[str, PackageFacts]], Sequence[Suspect]
]


def utc_now() -> datetime:
    return datetime.now(UTC)


def package_refs(tree: DependencyTree) -> list[PackageRef]:
    """Unique name@version of the tree, dev only when every placement is dev."""
    dev: dict[tuple[str, str], bool] = {}
    for pkg in tree.packages:
        key = (pkg.name, pkg.version)
        dev[key] = dev.get(key, True) and pkg.dev
    return [PackageRef(name, version, is_dev) for (name, version), is_dev in sorted(dev.items())]


@dataclass
class Auditor:
    tree: DependencyTree
    services: Sequence[EnrichmentService] = ()
    scorer: Scorer | None = None
    clock: Callable[[], datetime] = field(default=utc_now)
    offline: bool = False
    #: asked after a first ranking, for the top suspects only; then the tree is ranked again
    repos: GithubRepoService | None = None
    #: work on the tree that runs beside the services (the app's runtime reachability, which
    #: reads the app's code): its tree is the one scored and reported
    prepare: Callable[[DependencyTree], DependencyTree] | None = None
    #: the caller's own work to start beside the services, when they start (the app's code
    #: scan, ``code.integrate.CodeScan.start``); the caller collects its result
    beside: Callable[[], None] | None = None
    #: called once every service has answered, before the scoring: their cache writes are
    #: done (``Cache.checkpoint_behind``, which copies them into the database meanwhile)
    settled: Callable[[], None] | None = None

    def _beside(self) -> tuple[DependencyTree, tuple[TreeProblem, ...]]:
        """The work on the tree itself: runtime (``prepare``), problems, the scorer's data."""
        tree = self.prepare(self.tree) if self.prepare is not None else self.tree
        problems = tuple(find_problems(tree))
        ready = getattr(self.scorer, "ready", None)  # LeakScorer: its bundled data
        if ready is not None:
            ready()
        return tree, problems

    def _enrich(
        self, refs: Sequence[PackageRef]
    ) -> tuple[
        dict[str, PackageFacts],
        list[str],
        list[str],
        list[str],
        tuple[DependencyTree, tuple[TreeProblem, ...]],
    ]:
        """Every service at once, and the work on the tree beside them. The one that runs
        long (the registry's fetch) runs in this thread; the others and :meth:`_beside` start
        in threads as soon as it says its requests are out (``under_way``), or when it
        returns: a cold registry phase is mostly waiting (the advisories' round trips, ~1 s
        at 50 ms, used to come after it), and started earlier their Python delayed its first
        requests by ~0.1 s (benchmarks/README.md "Cold scan"). Results are merged in the
        services' order, so the report does not depend on which finished first."""
        from concurrent.futures import Future, ThreadPoolExecutor

        facts: dict[str, PackageFacts] = {}
        warnings: list[str] = []
        consulted: list[str] = []
        failed: list[str] = []
        here = next((s for s in self.services if getattr(s, "runs_long", False)), None)
        others = [s for s in self.services if s is not here]
        with ThreadPoolExecutor(len(others) + 1, thread_name_prefix="enrich") as pool:
            try:
                pending: dict[int, Future[EnrichmentResult]] = {}
                aside: list[Future[tuple[DependencyTree, tuple[TreeProblem, ...]]]] = []

                def start_the_rest() -> None:
                    if not aside:
                        aside.append(pool.submit(self._beside))
                        pending.update({id(s): pool.submit(s.answer, refs) for s in others})
                        if self.beside is not None:
                            self.beside()

                mine = None
                if here is not None:
                    here.under_way = start_the_rest
                    try:
                        mine = here.answer(refs)
                    finally:
                        here.under_way = None
                start_the_rest()
                for service in self.services:
                    result = mine if service is here else pending[id(service)].result()
                    assert result is not None
                    if result.failed:
                        failed.append(service.name)
                    for key, found in result.facts.items():
                        facts[key] = facts[key].merge(found) if key in facts else found
                    warnings.extend(result.warnings)
                    if result.consulted:
                        consulted.append(result.consulted)
                prepared = aside[0].result()
            except BaseException:
                # Ctrl-C, or an error: the other services' requests end too, or leaving the
                # pool would wait for them (GitHub's pages went on for 16 s after a Ctrl-C)
                for service in others:
                    service.stop_requests()
                raise

        return facts, warnings, consulted, failed, prepared

    def run(self) -> Report:
        refs = package_refs(self.tree)
        facts, found, consulted, failed, (tree, problems) = self._enrich(refs)
        if self.settled is not None:
            self.settled()
        warnings = [*tree.warnings, *found]
        from depaudit.services.fidelity import check

        facts, doubts = check(facts)
        warnings.extend(doubts)
        suspects = tuple(self.scorer(tree, problems, facts)) if self.scorer else ()
        if self.repos is not None and self.scorer is not None and suspects:
            checked = self.repos.enrich(suspects, facts)
            if checked.facts:
                facts.update(checked.facts)
                suspects = tuple(self.scorer(tree, problems, facts))
            warnings.extend(checked.warnings)
            if checked.consulted:
                consulted.append(checked.consulted)
        return Report(
            tool_version=__version__,
            generated_at=self.clock(),
            tree=tree,
            problems=problems,
            facts=facts,
            suspects=suspects,
            warnings=tuple(warnings),
            consulted=tuple(consulted),
            offline=self.offline,
            failed=tuple(failed),
            severities=_severities(self.scorer),
        )


def _severities(scorer: Scorer | None) -> dict[str, str]:
    """The SARIF severity of each rule, from the scorer's weights (a LeakScorer has them; a
    scorer without weights, or none, leaves them out of the report)."""
    weights = getattr(scorer, "weights", None)
    severities = getattr(weights, "severities", None)
    return {str(k): str(v) for k, v in severities.items()} if severities else {}


@dataclass(frozen=True, slots=True)
class Opened:
    """The run's cache and the services that go to the network, opened before its tree was
    read (``app.begin_services``) so that they could begin on the lockfile's packages
    (:meth:`EnrichmentService.begin`); their opener closes them."""

    cache: Cache
    registry: RegistryService | None
    github: GitHubClient
    advisories: tuple[EnrichmentService, ...]


def open_registry(
    settings: Settings, cache: Cache, asked: RegistryQuery | None = None
) -> RegistryService:
    """The registry service the settings ask for (``settings.use_registry``), on ``cache``."""
    from depaudit.services.registry import build_registry_service

    return build_registry_service(
        settings.npmrc_directory,
        registry=settings.registry,
        offline=settings.offline,
        cache_ttl=settings.cache_ttl,
        jobs=settings.jobs,
        cache=cache,
        network_seconds=settings.budget.network_seconds,
        response_bytes=settings.budget.response_bytes,
        asked=asked,
    )


def open_services(
    settings: Settings, cache: Cache, asked: RegistryQuery | None, parts: ExitStack
) -> Opened:
    """The registry (when the settings ask for it), the GitHub client and the advisory
    services, on ``cache``; ``parts`` closes them."""
    from depaudit.github_client import MAX_RUN_BYTES, GitHubClient
    from depaudit.services.github_advisories import build_github_service

    registry: RegistryService | None = None
    if settings.use_registry:
        registry = open_registry(settings, cache, asked)
        parts.callback(registry.close)
    github = GitHubClient(
        settings.github_token,
        settings.github_api_url,
        max_run_bytes=min(settings.budget.response_bytes or MAX_RUN_BYTES, MAX_RUN_BYTES),
    )
    parts.callback(github.close)
    advisories: list[EnrichmentService] = []
    if settings.use_advisories:
        if registry is not None:
            from depaudit.services.npm_advisories import NpmAdvisoryService

            advisories.append(
                NpmAdvisoryService(
                    registry.config.registry,
                    registry.side_session,  # (made on first use)
                    cache,
                    offline=settings.offline,
                )
            )
        advisories.append(build_github_service(cache, github, offline=settings.offline))
    return Opened(cache, registry, github, tuple(advisories))


def build_report(
    settings: Settings,
    tree: DependencyTree,
    clock: Clock,
    prepare: Callable[[DependencyTree], DependencyTree] | None = None,
    beside: Callable[[], None] | None = None,
    asked: RegistryQuery | None = None,
    opened: Opened | None = None,
) -> tuple[Report, LeakScorer]:
    """Enrich and score ``tree`` as the settings say (before the ignore file); ``prepare``
    (the runtime reachability) runs on the tree beside the services, and ``beside`` is
    called when they start (:class:`Auditor`); ``asked`` is npm's answer for the registry,
    started earlier (:func:`depaudit.npmrc.query_for`); ``opened``: the cache and the
    services opened before the tree was read (:func:`open_services`), used instead of new
    ones.

    The services are imported here, those the settings ask for only: an offline run without
    the registry loads no HTTP stack (``depaudit.github_client`` makes its session on first
    use)."""
    with ExitStack() as parts:
        if opened is None:
            cache = parts.enter_context(Cache(settings.cache_dir, enabled=settings.use_cache))
            opened = open_services(settings, cache, asked, parts)
        cache, registry, github = opened.cache, opened.registry, opened.github
        services: list[EnrichmentService] = [KnowledgeBaseService()]
        if registry is not None:
            services.append(registry)
        services.extend(opened.advisories)
        repos = None
        if registry is not None:  # repository URLs come from the registry's documents
            from depaudit.services.github_repo import GithubRepoService

            repos = GithubRepoService(
                cache,
                api_url=settings.github_api_url,
                token=settings.github_token,
                offline=settings.offline,
                client=github,
            )
        growth: tuple[MeasuredGrowth, ...] = ()
        if settings.heap_snapshots or settings.heap_profile is not None:
            from depaudit.heap.scan import measure
            from depaudit.services.heap_growth import HeapGrowthService

            growth, heap_warnings = measure(
                settings.heap_snapshots, settings.heap_profile, settings.directory
            )
            services.append(HeapGrowthService(growth, heap_warnings))
        scorer = LeakScorer(clock=clock)
        auditor = Auditor(
            tree=tree,
            services=services,
            scorer=scorer,
            clock=clock,
            offline=settings.offline,
            repos=repos,
            prepare=prepare,
            beside=beside,
            settled=cache.checkpoint_behind,
        )
        report = auditor.run()
        if growth:
            report = replace(report, growth=growth)
        return report, scorer
