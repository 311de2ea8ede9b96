"""The seam every input format plugs into."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from depaudit.budget import Budget
from depaudit.models import DependencyTree


class DependencySource(ABC):
    """Reads one input format into a :class:`DependencyTree`.

    Parsers are total and honest: odd entries become ``SkippedPackage`` with a reason; a
    broken file raises ``InputError`` naming the file. They never raise anything else.
    """

    #: short name used in reports (``SourceInfo.kind``)
    kind: ClassVar[str]
    #: file names this source reads when found in a project folder, in priority order
    filenames: ClassVar[tuple[str, ...]] = ()

    def __init__(self, budget: Budget | None = None) -> None:
        #: the run's resource budget (Settings.budget): how much of the input is read
        self.budget = budget if budget is not None else Budget()

    @abstractmethod
    def load(self, path: Path) -> DependencyTree:
        """Read ``path``; raise ``InputError`` when it cannot be read."""
