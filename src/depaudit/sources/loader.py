"""Turn Settings into a DependencyTree: pick the input, read it.

* ``--npm-ls FILE|-``: a saved ``npm ls --json``.
* ``--lockfile FILE``: that lockfile alone.
* ``scan [DIR]``: the lockfile found in DIR (``detect``). When ``DIR/node_modules`` exists,
  ``npm`` is on PATH and ``--no-npm`` is not given, ``npm ls --all --json`` also runs there
  and the two are combined:

  - the **installed tree is the primary tree**: its packages, paths and the problems npm
    reports (missing, invalid, extraneous, unmet peers) are what the report shows, because
    that is the code that runs;
  - the lockfile adds its **drift** problems (package.json <-> lockfile), and an invalid
    package says what the lockfile has for it when that differs; the combined tree's
    ``drift_reported`` names the lockfile and the importers it compared, so the tree stage
    (``tree.drift``) does not report their drift a second time;
  - a warning says when node_modules and the lockfile disagree (run ``npm ci``);
  - ``source.path`` stays the lockfile, so locations in reports point at a file.

  With node_modules but no lockfile at all, the installed tree alone is read (and a missing
  npm is then an error); with a lockfile and no npm on PATH, the lockfile is read with a
  warning. yarn and pnpm lockfiles never run npm.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from depaudit.config import Settings
from depaudit.errors import DepauditError
from depaudit.models import (
    DependencyTree,
    DepType,
    DriftReported,
    ProblemKind,
    SourceInfo,
    TreeProblem,
)
from depaudit.sources import LOCKFILE_NAMES, NPM_LOCKFILES, detect, source_for
from depaudit.tree import drift

if TYPE_CHECKING:  # (npm ls is imported where it runs)
    from depaudit.sources.npm_ls_run import NpmLs

#: how many differing name@version to name in the drift warning
_SHOWN = 5


def _reads_installed(settings: Settings) -> tuple[Path, bool] | None:
    """The folder whose node_modules the scan reads with npm ls (and whether it has a
    lockfile of any manager), or None where no npm ls is wanted (yet: the lockfile found
    decides the rest, in :func:`load_tree`)."""
    if settings.npm_ls is not None or settings.lockfile is not None or not settings.use_npm:
        return None
    directory = Path(settings.directory)
    if not (directory / "node_modules").is_dir():
        return None
    return directory, any((directory / n).is_file() for n in LOCKFILE_NAMES)


def lockfile_alone(settings: Settings) -> Path | None:
    """The lockfile :func:`load_tree` reads alone, where it will: ``--lockfile``, or the
    folder's, where no ``node_modules`` is read with npm ls (none there, or ``--no-npm``);
    else None (npm ls output, an installed tree, or no lockfile to find)."""
    if settings.npm_ls is not None:
        return None
    if settings.lockfile is not None:
        return Path(settings.lockfile)
    if _reads_installed(settings) is not None:
        return None
    try:
        return detect(Path(settings.directory)).lockfile
    except DepauditError:
        return None


def npm_ls_ahead(settings: Settings) -> NpmLs | None:
    """``npm ls`` started now where :func:`load_tree` will read it (``app.scan`` starts it
    before anything else: it runs while the lockfile and the network's services are read),
    else None. Where it cannot be started, None: :func:`load_tree` says why, as always."""
    installed = _reads_installed(settings)
    if installed is None:  # (a lockfile's scan imports no npm ls code: start-up time)
        return None
    from depaudit.sources.npm_ls_run import npm_command, start_npm_ls

    if npm_command() is None:
        return None
    directory, has_lockfile = installed
    try:
        if has_lockfile:
            if detect(directory).lockfile.name not in NPM_LOCKFILES:
                return None  # (yarn, pnpm, bun: npm ls is not run)
        elif not (directory / "package.json").is_file():
            return None
        return start_npm_ls(directory)
    except DepauditError:
        return None


def load_tree(settings: Settings, ahead: NpmLs | None = None) -> DependencyTree:
    """The scan's tree; ``ahead``: npm ls started earlier (:func:`npm_ls_ahead`), read
    where npm ls is wanted."""
    # npm ls readers are imported when npm ls output is read or run (a lockfile scan of a
    # project without node_modules never needs them: start-up time)
    if settings.npm_ls is not None:
        from depaudit.sources.npm_ls import NpmLsSource

        return NpmLsSource(settings.budget).load_input(settings.npm_ls)
    if settings.lockfile is not None:
        return source_for(settings.lockfile, settings.budget).load(settings.lockfile)
    directory = Path(settings.directory)
    installed = _reads_installed(settings)
    installed_wanted = installed is not None
    has_lockfile = (
        installed[1]
        if installed is not None
        else directory.is_dir() and any((directory / n).is_file() for n in LOCKFILE_NAMES)
    )
    if installed_wanted and not has_lockfile and (directory / "package.json").is_file():
        # the only view there is
        return _npm_ls(directory, settings, ahead)
    found = detect(directory)
    locked = source_for(found.lockfile, settings.budget).load(found.lockfile)
    if found.warning:
        locked = replace(locked, warnings=(found.warning, *locked.warnings))
    if not installed_wanted or found.lockfile.name not in NPM_LOCKFILES:
        return locked
    from depaudit.sources.npm_ls_run import npm_command

    if npm_command() is None:
        return replace(
            locked,
            warnings=(
                *locked.warnings,
                "node_modules exists but npm is not on PATH: only the lockfile was read",
            ),
        )
    return combine(_npm_ls(directory, settings, ahead), locked)


def _npm_ls(directory: Path, settings: Settings, ahead: NpmLs | None) -> DependencyTree:
    """npm ls's tree of ``directory``: the one started ahead, else run now."""
    from depaudit.sources.npm_ls_run import finish_npm_ls, run_npm_ls

    depth = settings.budget.path_depth
    if ahead is not None and ahead.directory == directory:
        return finish_npm_ls(ahead, settings.npm_timeout, depth)
    return run_npm_ls(directory, settings.npm_timeout, depth)


def _without_dev(installed: DependencyTree, locked: DependencyTree) -> tuple[str, ...]:
    """The importers' dev dependencies npm ls calls missing when node_modules holds no dev
    package at all (``npm ci --omit=dev``, ``NODE_ENV=production``): left out on purpose."""
    if not any(p.dev for p in locked.packages):
        return ()
    for pkg in installed.packages:
        same = locked.at(pkg.location)
        if same is not None and same.dev:
            return ()  # dev packages were installed: a missing one is a real problem
    dev = {
        d.name
        for importer in (*installed.importers, *locked.importers)
        for d in importer.dependencies
        if d.type is DepType.DEV
    }
    missing = {p.name for p in installed.reported_problems if p.kind is ProblemKind.MISSING}
    unplaced = {d.name for i in installed.importers for d in i.dependencies if d.target is None}
    return tuple(sorted(dev & (missing | unplaced)))


def combine(installed: DependencyTree, locked: DependencyTree) -> DependencyTree:
    """The installed tree with the lockfile's drift problems and evidence added."""
    omitted = _without_dev(installed, locked)
    importer_paths = {() if i.is_root else (i.name,) for i in installed.importers}
    problems: list[TreeProblem] = []
    for problem in installed.reported_problems:
        if (
            problem.kind is ProblemKind.MISSING
            and problem.name in omitted
            and problem.path[:-1] in importer_paths
        ):
            continue  # a root's or workspace's own dev dependency, left out on purpose
        problem = _peer_from_lockfile(problem, installed, locked)
        if problem.kind in (ProblemKind.INVALID, ProblemKind.PEER_INVALID) and problem.version:
            locked_version = _locked_version(locked, problem)
            if locked_version and locked_version != problem.version:
                problem = replace(
                    problem,
                    detail=f"{problem.detail}; {locked.source.path} has {locked_version}",
                )
        problems.append(problem)
    # the lockfile's importers hold the declared ranges; its drift is reported here, once,
    # and the tree says so (drift_reported), so the tree stage does not compare again
    problems.extend(drift(locked))
    compared = tuple(i.location for i in locked.importers if i.declared is not None)
    warnings = list(installed.warnings) + list(locked.warnings)
    only_installed = sorted(
        {f"{p.name}@{p.version}" for p in installed.packages if not p.extraneous}
        - {f"{p.name}@{p.version}" for p in locked.packages}
    )
    only_locked = sorted(
        # dev and optional packages may be absent on purpose (--omit=dev, another platform)
        {f"{p.name}@{p.version}" for p in locked.packages if not p.dev and not p.optional}
        - {f"{p.name}@{p.version}" for p in installed.packages}
    )
    if only_installed or only_locked:
        parts = []
        if only_installed:
            parts.append(f"{len(only_installed)} only installed ({_some(only_installed)})")
        if only_locked:
            parts.append(f"{len(only_locked)} only in the lockfile ({_some(only_locked)})")
        warnings.append(
            f"node_modules differs from {locked.source.path}: "
            + "; ".join(parts)
            + " (run npm ci to install exactly the lockfile)"
        )
    importers = tuple(
        replace(
            i,
            dependencies=tuple(
                d
                for d in i.dependencies
                if not (d.type is DepType.DEV and d.target is None and d.name in omitted)
            ),
        )
        for i in installed.importers
    )
    if omitted:
        warnings.append(
            "node_modules holds no dev dependencies (installed with --omit=dev or "
            f"NODE_ENV=production): {len(omitted)} devDependencies not reported missing "
            f"({_some(list(omitted))})"
        )
    # where node_modules holds what the lockfile says, npm's own dev / optional flags (the
    # lockfile's) win over those worked out from npm ls's edges (bundled packages list none)
    packages = []
    for pkg in installed.packages:
        same = locked.at(pkg.location)
        if same is not None and same.version == pkg.version and not pkg.extraneous:
            pkg = replace(pkg, dev=same.dev, optional=same.optional)
        packages.append(pkg)
    return replace(
        installed,
        packages=tuple(packages),
        source=SourceInfo(
            kind=f"npm-ls+{locked.source.kind}",
            path=locked.source.path,
            lockfile_version=locked.source.lockfile_version,
        ),
        importers=importers,
        reported_problems=tuple(problems),
        warnings=tuple(warnings),
        overrides=installed.overrides or locked.overrides,
        drift_reported=DriftReported(locked.source.path, compared),
    )


_AS_PEER = {
    ProblemKind.MISSING: ProblemKind.PEER_MISSING,
    ProblemKind.INVALID: ProblemKind.PEER_INVALID,
}


def _peer_from_lockfile(
    problem: TreeProblem, installed: DependencyTree, locked: DependencyTree
) -> TreeProblem:
    """npm >= 7 reports an unmet peer as a plain missing / invalid; the lockfile says
    which edges are peers."""
    peer_kind = _AS_PEER.get(problem.kind)
    if peer_kind is None or len(problem.path) < 2:
        return problem
    parents = [p for p in installed.packages if p.path == problem.path[:-1]]
    if not parents:
        return problem
    for candidate in locked.placements(parents[0].name, parents[0].version):
        for dep in candidate.dependencies:
            if dep.name == problem.path[-1] and dep.type in (DepType.PEER, DepType.PEER_OPTIONAL):
                return replace(problem, kind=peer_kind, detail="peer dependency: " + problem.detail)
    return problem


def _locked_version(locked: DependencyTree, problem: TreeProblem) -> str | None:
    same_path = [p for p in locked.placements(problem.name) if p.path == problem.path]
    if same_path:
        return same_path[0].version
    top = locked.at(f"node_modules/{problem.name}")
    if top is not None and len(problem.path) == 1:
        return top.version
    return None


def _some(items: list[str]) -> str:
    shown = ", ".join(items[:_SHOWN])
    return shown + (f", and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")
