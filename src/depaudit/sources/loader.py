"""Turn Settings into a DependencyTree: pick the input, read it."""

from __future__ import annotations

from pathlib import Path

from depaudit.config import Settings
from depaudit.models import DependencyTree
from depaudit.sources import detect, source_for


def load_tree(settings: Settings) -> DependencyTree:
    if settings.lockfile is not None:
        return source_for(settings.lockfile).load(settings.lockfile)
    found = detect(Path(settings.directory))
    return source_for(found.lockfile).load(found.lockfile)
