"""Every report format by name. Only the one asked for is imported (start-up time: the table
format alone pulls in tabulate and importlib.metadata)."""

from __future__ import annotations

from importlib import import_module

from depaudit.formats.interface import FormatName, ReportFormat

__all__ = ["FormatName", "get_format"]

#: format name -> (module, class)
_FORMATS: dict[str, tuple[str, str]] = {
    FormatName.TABLE: ("depaudit.formats.table", "TableFormat"),
    FormatName.JSON: ("depaudit.formats.json", "JsonFormat"),
    FormatName.MARKDOWN: ("depaudit.formats.markdown", "MarkdownFormat"),
    FormatName.SARIF: ("depaudit.formats.sarif", "SarifFormat"),
}


def get_format(name: str) -> ReportFormat:
    module, cls = _FORMATS[name]
    format_class: type[ReportFormat] = getattr(import_module(module), cls)
    return format_class()
