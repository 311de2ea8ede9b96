"""The seam every report format plugs into."""

from __future__ import annotations

from abc import ABC, abstractmethod
from enum import StrEnum
from typing import ClassVar

from depaudit.models import Report


class FormatName(StrEnum):
    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"
    SARIF = "sarif"


class ReportFormat(ABC):
    name: ClassVar[FormatName]

    @abstractmethod
    def render(self, report: Report) -> str:
        """The whole report as text (stdout or --output)."""


def get_format(name: str) -> ReportFormat:
    from depaudit.formats.json import JsonFormat
    from depaudit.formats.markdown import MarkdownFormat
    from depaudit.formats.sarif import SarifFormat
    from depaudit.formats.table import TableFormat

    formats: dict[str, type[ReportFormat]] = {
        FormatName.TABLE: TableFormat,
        FormatName.JSON: JsonFormat,
        FormatName.MARKDOWN: MarkdownFormat,
        FormatName.SARIF: SarifFormat,
    }
    return formats[name]()
