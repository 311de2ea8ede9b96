"""Measured heap growth in ``depaudit scan`` (``--heap A --heap B``, ``--heap-profile F``).

The snapshots (or the profile) are attributed as ``depaudit heap`` does, with DIR as the
project; ``depaudit.services.heap_growth`` turns each package owner into the ``growth`` fact of
its ``name@version`` (the ``runtime-growth`` rule scores it) and every owner, app lines
included, is listed in the report's measured growth.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from depaudit.errors import UsageError
from depaudit.models import MeasuredGrowth


def measure(
    snapshots: Sequence[Path], profile: Path | None, directory: Path
) -> tuple[tuple[MeasuredGrowth, ...], tuple[str, ...]]:
    """Owners of measured growth above the noise floor, biggest first, and warnings."""
    from depaudit.heap.analysis import HeapResult

    results: list[HeapResult] = []
    if snapshots:
        if len(snapshots) < 2:
            raise UsageError(
                "--heap needs two or more snapshots of one process, oldest first",
                "repeat --heap: --heap before.heapsnapshot --heap after.heapsnapshot",
            )
        from depaudit.heap.analysis import analyze
        from depaudit.heap.snapshot import stderr_progress

        results.append(analyze(list(snapshots), directory, progress=stderr_progress))
    if profile is not None:
        from depaudit.heap.profile import analyze_profile

        results.append(analyze_profile(profile, directory, 64 * 1024))
    owners: list[MeasuredGrowth] = []
    warnings: list[str] = []
    for result in results:
        count = len(result.snapshots)
        source = "heap profile" if result.mode == "profile" else f"{count} heap snapshots"
        warnings.extend(result.warnings)
        owners.extend(
            MeasuredGrowth(
                kind=o.kind,
                name=o.name,
                version=o.version,
                path=o.path,
                file=o.file,
                line=o.line,
                growth_bytes=o.growth_bytes,
                retained_bytes=o.retained_bytes,
                growth_objects=o.growth_objects,
                constructor=o.constructor,
                retainer_path=o.retainer_path,
                source=source,
            )
            for o in result.owners
        )
    return tuple(owners), tuple(warnings)
