"""Orchestration: tree -> problems -> facts -> suspects -> Report. No I/O of its own."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from depaudit import __version__
from depaudit.models import DependencyTree, PackageFacts, Report, Suspect, TreeProblem
from depaudit.services.interface import EnrichmentService, PackageRef
from depaudit.tree import find_problems

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

    def run(self) -> Report:
        problems = tuple(find_problems(self.tree))
        refs = package_refs(self.tree)
        facts: dict[str, PackageFacts] = {}
        warnings = list(self.tree.warnings)
        consulted: list[str] = []
        for service in self.services:
            result = service.enrich_all(refs)
            for key, found in result.facts.items():
                facts[key] = facts[key].merge(found) if key in facts else found
            warnings.extend(result.warnings)
            if result.consulted:
                consulted.append(result.consulted)
        suspects = tuple(self.scorer(self.tree, problems, facts)) if self.scorer else ()
        return Report(
            tool_version=__version__,
            generated_at=self.clock(),
            tree=self.tree,
            problems=problems,
            facts=facts,
            suspects=suspects,
            warnings=tuple(warnings),
            consulted=tuple(consulted),
            offline=self.offline,
        )
