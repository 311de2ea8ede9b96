"""Drift between each importer's package.json and the lockfile: declared but not locked,
locked but no longer declared, locked version outside the declared range. Importers whose
drift the source already reported (:attr:`DependencyTree.drift_reported`) are not compared
again."""

from __future__ import annotations

from depaudit.models import Dependency, DependencyTree, DepType, Package, ProblemKind, TreeProblem
from depaudit.overrides import override_for
from depaudit.text import TEXT_SHOWN, VERSION_SHOWN, shown
from depaudit.tree.satisfies import satisfies
from depaudit.tree.walk import parent_info


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
        _, prefix = parent_info(importer)
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
                    detail=f"{shown(manifest, TEXT_SHOWN)} declares {shown(name)}@"
                    f"{shown(spec, VERSION_SHOWN)} but the lockfile does not {run}",
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
                    detail=f"the lockfile still has {shown(name)}, {shown(manifest, TEXT_SHOWN)} "
                    f"no longer declares it {run}",
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
                    detail=f"{shown(manifest, TEXT_SHOWN)} wants {shown(spec, VERSION_SHOWN)}"
                    f"{said}, the lockfile has {shown(target.version, VERSION_SHOWN)} {run}",
                )
            )
    return problems


def _target(tree: DependencyTree, dep: Dependency) -> Package | None:
    return tree.at(dep.target) if dep.target else None
