"""The seam every report format plugs into."""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from depaudit.text import valid_unicode

if TYPE_CHECKING:  # the CLI's options import FormatName; the model is not needed for that
    from depaudit.models import Report


class FormatName(StrEnum):
    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"
    SARIF = "sarif"


class ReportFormat(ABC):
    name: ClassVar[FormatName]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every format's ``render`` returns valid Unicode: a lone surrogate from an input
        (``"\\ud800"`` in a JSON file) becomes U+FFFD instead of failing every encoder."""
        super().__init_subclass__(**kwargs)
        render = cls.__dict__.get("render")
        if render is None or getattr(render, "_valid_unicode", False):
            return

        @functools.wraps(render)
        def checked(self: ReportFormat, report: Report) -> str:
            return valid_unicode(render(self, report))

        checked._valid_unicode = True  # type: ignore[attr-defined]
        cls.render = checked  # type: ignore[method-assign]

    @abstractmethod
    def render(self, report: Report) -> str:
        """The whole report as text (stdout or --output)."""

    def render_chunks(self, report: Report) -> Iterable[str]:
        """The report's text in pieces, written one at a time (``output.emit``): what
        ``render`` gives, never held whole where a format streams it (JSON)."""
        return (self.render(report),)
