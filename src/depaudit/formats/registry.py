"""Every report format by name. Each is imported only when asked for (start-up time)."""

from __future__ import annotations

from depaudit.formats.interface import FormatName, ReportFormat

__all__ = ["FormatName", "get_format"]


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
