"""Orchestration: tree -> problems -> (facts -> suspects) -> Report. No I/O of its own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from depaudit import __version__
from depaudit.models import DependencyTree, Report
from depaudit.tree import find_problems


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Auditor:
    tree: DependencyTree
    clock: Callable[[], datetime] = field(default=utc_now)

    def run(self) -> Report:
        problems = tuple(find_problems(self.tree))
        return Report(
            tool_version=__version__,
            generated_at=self.clock(),
            tree=self.tree,
            problems=problems,
            warnings=self.tree.warnings,
        )
