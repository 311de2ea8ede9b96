"""Progress on stderr when it is a terminal (rich); silent otherwise (CI, pipes, tests)."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any, TextIO


class Progress:
    """``with Progress("registry", total) as p: p.advance(cached=False)``."""

    def __init__(
        self, label: str, total: int, stream: TextIO | None = None, enabled: bool | None = None
    ) -> None:
        self.label = label
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled and total > 0
        self.done = 0
        self.cached = 0
        self._rich: Any = None
        self._task: Any = None

    def _description(self) -> str:
        return f"{self.label}: {self.done}/{self.total} ({self.cached} cached)"

    def __enter__(self) -> Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            self._rich = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                TimeElapsedColumn(),
                console=Console(file=self.stream),
                transient=True,
            )
            self._rich.__enter__()
            self._task = self._rich.add_task(self._description(), total=self.total)
        return self

    def advance(self, cached: bool = False, count: int = 1) -> None:
        self.done += count
        if cached:
            self.cached += count
        if self._rich is not None:
            self._rich.update(self._task, completed=self.done, description=self._description())

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._rich is not None:
            self._rich.__exit__(exc_type, exc, tb)
            self._rich = None
