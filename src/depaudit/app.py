"""The library entry points, and the composition root's caller: what ``depaudit scan``,
``explain`` and ``diff`` and the GitHub Action do, without argparse or printing of reports.

:func:`scan` loads the tree once, builds the report once (``audit.build_report`` opens and
closes the session, the cache and the services) and applies the ignore file once; callers
render that one :class:`Scan` in as many formats as they need.
"""

from __future__ import annotations

import sys
from collections.abc import Collection
from contextlib import ExitStack, nullcontext
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from depaudit import bundled, gcpause
from depaudit.audit import Clock, Opened, build_report, utc_now
from depaudit.config import Settings, find_config, load_config
from depaudit.errors import DepauditError, ExitCode, ServiceError, print_error
from depaudit.ignore import IgnoreEntry, apply_ignores, parse_ignores
from depaudit.models import DependencyTree, Report, Tier
from depaudit.output import write_report
from depaudit.scoring import LeakScorer, at_or_above
from depaudit.slots import dataclass
from depaudit.sources.loader import load_tree, lockfile_alone, npm_ls_ahead
from depaudit.text import terminal_safe, valid_unicode

if TYPE_CHECKING:  # (npm ls is imported where it runs, npm's configuration where it is read)
    from depaudit.npm_process import RegistryQuery
    from depaudit.sources.npm_ls_run import NpmLs


PROG = "depaudit"


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` as :mod:`depaudit.output` does (atomic for regular files,
    in place for devices and FIFOs, the old mode kept)."""
    write_report(path, valid_unicode(text))


def policy(settings: Settings) -> tuple[Settings, dict[str, object], str]:
    """Settings with fail-on resolved (flag/env > config file > never), the config, its name."""
    path = find_config(settings.directory, settings.config)
    config = load_config(path)
    if settings.fail_on is None:  # neither the flag nor DEPAUDIT_FAIL_ON: the file decides
        from_file = config.get("fail-on")
        settings = replace(settings, fail_on=from_file if isinstance(from_file, str) else "never")
    entries = config.get("entry")
    if isinstance(entries, list) and entries:
        settings = replace(settings, entries=(*settings.entries, *map(str, entries)))
    return settings, config, str(path) if path else ".depaudit.toml"


def with_runtime(settings: Settings, tree: DependencyTree) -> DependencyTree:
    """``tree`` with the runtime status of its placements (depaudit.reach) and its warnings;
    the project folder is the lockfile's or the scanned folder."""
    from depaudit.cache import Cache
    from depaudit.reach.attach import attach_runtime, project_root

    root = project_root(settings.directory, settings.lockfile)
    cache = Cache(settings.cache_dir, enabled=settings.use_cache)
    try:
        tree, _, warnings = attach_runtime(tree, root, settings.entries, cache)
    finally:
        cache.close()
    if warnings:
        tree = tree.evolve(warnings=(*tree.warnings, *warnings))
    return tree


def fails(report: Report, fail_on: str | None, what: str = "suspects") -> bool:
    """Whether a suspect is at or above ``fail_on``; if so, one stderr line names them."""
    if fail_on in (None, "never"):
        return False
    tripped = [s for s in report.suspects if at_or_above(s.tier, Tier(fail_on))]
    if tripped:
        names = ", ".join(f"{s.key} ({s.tier.value}, {s.score:g})" for s in tripped[:10])
        more = f" and {len(tripped) - 10} more" if len(tripped) > 10 else ""
        print(
            terminal_safe(
                f"{PROG}: --fail-on {fail_on}: {len(tripped)} {what} at or above {fail_on}: "
                f"{names}{more}"
            ),
            file=sys.stderr,
        )
    code = [f for f in report.findings if at_or_above(f.tier, Tier(fail_on))]
    if code:
        where = ", ".join(f"{f.rule} at {f.file}:{f.line}" for f in code[:10])
        print(
            terminal_safe(
                f"{PROG}: --fail-on {fail_on}: {len(code)} code findings at or above "
                f"{fail_on}: {where}"
            ),
            file=sys.stderr,
        )
    return bool(tripped) or bool(code)


def begin_services(
    settings: Settings, asked: RegistryQuery | None, stack: ExitStack, ahead: NpmLs | None
) -> Opened | None:
    """The run's cache and the services that go to the network, opened on ``stack`` before
    the tree is read, each begun on the lockfile's packages (``sources.preview``: the
    registry's fetch, the advisories' requests), so that they wait on the network while the
    tree is read; else None (the report opens them once the tree is read):

    - where the scan waits for ``npm ls`` (``ahead``, started by ``loader.npm_ls_ahead``):
      on the lockfile's installed packages;
    - where the tree is an npm lockfile alone, of :data:`~depaudit.services.registry.
      DECODE_PROCESS_FROM` names or more, and the cache was not written within its time to
      live (none yet, or every entry stale: ``cache.last_write``): on its packages, and only
      where the registry's fetch will run in fetch workers (``RegistryService.begin``'s
      ``workers_only``), whose answers alone take turns with the tree's reading for this
      process's time.

    Not offline, without the registry or without a cache (what was fetched is handed over in
    it). A configuration the registry refuses is left for then too: an input error in the
    lockfile is still said first."""
    if not settings.use_registry or settings.offline or not settings.use_cache:
        return None
    from depaudit.sources.preview import lockfile_refs, registry_preview

    limit = settings.budget.input_bytes
    if ahead is not None:
        placed = registry_preview(ahead.directory, limit)
    else:
        import time

        from depaudit.cache import last_write
        from depaudit.services.registry import DECODE_PROCESS_FROM

        written = last_write(settings.cache_dir)
        if written is not None and time.time() - written < settings.cache_ttl:
            return None  # (a cache written within its time to live: a warm scan, likely,
            # which the preview, ~15 ms for theia, would only slow; what is stale is fetched
            # once the tree is read, as before)
        lockfile = lockfile_alone(settings)
        placed = lockfile_refs(lockfile, limit) if lockfile is not None else None
        if placed is not None and len({name for name, _, _ in placed}) < DECODE_PROCESS_FROM:
            return None  # (a fetch this small runs in this process, and would take turns)
    if not placed:
        return None
    from depaudit.audit import open_services
    from depaudit.cache import Cache
    from depaudit.services.interface import PackageRef

    cache = Cache(settings.cache_dir, enabled=True)
    stack.callback(cache.close)
    try:
        opened = open_services(settings, cache, asked, stack)
    except DepauditError:
        return None
    if opened.registry is None:  # (not without the registry: see above)
        return opened
    stack.callback(opened.registry.stop)  # (on the way out, before the cache closes)
    packages = [PackageRef(*p) for p in placed]
    # the advisories only where the registry began: where every document is fresh in the
    # cache, so are the advisories (and the report's services read them at once)
    if opened.registry.begin(packages, workers_only=ahead is None):
        for service in opened.advisories:
            service.begin(packages)
            # where the scan never takes its answer (the tree could not be read, Ctrl-C),
            # its thread sends nothing more (run first: the callbacks run in reverse)
            stack.callback(service.abandon)
    return opened


@dataclass(frozen=True, slots=True)
class Scan:
    """One scan: the settings (fail-on resolved), the tree, the report after the ignore file,
    and what applying ignores to another report of the same run needs."""

    settings: Settings
    tree: DependencyTree
    report: Report
    scorer: LeakScorer
    ignores: tuple[IgnoreEntry, ...]
    origin: str

    @property
    def registry_failed(self) -> bool:
        from depaudit.services.registry import RegistryService

        return RegistryService.name in self.report.failed

    def ignored(self, report: Report, clock: Clock) -> Report:
        """Another report of this run (the diff's base) with the same ignore file applied."""
        return apply_ignores(report, self.ignores, clock().date(), self.scorer.weights, self.origin)


def scan(
    settings: Settings,
    clock: Clock = utc_now,
    tree: DependencyTree | None = None,
    formats: Collection[str] | None = None,
    asked: RegistryQuery | None = None,
    queried: bool = False,
) -> Scan:
    """Load the tree (unless given), build the report, apply the ignore file: once.

    ``formats`` are the formats the report will be rendered in (``settings.format`` when not
    given): when SARIF is among them, the input stage also finds each placement's line in
    the lockfile (``sources.lines``), which no other format needs.

    ``asked`` is npm's answer for the registry, started by the caller (``npmrc.query_for``;
    ``queried``: the caller ran it, and None was its answer, nothing to ask); the scan starts
    it itself otherwise, and closes it either way."""
    if asked is None and not queried and settings.online_registry:
        from depaudit.npmrc import query_for

        asked = query_for(settings)  # npm's answer, where it is npm's to say: by the fetch
    with asked or nullcontext():
        settings, config, origin = policy(settings)
        ignores = tuple(parse_ignores(config, origin))
        bundled.use_fast_forms(settings.use_cache, settings.cache_dir)  # --no-cache: neither
        with ExitStack() as early:
            prepare = opened = None
            if tree is None:
                # npm ls first, where the installed tree is read: it is the longest part
                # of the tree's reading, and runs while the lockfile is; the network's
                # services begin on the lockfile's packages meanwhile
                ahead = npm_ls_ahead(settings)
                if ahead is not None:
                    early.callback(ahead.stop)  # (not used: the tree could not be read)
                opened = begin_services(settings, asked, early, ahead)
                if ahead is not None:  # (its reading threads after the fetch workers' fork:
                    ahead.read()  # fetch_worker.spawn forks from a process of one thread)
                with gcpause.paused():
                    tree = load_tree(settings, ahead)
                    if "sarif" in (formats if formats is not None else (settings.format,)):
                        from depaudit.sources.lines import with_lines

                        tree = with_lines(tree, settings.budget.input_bytes)
                prepare = partial(with_runtime, settings)  # beside the services
            code = None
            if settings.use_code:  # the app's code scan, started beside the services too
                from depaudit.code.integrate import CodeScan

                code = CodeScan(settings)
            try:
                with gcpause.frozen():
                    report, scorer = build_report(
                        settings,
                        tree,
                        clock,
                        prepare,
                        code.start if code is not None else None,
                        asked,
                        opened,
                    )
                    report = apply_ignores(report, ignores, clock().date(), scorer.weights, origin)
            except BaseException:  # Ctrl-C, or an error: the code scan beside it ends too
                if code is not None:
                    code.stop()
                raise
    tree = report.tree
    if code is not None:
        try:
            report = code.add_to(report)  # (waits for the code scan)
        except BaseException:  # Ctrl-C while it waits: the code scan and its workers end
            code.stop()
            raise
    return Scan(settings, tree, report, scorer, ignores, origin)


def exit_code(result: Scan) -> int:
    """3 when --strict and the registry failed (said on stderr), 1 on suspects at or above
    fail-on, else 0."""
    if result.settings.strict and result.registry_failed:
        print_error(
            ServiceError("the npm registry could not be used", "see the warnings in the report")
        )
        return ExitCode.SERVICE
    return ExitCode.SUSPECTS if fails(result.report, result.settings.fail_on) else ExitCode.OK
