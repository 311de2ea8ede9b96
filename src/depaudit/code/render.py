"""``depaudit code`` findings as a table, JSON, markdown or SARIF (results at file and line).

The same functions render the findings section of ``depaudit scan``'s reports."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from depaudit import __version__, digests
from depaudit.code.model import RULES, CodeReport, Finding, finding_to_dict
from depaudit.text import json_text_safe, terminal_safe

SARIF_LEVELS = {"high": "error", "medium": "warning", "low": "note"}
FINGERPRINT_KEY = "depaudit-code/v1"


def summary_line(report: CodeReport) -> str:
    by_rule = ", ".join(f"{count} {rule}" for rule, count in report.by_rule.items())
    extra = []
    if report.suppressed:
        extra.append(f"{report.suppressed} suppressed")
    if report.skipped:
        extra.append(f"{len(report.skipped)} files skipped")
    if report.cached:
        extra.append(f"{report.cached} from cache")
    tail = f" ({'; '.join(extra)})" if extra else ""
    found = f"{len(report.findings)} findings" + (f": {by_rule}" if by_rule else "")
    return f"{report.root}: {report.files} files, {found}{tail}"


def _cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def render_table(findings: Sequence[Finding]) -> str:
    if not findings:
        return "no leak patterns found in the app's code\n"
    from tabulate import tabulate

    rows = [
        [
            f.rule,
            terminal_safe(f"{f.file}:{f.line}:{f.column}"),
            terminal_safe(f.package or ""),
            terminal_safe(f.message),
        ]
        for f in findings
    ]
    return (
        tabulate(
            rows,
            headers=["rule", "where", "package", "finding"],
            maxcolwidths=[None, None, None, 90],
        )
        + "\n"
    )


def findings_json(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    return [finding_to_dict(f) for f in findings]


def report_json(report: CodeReport) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "tool": {"name": "depaudit", "version": __version__},
        "root": report.root,
        "summary": {
            "files": report.files,
            "findings": len(report.findings),
            "by_rule": report.by_rule,
            "suppressed": report.suppressed,
            "skipped": len(report.skipped),
            "cached": report.cached,
        },
        "findings": findings_json(report.findings),
        "skipped": [{"file": s.file, "reason": s.reason} for s in report.skipped],
        "warnings": list(report.warnings),
    }


def _md_escape(value: str) -> str:
    from depaudit.formats.md_text import escape

    return escape(terminal_safe(value))


def markdown_rows(findings: Sequence[Finding], limit: int = 100) -> list[str]:
    lines = ["| rule | where | package | finding |", "|---|---|---|---|"]
    for f in findings[:limit]:
        where = _md_escape(f"{f.file}:{f.line}")
        lines.append(
            f"| {f.rule} | {where} | {_md_escape(f.package or '')} | "
            f"{_md_escape(_cut(f.message, 300))} |"
        )
    if len(findings) > limit:
        lines.append(f"| … | {len(findings) - limit} more | | |")
    return lines


def render_markdown(report: CodeReport) -> str:
    lines = ["## depaudit code: leak patterns in the app's code", ""]
    lines.append(_md_escape(summary_line(report)))
    lines.append("")
    if report.findings:
        lines.extend(markdown_rows(report.findings))
    else:
        lines.append("No leak pattern found.")
    lines.extend(f"> warning: {_md_escape(w[:500])}" for w in report.warnings[:20])
    return "\n".join(lines) + "\n"


def artifact_uri(root: str, relative: str) -> str:
    """The file as a URI relative to the working directory when it is inside it."""
    path = Path(root) / relative if Path(root).is_dir() else Path(root)
    try:
        path = path.resolve().relative_to(Path.cwd().resolve())
    except (ValueError, OSError):
        path = Path(relative)
    posix = PurePosixPath(*path.parts).as_posix() if path.parts else relative
    return quote(posix, safe="/@+-._~")


def sarif_rules() -> list[dict[str, Any]]:
    return [
        {
            "id": rule.id,
            "name": "".join(part.capitalize() for part in rule.id.split("-")),
            "shortDescription": {"text": rule.title},
            "fullDescription": {"text": rule.description},
            "help": {"text": rule.description},
            "defaultConfiguration": {"level": SARIF_LEVELS[rule.tier.value]},
            "properties": {"tags": ["memory-leak", "resource-leak"], "precision": "high"},
        }
        for rule in RULES
    ]


def sarif_results(root: str, findings: Sequence[Finding]) -> list[dict[str, Any]]:
    results = []
    for f in findings:
        uri = artifact_uri(root, f.file)
        fingerprint = digests.sha256(
            f"{f.rule}:{uri}:{f.message}".encode("utf-8", "replace")
        ).hexdigest()
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "level": SARIF_LEVELS[f.tier.value],
            "message": {"text": terminal_safe(f.message)},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri},
                        "region": {"startLine": f.line, "startColumn": f.column},
                    }
                }
            ],
            "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
            "properties": {"evidence": [terminal_safe(e) for e in f.evidence]},
        }
        if f.package:
            result["properties"]["package"] = f.package
        results.append(result)
    return results


def render_sarif(report: CodeReport) -> str:
    run = {
        "tool": {
            "driver": {
                "name": "depaudit",
                "semanticVersion": __version__,
                "rules": sarif_rules(),
            }
        },
        "results": sarif_results(report.root, report.findings),
        "columnKind": "unicodeCodePoints",
        "properties": {"warnings": list(report.warnings), "files": report.files},
    }
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    }
    return json_text_safe(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"


def render(report: CodeReport, fmt: str) -> str:
    if fmt == "json":
        return json_text_safe(json.dumps(report_json(report), indent=2, ensure_ascii=False)) + "\n"
    if fmt == "markdown":
        return render_markdown(report)
    if fmt == "sarif":
        return render_sarif(report)
    return render_table(report.findings)
