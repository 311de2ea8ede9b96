"""Measured heap growth (``scan --heap``) as facts: the ``growth`` of each grown package's
``name@version``, which the ``runtime-growth`` rule scores. The attribution itself is
``depaudit.heap``'s; this service only hands its package owners to the pipeline."""

from __future__ import annotations

from collections.abc import Sequence

from depaudit.models import MeasuredGrowth, PackageFacts
from depaudit.services.interface import EnrichmentResult, EnrichmentService, PackageRef


class HeapGrowthService(EnrichmentService):
    """The measured growth of each package placement as a fact of its ``name@version``
    (snapshots win over a profile; several placements of one version add up)."""

    name = "heap"

    def __init__(self, owners: Sequence[MeasuredGrowth], warnings: Sequence[str] = ()) -> None:
        self.owners = owners
        self.warnings = tuple(warnings)

    def enrich_all(self, packages: Sequence[PackageRef]) -> EnrichmentResult:
        wanted = {p.key for p in packages}
        by_key: dict[str, MeasuredGrowth] = {}
        unmatched: list[str] = []
        for owner in self.owners:
            if owner.kind != "package":
                continue
            key = f"{owner.name}@{owner.version}"
            if owner.version is None or key not in wanted:
                unmatched.append(owner.label)
                continue
            if key not in by_key or by_key[key].source == "heap profile":
                by_key[key] = owner
        facts = {
            key: PackageFacts(name=o.name, version=o.version or "", growth=o)
            for key, o in by_key.items()
        }
        warnings = self.warnings + tuple(
            f"measured heap growth of {label} matches no package of the tree" for label in unmatched
        )
        sources = sorted({o.source for o in self.owners}) or ["heap"]
        consulted = f"{' and '.join(sources)}: {len(self.owners)} owners of growth"
        return EnrichmentResult(facts=facts, warnings=warnings, consulted=consulted)
