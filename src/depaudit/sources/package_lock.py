"""package-lock.json (v1, v2, v3) and npm-shrinkwrap.json. (Being written.)"""

from __future__ import annotations

from pathlib import Path

from depaudit.errors import InputError
from depaudit.models import DependencyTree
from depaudit.sources.interface import DependencySource


class PackageLockSource(DependencySource):
    kind = "package-lock"
    filenames = ("npm-shrinkwrap.json", "package-lock.json")

    def load(self, path: Path) -> DependencyTree:
        raise InputError(path, "package-lock reading is not implemented yet")
