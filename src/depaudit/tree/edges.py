"""Problems of single edges: missing, invalid, peer-missing, peer-invalid (with the root's
overrides applied), and the placements a source flags extraneous."""

from __future__ import annotations

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
from depaudit.text import TEXT_SHOWN, shown
from depaudit.tree.satisfies import satisfies
from depaudit.tree.walk import Ancestors, installed_edges, parent_info


def edge_problems(tree: DependencyTree) -> list[TreeProblem]:
    """missing, invalid, peer-missing and peer-invalid from the edges."""
    skipped = {s.location for s in tree.skipped if s.location}
    wanted_of = _Overrides(tree)
    problems = []
    for parent, dep in installed_edges(tree):
        if dep.target is None:
            problem = _missing(parent, dep)
        elif dep.target in skipped:
            continue
        else:
            problem = _invalid(tree, parent, dep, wanted_of)
        if problem is not None:
            problems.append(problem)
    return problems


def _is_peer(dep: Dependency) -> bool:
    return dep.type in (DepType.PEER, DepType.PEER_OPTIONAL)


def _missing(parent: Importer | Package, dep: Dependency) -> TreeProblem | None:
    """An edge that resolves to nothing, unless optional or the source could not tell."""
    peer = _is_peer(dep)
    if dep.type in (DepType.OPTIONAL, DepType.PEER_OPTIONAL):
        return None
    if not dep.spec and not peer:
        return None  # the source knows no range: it reported what it saw itself
    if dep.unresolved:
        return None  # the source could not tell (and said so in a warning)
    label, prefix = parent_info(parent)
    return TreeProblem(
        ProblemKind.PEER_MISSING if peer else ProblemKind.MISSING,
        dep.name,
        None,
        (*prefix, dep.name),
        wanted=dep.spec or None,
        # the dependent's name is cut in the prose (it repeats in every problem of its edges:
        # a 1 MB workspace name with 41 missing dependencies made a 43 MB JSON report)
        detail=f"{'peer dependency ' if peer else ''}required by {shown(label)}, "
        "nothing in the tree provides it",
    )


class _Overrides:
    """The range an edge must satisfy once the root's overrides are applied."""

    def __init__(self, tree: DependencyTree) -> None:
        self.rules = tree.overrides
        self.chains = Ancestors(tree) if tree.overrides else None
        self.names = {rule.name for rule in tree.overrides}

    def wanted(self, parent: Importer | Package, dep: Dependency) -> tuple[str, str]:
        """(the range, the note that says it was overridden or "")."""
        if self.chains is None or _is_peer(dep) or dep.name not in self.names:
            return dep.spec, ""
        above: tuple[tuple[str, str | None], ...]
        if isinstance(parent, Importer):
            above = () if parent.is_root else ((parent.name, parent.version),)
        else:
            above = self.chains.chain(parent.location) or ((parent.name, parent.version),)
        override = override_for(self.rules, above, dep.name, dep.spec)
        if override is None:
            return dep.spec, ""
        return override, f' (overridden to "{override}")'


def _invalid(
    tree: DependencyTree, parent: Importer | Package, dep: Dependency, overrides: _Overrides
) -> TreeProblem | None:
    """An edge to a placement whose version does not satisfy the (overridden) range."""
    assert dep.target is not None
    target = tree.at(dep.target)
    if target is None:
        return None  # a workspace or link: not a package placement
    wanted, overridden = overrides.wanted(parent, dep)
    if satisfies(target.version, wanted) is not False:
        return None
    label, prefix = parent_info(parent)
    return TreeProblem(
        ProblemKind.PEER_INVALID if _is_peer(dep) else ProblemKind.INVALID,
        target.name,
        target.version,
        (*prefix, dep.name),
        wanted=wanted,
        found=target.version,
        detail=f'{label} wants "{dep.spec}"{overridden}, the tree has {target.version}',
    )


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
            detail=f"the lockfile has {shown(p.location or p.name, TEXT_SHOWN)}, "
            "but no package.json asks for it",
        )
        for p in tree.packages
        if p.extraneous and (p.name, p.version) not in reported
    ]
