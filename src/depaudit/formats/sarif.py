"""SARIF 2.1.0 for code scanning: one rule per signal kind, one result per package and signal
kind, located at the package's entry in the lockfile, with stable fingerprints from
``rule:lockfile:name@version``.

The lines come with the tree (``DependencyTree.lines``, found by the input stage:
:mod:`depaudit.sources.lines`); this module reads no file. A tree without them (stdin, or
loaded without asking for lines) points every result at line 1."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from depaudit import digests
from depaudit.formats.interface import FormatName, ReportFormat
from depaudit.models import Report, Signal, SourceLine, Suspect, Tier
from depaudit.scoring.rules import RULES
from depaudit.text import json_text_safe, terminal_safe

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "depaudit/v1"
LEVELS = {Tier.HIGH: "error", Tier.MEDIUM: "warning", Tier.LOW: "note"}


def _camel(rule_id: str) -> str:
    return "".join(part.capitalize() for part in rule_id.split("-"))


def artifact_uri(path: str) -> str:
    """The lockfile as a URI relative to the working directory when it is inside it."""
    if path in ("", "-"):
        return "package.json"
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            candidate = candidate.resolve().relative_to(Path.cwd().resolve())
        except (ValueError, OSError):
            candidate = Path(candidate.name)
    posix = PurePosixPath(*candidate.parts).as_posix() if candidate.parts else "package.json"
    return quote(posix, safe="/@+-._~")


def fingerprint(rule: str, lockfile: str, suspect: Suspect) -> str:
    text = f"{rule}:{lockfile}:{suspect.name}@{suspect.version}"
    return digests.sha256(text.encode("utf-8")).hexdigest()


def _rules(severities: Mapping[str, str]) -> list[dict[str, Any]]:
    """One SARIF rule per scoring rule; ``security-severity`` as the report's weights say
    (left out when the report was not scored with weights)."""
    return [
        {
            "id": rule.id,
            "name": _camel(rule.id),
            "shortDescription": {"text": rule.title},
            "fullDescription": {"text": rule.description},
            "help": {"text": rule.description},
            "defaultConfiguration": {"level": "warning"},
            "properties": {
                "tags": ["security", "memory-leak", "dependency"],
                "precision": "medium",
                **({"security-severity": severities[rule.id]} if rule.id in severities else {}),
            },
        }
        for rule in RULES
    ]


def _message(suspect: Suspect, signals: Sequence[Signal]) -> str:
    reasons = "; ".join(terminal_safe(s.evidence) for s in signals)
    via = " > ".join(suspect.paths[0]) if suspect.paths else suspect.name
    dev = ", dev-only" if suspect.dev else ""
    runtime = suspect.runtime
    at_runtime = (
        f" At runtime: {runtime.status.value} ({terminal_safe(runtime.reason)})."
        if runtime is not None
        else ""
    )
    return (
        f"{terminal_safe(suspect.name)}@{terminal_safe(suspect.version)} is a {suspect.tier.value} "
        f"leak suspect (score {suspect.score:g}{dev}): {reasons}. Pulled in by "
        f"{terminal_safe(via)}.{at_runtime}"
    )


def report_to_sarif(report: Report) -> dict[str, Any]:
    lockfile = report.tree.source.path
    uri = artifact_uri(lockfile)
    lines = report.tree.lines
    results = []
    for suspect in report.suspects:
        placements = report.tree.placements(suspect.name, suspect.version)
        first = min(placements, key=lambda p: (p.dev, len(p.path), p.location), default=None)
        at = lines.of(first.location if first else None) if lines else SourceLine(1, 0)
        line, width = at.number, at.width
        by_rule: dict[str, list[Signal]] = {}
        for signal in suspect.signals:
            by_rule.setdefault(signal.rule, []).append(signal)
        for rule, signals in sorted(by_rule.items()):
            url = next((s.url for s in signals if s.url), None)
            result: dict[str, Any] = {
                "ruleId": rule,
                "level": LEVELS[suspect.tier],
                "message": {"text": _message(suspect, signals)},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": uri},
                            "region": {
                                "startLine": line,
                                "startColumn": 1,
                                "endLine": line,
                                "endColumn": max(width, 1) + 1,
                            },
                        },
                        "logicalLocations": [
                            {
                                "name": f"{suspect.name}@{suspect.version}",
                                "kind": "package",
                            }
                        ],
                    }
                ],
                "partialFingerprints": {FINGERPRINT_KEY: fingerprint(rule, uri, suspect)},
                "properties": {
                    "score": suspect.score,
                    "tier": suspect.tier.value,
                    "points": round(sum(s.points for s in signals), 1),
                    "dev": suspect.dev,
                    "paths": [list(p) for p in suspect.paths],
                    "runtime": suspect.runtime.status.value if suspect.runtime else None,
                },
            }
            if url:
                result["properties"]["reference"] = url
            results.append(result)
    rules = _rules(report.severities)
    if report.findings:
        from depaudit.code.render import sarif_results, sarif_rules

        rules += sarif_rules()
        results += sarif_results(report.code_root or ".", report.findings)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "depaudit",
                "semanticVersion": report.tool_version,
                "rules": rules,
            }
        },
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {
            "warnings": list(report.warnings),
            "ignored": list(report.ignored),
            "consulted": list(report.consulted),
            "offline": report.offline,
        },
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


class SarifFormat(ReportFormat):
    name = FormatName.SARIF

    def render(self, report: Report) -> str:
        text = json.dumps(report_to_sarif(report), indent=2, ensure_ascii=False)
        return json_text_safe(text) + "\n"
