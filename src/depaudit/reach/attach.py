"""Reachability in a scan: analyse the project folder of the tree and attach the statuses.

The project folder is the lockfile's folder (``--lockfile``) or the scanned folder. Without a
package.json there, nothing is analysed and every status stays unknown. Import facts are kept
in depaudit's cache (namespace ``reach``, one entry per project) by path, mtime and size.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from depaudit.cache import Cache
from depaudit.models import DependencyTree
from depaudit.reach.analysis import Reachability, analyse
from depaudit.reach.imports import FactCache

NAMESPACE = "reach"


def project_root(directory: Path, lockfile: Path | None) -> Path | None:
    root = lockfile.parent if lockfile is not None else directory
    root = root if str(root) else Path(".")
    return root if (root / "package.json").is_file() else None


def attach_runtime(
    tree: DependencyTree,
    root: Path | None,
    entries: Sequence[str] = (),
    cache: Cache | None = None,
) -> tuple[DependencyTree, Reachability | None, list[str]]:
    """``tree`` with :attr:`DependencyTree.runtime` filled, the analysis, and warnings."""
    if root is None or not tree.packages:
        return tree, None, []
    key = os.path.realpath(root)
    facts = FactCache()
    if cache is not None:
        stored = cache.get(NAMESPACE, key)
        if stored is not None:
            facts = FactCache.load(stored.value)
    result = analyse(tree, root, entries, facts)
    if cache is not None and facts.changed:
        cache.set(NAMESPACE, key, facts.dump())
    warnings: list[str] = []
    if not result.entries:
        warnings.append(
            "runtime reachability: no entry point found (package.json main, exports, bin, "
            "scripts.start); give --entry FILE or entry = [...] in .depaudit.toml: runtime "
            "statuses are unknown" + ("; " + "; ".join(result.notes[:3]) if result.notes else "")
        )
    return tree.evolve(runtime=result.placements), result, warnings
