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
