"""Tree problems, the same for every source: ``find_problems(tree)``.

What a source reports itself (npm ls does; lockfiles do not) is kept; the rest is computed from
the edges (:attr:`Package.dependencies`, :attr:`Importer.dependencies`) with npm's semantics:

* missing: a required edge that resolves to nothing (optional ones are not problems);
* invalid: the placement an edge resolves to does not satisfy its range;
* peer-missing / peer-invalid: the same for ``peerDependencies`` (an optional peer is a
  problem only when it is present at a wrong version);
* deduped: a placement that more than one dependent shares (npm's JSON has no marker);
* duplicate-versions: a name installed at several versions, with every path;
* drift between each importer's package.json and the lockfile (declared but not locked,
  locked but no longer declared, locked version outside the declared range).

Ranges are checked with node-semver in loose mode, as npm's arborist does; specs that are
not ranges (git, file:, link:, URLs, dist-tags such as ``latest``) are not checked.

Why this module is longer than ~400 lines: every problem kind is one small function over
the same edge index and path helpers; together they are the tree stage, which has no other
module.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from functools import lru_cache

from depaudit.fastsemver import fast_satisfies, is_fast_range, plain_release
from depaudit.models import (
    Dependency,
    DependencyTree,
    DepType,
    Importer,
    Package,
    ProblemKind,
    TreeProblem,
)
from depaudit.overrides import override_for
from depaudit.versions import version_or_none

#: paths kept per placement when listing every path that pulls a package in
MAX_PATHS = 20
#: dependents named in the detail of a deduped problem
MAX_DEPENDENTS = 10

_NOT_RANGE_PREFIXES = (
    "file:",
    "link:",
    "git+",
    "git:",
    "git@",
    "github:",
    "gitlab:",
    "bitbucket:",
    "gist:",
    "http:",
    "https:",
    "workspace:",
    "portal:",
    "patch:",
    "catalog:",
)


#: longer specs are not checked as ranges (real ones are a few dozen characters; a hostile
#: megabyte one cost node-semver seconds, and minutes under a memory tracer)
MAX_RANGE_LENGTH = 1024


def range_of(spec: str) -> str | None:
    """The semver range a spec asks for, or ``None`` when it is not a range npm checks."""
    if len(spec) > MAX_RANGE_LENGTH:
        return None  # and never a key of the cache: it would keep megabyte strings alive
    return _range_of(spec)


@lru_cache(maxsize=16384)  # pure; a big tree asks for the same ranges thousands of times
def _range_of(spec: str) -> str | None:
    """The semver range a spec asks for, or ``None`` when it is not a range npm checks."""
    spec = spec.strip()
    if len(spec) > MAX_RANGE_LENGTH:
        return None  # node-semver takes seconds per megabyte; no real range is this long
    if spec.startswith("npm:"):
        _, _, spec = spec[4:].lstrip("@").partition("@")
        spec = spec.strip() or "*"
    if not spec:
        return None
    if spec.startswith(_NOT_RANGE_PREFIXES) or spec.startswith(("./", "../", "/", "~/")):
        return None
    if "/" in spec and not any(c in spec for c in "<>=^~ |"):
        return None  # github shorthand user/repo
    if is_fast_range(spec):
        return spec
    import nodesemver  # only for the ranges of rarer shapes

    try:
        valid = nodesemver.valid_range(spec, loose=True)
    except Exception:  # node-semver raises assorted errors on odd input
        return None
    return spec if valid is not None else None


def satisfies(version: str, spec: str) -> bool | None:
    """npm's answer to "does ``version`` satisfy ``spec``"; ``None`` when it cannot say."""
    if len(spec) > MAX_RANGE_LENGTH or len(version) > MAX_RANGE_LENGTH:
        return None  # not cached: see range_of
    return _satisfies(version, spec)


@lru_cache(maxsize=65536)  # pure, and the same (version, range) edge recurs across a tree
def _satisfies(version: str, spec: str) -> bool | None:
    """npm's answer to "does ``version`` satisfy ``spec``"; ``None`` when it cannot say."""
    rng = range_of(spec)
    if rng is None:
        return None
    if rng.strip() in ("*", "x", "X"):
        return True  # arborist: '*' accepts any version, prereleases included
    fast = fast_satisfies(version, rng)
    if fast is not None:
        return fast
    if version_or_none(version) is None:
        return None  # not a version npm accepts (node-semver alone takes 1.2.3.4)
    import nodesemver

    try:
        return bool(nodesemver.satisfies(version, rng, loose=True))
    except Exception:
        return None


def _parent_info(parent: Importer | Package) -> tuple[str, tuple[str, ...]]:
    if isinstance(parent, Importer):
        if parent.is_root:
            return "the root project", ()
        return f"workspace {parent.name}", (parent.name,)
    return f"{parent.name}@{parent.version}", parent.path


def _edges(tree: DependencyTree) -> Iterable[tuple[Importer | Package, Dependency]]:
    """Every edge that npm installs: importers' all, packages' except dev ones."""
    for importer in tree.importers:
        for dep in importer.dependencies:
            yield importer, dep
    for pkg in tree.packages:
        for dep in pkg.dependencies:
            if dep.type is not DepType.DEV:
                yield pkg, dep


class _Ancestors:
    """For every placement, the (name, version) chain from the root to it along the first
    path a breadth-first walk from the importers finds (what npm's override sets follow).

    Kept as parent pointers (linear in the tree); a chain is spelled out only when asked for,
    which the override check does only for edges to a name some override rule names."""

    def __init__(self, tree: DependencyTree) -> None:
        # location -> (parent location or None, the importer's base chain when it is a start)
        self._up: dict[str, tuple[str | None, tuple[tuple[str, str | None], ...]]] = {}
        self._tree = tree
        queue: deque[tuple[str, str | None, tuple[tuple[str, str | None], ...]]] = deque()
        for importer in sorted(tree.importers, key=lambda i: not i.is_root):
            base: tuple[tuple[str, str | None], ...] = (
                () if importer.is_root else ((importer.name, importer.version),)
            )
            for dep in importer.dependencies:
                if dep.target is not None:
                    queue.append((dep.target, None, base))
        while queue:
            location, parent, base = queue.popleft()
            if location in self._up:
                continue
            pkg = tree.at(location)
            if pkg is None:
                continue
            self._up[location] = (parent, base)
            for dep in pkg.dependencies:
                target = dep.target
                if target is not None and target not in self._up and dep.type is not DepType.DEV:
                    queue.append((target, location, ()))

    def chain(self, location: str) -> tuple[tuple[str, str | None], ...] | None:
        """The chain ending at ``location``; ``None`` when no importer reaches it."""
        if location not in self._up:
            return None
        steps: list[tuple[str, str | None]] = []
        here: str | None = location
        base: tuple[tuple[str, str | None], ...] = ()
        while here is not None:
            pkg = self._tree.at(here)
            assert pkg is not None
            steps.append((pkg.name, pkg.version))
            here, base = self._up[here]
        steps.reverse()
        return (*base, *steps)


def edge_problems(tree: DependencyTree) -> list[TreeProblem]:
    """missing, invalid, peer-missing and peer-invalid from the edges."""
    skipped = {s.location for s in tree.skipped if s.location}
    chains = _Ancestors(tree) if tree.overrides else None
    overridden_names = {rule.name for rule in tree.overrides}
    problems = []
    for parent, dep in _edges(tree):
        peer = dep.type in (DepType.PEER, DepType.PEER_OPTIONAL)
        if dep.target is None:
            if dep.type in (DepType.OPTIONAL, DepType.PEER_OPTIONAL):
                continue
            if not dep.spec and not peer:
                continue  # the source knows no range: it reported what it saw itself
            if dep.unresolved:
                continue  # the source could not tell (and said so in a warning)
            label, prefix = _parent_info(parent)
            path = (*prefix, dep.name)
            problems.append(
                TreeProblem(
                    ProblemKind.PEER_MISSING if peer else ProblemKind.MISSING,
                    dep.name,
                    None,
                    path,
                    wanted=dep.spec or None,
                    detail=f"{'peer dependency ' if peer else ''}required by {label}, "
                    "nothing in the tree provides it",
                )
            )
            continue
        if dep.target in skipped:
            continue
        target = tree.at(dep.target)
        if target is None:
            continue  # a workspace or link: not a package placement
        wanted, overridden = dep.spec, ""
        if chains is not None and not peer and dep.name in overridden_names:
            above: tuple[tuple[str, str | None], ...]
            if isinstance(parent, Importer):
                above = () if parent.is_root else ((parent.name, parent.version),)
            else:
                above = chains.chain(parent.location) or ((parent.name, parent.version),)
            override = override_for(tree.overrides, above, dep.name, dep.spec)
            if override is not None:
                wanted, overridden = override, f' (overridden to "{override}")'
        ok = satisfies(target.version, wanted)
        if ok is False:
            label, prefix = _parent_info(parent)
            path = (*prefix, dep.name)
            problems.append(
                TreeProblem(
                    ProblemKind.PEER_INVALID if peer else ProblemKind.INVALID,
                    target.name,
                    target.version,
                    path,
                    wanted=wanted,
                    found=target.version,
                    detail=f'{label} wants "{dep.spec}"{overridden}, the tree has {target.version}',
                )
            )
    return problems


def deduped(tree: DependencyTree) -> list[TreeProblem]:
    """One problem per placement that several dependents share, naming the others."""
    dependents: dict[str, list[tuple[Importer | Package, Dependency]]] = {}
    for parent, dep in _edges(tree):
        if dep.target is None or tree.at(dep.target) is None:
            continue
        dependents.setdefault(dep.target, []).append((parent, dep))
    problems = []
    for location, users in dependents.items():
        # one entry per dependent (the last edge of each wins); paths are spelled out only
        # for the placements that are shared, so a deep chain costs no path per edge
        if len(users) < 2:
            continue
        # keyed as the label names the dependent (name@version, or the importer)
        distinct: dict[tuple[str, str | None], tuple[Importer | Package, Dependency]] = {}
        for parent, dep in users:
            who = (
                (parent.name, parent.version)
                if isinstance(parent, Package)
                else ("", parent.location)
            )
            distinct[who] = (parent, dep)
        if len(distinct) < 2:
            continue
        pkg = tree.at(location)
        assert pkg is not None
        entries = []
        for parent, dep in distinct.values():
            label, prefix = _parent_info(parent)
            entries.append(((*prefix, dep.name), label, dep.spec))
        others = sorted(e for e in entries if e[0] != pkg.path)
        if len(others) == len(distinct):
            others = others[1:]
        shown = [
            f"{' > '.join(path)}" + (f" ({spec})" if spec else "")
            for path, _, spec in others[:MAX_DEPENDENTS]
        ]
        if len(others) > MAX_DEPENDENTS:
            shown.append(f"and {len(others) - MAX_DEPENDENTS} more")
        problems.append(
            TreeProblem(
                ProblemKind.DEDUPED,
                pkg.name,
                pkg.version,
                pkg.path,
                found=pkg.version,
                detail=f"one copy shared by {len(distinct)} dependents; also required as "
                + ", ".join(shown),
            )
        )
    return problems


def all_paths(
    tree: DependencyTree, locations: Iterable[str] | None = None
) -> dict[str, tuple[list[tuple[str, ...]], int]]:
    """Paths from the root (or a workspace) to each placement in ``locations`` (every
    placement when ``None``): one per installed edge into it, the dependent's own shortest
    path (:attr:`Package.path`) followed by the edge, shortest first; the first
    :data:`MAX_PATHS` of them and the count of the rest. An edge from a dependent that the
    placement is itself on the way to (a cycle) is not a path; placements no edge from a
    reached dependent enters keep their own :attr:`Package.path`.

    Linear in the edges: no path is extended step by step, each is one dependent's path plus
    one name (npm ls shows a shared placement the same way: once under each dependent)."""
    wanted = set(locations) if locations is not None else {p.location for p in tree.packages}
    found: dict[str, set[tuple[str, ...]]] = {}
    for parent, dep in _edges(tree):
        target = dep.target
        if target is None or target not in wanted:
            continue
        pkg = tree.at(target)
        if pkg is None:
            continue
        if isinstance(parent, Package):
            if not parent.path:
                continue  # the dependent itself is not reached from an importer
            if pkg.path and parent.path[: len(pkg.path)] == pkg.path:
                continue  # the placement is on the dependent's own path: a cycle
        found.setdefault(target, set()).add((*_parent_info(parent)[1], dep.name))
    out: dict[str, tuple[list[tuple[str, ...]], int]] = {}
    for location in wanted:
        pkg = tree.at(location)
        if pkg is None:
            continue
        paths = found.get(location)
        if not paths:
            if pkg.path:
                out[location] = ([pkg.path], 0)
            continue
        ordered = sorted(paths, key=lambda x: (len(x), x))
        out[location] = (ordered[:MAX_PATHS], max(0, len(ordered) - MAX_PATHS))
    return out


def duplicate_versions(tree: DependencyTree) -> list[TreeProblem]:
    """One problem per name installed at several versions, naming every version and up to
    :data:`MAX_PATHS` paths to each (with the count of the rest)."""
    names = [n for n in sorted(tree.names()) if len({p.version for p in tree.placements(n)}) > 1]
    if not names:
        return []
    paths = all_paths(tree, (p.location for n in names for p in tree.placements(n)))
    problems = []
    for name in names:
        placements = tree.placements(name)
        versions = sorted({p.version for p in placements}, key=_version_key)
        first = min(placements, key=lambda p: (p.dev, len(p.path), p.path))
        parts = []
        for v in versions:
            where: set[tuple[str, ...]] = set()
            more = 0
            for p in tree.placements(name, v):
                kept, rest = paths.get(p.location, ([p.path], 0))
                where.update(kept)
                more += rest
            ordered = sorted(where, key=lambda x: (len(x), x))
            more += max(0, len(ordered) - MAX_PATHS)
            text = ", ".join(" > ".join(path) for path in ordered[:MAX_PATHS])
            if more:
                text += f" and {more} more"
            parts.append(f"{v} at {text}")
        problems.append(
            TreeProblem(
                kind=ProblemKind.DUPLICATE_VERSIONS,
                name=name,
                version=None,
                path=first.path,
                found=", ".join(versions),
                detail=f"{len(versions)} versions: " + "; ".join(parts),
            )
        )
    return problems


def _version_key(version: str) -> tuple[int, object]:
    release = plain_release(version)
    if release is not None:
        return (0, (*release, version))
    parsed = version_or_none(version)
    if parsed is None:
        return (1, version)
    return (0, (parsed.major, parsed.minor, parsed.patch, version))


def install_command(kind: str) -> str:
    """The command that rewrites the lockfile of a source ``kind`` (``SourceInfo.kind``)."""
    for prefix, command in (
        ("yarn", "yarn install"),
        ("pnpm", "pnpm install"),
        ("bun", "bun install"),
    ):
        if kind.startswith(prefix):
            return command
    return "npm install"


_PEERS = (DepType.PEER, DepType.PEER_OPTIONAL)


def drift(tree: DependencyTree) -> list[TreeProblem]:
    """package.json <-> lockfile drift, per importer whose package.json was read, except
    the importers whose drift the source already reported (:attr:`DependencyTree.drift_reported`).

    A declared peer dependency may be locked (pnpm's ``autoInstallPeers``, npm 7+) or not
    (yarn, pnpm without it): it is never ``declared-not-locked``, nor, when locked,
    ``locked-not-declared``; its range is still checked."""
    problems = []
    run = f"(run {install_command(tree.source.kind)})"
    reported = set(tree.drift_reported.importers) if tree.drift_reported is not None else set()
    for importer in tree.importers:
        if importer.declared is None or importer.location in reported:
            continue
        _, prefix = _parent_info(importer)
        manifest = importer.manifest_path or (
            "package.json" if importer.is_root else f"{importer.location}/package.json"
        )
        locked = {d.name: d for d in importer.dependencies}
        declared = {d.name: d for d in importer.declared}
        for name in sorted(set(declared) - set(locked)):
            if declared[name].type in _PEERS:
                continue
            spec = declared[name].spec
            problems.append(
                TreeProblem(
                    ProblemKind.DECLARED_NOT_LOCKED,
                    name,
                    None,
                    (*prefix, name),
                    wanted=spec,
                    detail=f"{manifest} declares {name}@{spec} but the lockfile does not {run}",
                )
            )
        for name in sorted(set(locked) - set(declared)):
            target = _target(tree, locked[name])
            problems.append(
                TreeProblem(
                    ProblemKind.LOCKED_NOT_DECLARED,
                    name,
                    target.version if target else None,
                    (*prefix, name),
                    found=target.version if target else None,
                    detail=f"the lockfile still has {name}, {manifest} no longer declares it {run}",
                )
            )
        above: tuple[tuple[str, str | None], ...] = (
            () if importer.is_root else ((importer.name, importer.version),)
        )
        for name in sorted(set(locked) & set(declared)):
            spec = declared[name].spec
            target = _target(tree, locked[name])
            if target is None:
                continue
            # an override of a direct dependency (pnpm's and yarn's apply there too)
            override = override_for(tree.overrides, above, name, spec) if tree.overrides else None
            wanted = override or spec
            if satisfies(target.version, wanted) is not False:
                continue
            said = f' (overridden to "{override}")' if override else ""
            problems.append(
                TreeProblem(
                    ProblemKind.LOCKED_OUT_OF_RANGE,
                    name,
                    target.version,
                    (*prefix, name),
                    wanted=wanted,
                    found=target.version,
                    detail=f"{manifest} wants {spec}{said}, the lockfile has {target.version} "
                    f"{run}",
                )
            )
    return problems


def _target(tree: DependencyTree, dep: Dependency) -> Package | None:
    return tree.at(dep.target) if dep.target else None


_SUPERSEDES = {
    ProblemKind.PEER_MISSING: ProblemKind.MISSING,
    ProblemKind.PEER_INVALID: ProblemKind.INVALID,
}


def extraneous(tree: DependencyTree) -> list[TreeProblem]:
    """Every placement the source flags extraneous (package-lock's ``"extraneous": true``, as
    ``npm ls --package-lock-only`` reports it); npm ls's own reports are the same problem."""
    reported = {
        (r.name, r.version) for r in tree.reported_problems if r.kind is ProblemKind.EXTRANEOUS
    }
    return [
        TreeProblem(
            ProblemKind.EXTRANEOUS,
            p.name,
            p.version,
            p.path,
            found=p.version,
            detail=f"the lockfile has {p.location or p.name}, but no package.json asks for it",
        )
        for p in tree.packages
        if p.extraneous and (p.name, p.version) not in reported
    ]


def find_problems(tree: DependencyTree) -> list[TreeProblem]:
    problems = list(tree.reported_problems)
    problems.extend(extraneous(tree))
    problems.extend(edge_problems(tree))
    problems.extend(deduped(tree))
    problems.extend(duplicate_versions(tree))
    problems.extend(drift(tree))
    unique: dict[tuple[ProblemKind, str, tuple[str, ...]], TreeProblem] = {}
    for p in problems:
        unique.setdefault((p.kind, p.name, p.path), p)
    for (kind, name, path), _ in list(unique.items()):
        weaker = _SUPERSEDES.get(kind)
        if weaker is not None:
            unique.pop((weaker, name, path), None)
    return sorted(unique.values(), key=TreeProblem.sort_key)
