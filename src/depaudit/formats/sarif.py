"""SARIF 2.1.0 for code scanning: one rule per signal kind, one result per package and signal
kind, located at the package's entry in the lockfile, with stable fingerprints from
``rule:lockfile:name@version``."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from depaudit.formats.interface import FormatName, ReportFormat
from depaudit.models import Package, Report, Signal, Suspect, Tier
from depaudit.scoring.rules import RULES, Weights
from depaudit.text import json_text_safe, terminal_safe

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "depaudit/v1"
LEVELS = {Tier.HIGH: "error", Tier.MEDIUM: "warning", Tier.LOW: "note"}
MAX_LOCKFILE_BYTES = 256 * 1024 * 1024


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


def _read_lines(path: str) -> list[str]:
    if path in ("", "-"):
        return []
    try:
        file = Path(path)
        if not file.is_file() or file.stat().st_size > MAX_LOCKFILE_BYTES:
            return []
        return file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def _candidates(pkg: Package) -> list[re.Pattern[str]]:
    name = re.escape(pkg.installed_as)
    real = re.escape(pkg.name)
    version = re.escape(pkg.version)
    location = re.escape(pkg.location)
    return [
        # package-lock v2/v3 and shrinkwrap: the `packages` key
        re.compile(rf'^\s*"{location}"\s*:\s*\{{'),
        # pnpm: `/name@version:`, `name@version:`, `'/name@version(peer)':`, `/name/version:`
        re.compile(rf"^\s*['\"]?/?{real}[@/]{version}(?:\(|_|['\":])"),
        # yarn classic and berry: `name@range, name@range:` headers
        re.compile(rf'^"?{name}@'),
        # package-lock v1 `dependencies` tree
        re.compile(rf'^\s*"{name}"\s*:\s*\{{'),
    ]


def find_line(lines: Sequence[str], pkg: Package) -> int:
    """1-based line of ``pkg``'s entry in the lockfile text; 1 when it cannot be found."""
    for pattern in _candidates(pkg):
        hits = [i for i, line in enumerate(lines) if pattern.search(line)]
        if not hits:
            continue
        if len(hits) > 1:  # yarn: several headers for a name; pick the one for this version
            for i in hits:
                window = " ".join(lines[i + 1 : i + 6])
                if re.search(rf"version:?\s+\"?{re.escape(pkg.version)}\"?(\s|$)", window):
                    return i + 1
        return hits[0] + 1
    return 1


_JSON_KEY = re.compile(r'^(\s*)"((?:[^"\\]|\\.)*)"\s*:\s*\{')
_YARN_VERSION = re.compile(r'^\s+version:?\s+"?([^"\s]+)"?\s*$')


class LineIndex:
    """Where each placement's entry is in the lockfile text, found in one pass over it
    (instead of one regular-expression search of the whole file per suspect).

    package-lock / npm-shrinkwrap (as npm writes them, indented): every object key's chain
    gives its location (``packages`` keys in v2/v3; nested ``dependencies`` in v1, so two
    versions of one name get their own lines); yarn: each header with the version below it;
    pnpm: each ``packages`` / ``snapshots`` key. Anything else falls back to
    :func:`find_line`."""

    def __init__(self, lines: Sequence[str], path: str, version: int | str | None) -> None:
        self.lines = lines
        self.by_location: dict[str, int] = {}
        self.by_key: dict[tuple[str, str], int] = {}
        name = PurePosixPath(path.replace("\\", "/")).name
        if name.endswith(".json"):  # package-lock, npm-shrinkwrap (also behind npm ls)
            self._json()
        elif name == "yarn.lock":
            self._yarn()
        elif name.endswith((".yaml", ".yml")):
            self._pnpm(version)

    def line(self, pkg: Package) -> int:
        found = self.by_location.get(pkg.location) or self.by_key.get((pkg.name, pkg.version))
        if found is None and pkg.installed_as != pkg.name:
            found = self.by_key.get((pkg.installed_as, pkg.version))
        return found if found is not None else find_line(self.lines, pkg)

    def _json(self) -> None:
        stack: list[tuple[int, str]] = []  # (indent, key) of the enclosing objects
        for number, text in enumerate(self.lines, 1):
            match = _JSON_KEY.match(text)
            if match is None:
                continue
            indent, key = len(match.group(1)), match.group(2)
            while stack and stack[-1][0] >= indent:
                stack.pop()
            stack.append((indent, key))
            keys = [k for _, k in stack]
            if len(keys) == 2 and keys[0] == "packages":  # v2 / v3
                self.by_location.setdefault(keys[1], number)
            elif len(keys) % 2 == 0 and all(k == "dependencies" for k in keys[::2]):  # v1
                location = "/".join(f"node_modules/{k}" for k in keys[1::2])
                self.by_location.setdefault(location, number)

    def _yarn(self) -> None:
        header: tuple[int, list[str]] | None = None
        for number, text in enumerate(self.lines, 1):
            if text and not text[0].isspace() and text.rstrip().endswith(":"):
                names = []
                for spec in text.rstrip()[:-1].split(","):
                    spec = spec.strip().strip('"')
                    at = spec.find("@", 1)
                    if at > 0:
                        names.append(spec[:at])
                header = (number, names)
            elif header is not None and (match := _YARN_VERSION.match(text)):
                for name in header[1]:
                    self.by_key.setdefault((name, match.group(1)), header[0])
                header = None

    def _pnpm(self, version: int | str | None) -> None:
        from depaudit.sources.pnpm_lock import parse_key

        try:
            major = int(float(str(version)))
        except (TypeError, ValueError, OverflowError):
            return
        section = ""
        for number, text in enumerate(self.lines, 1):
            if text.rstrip() == "---":  # pnpm 11: the project's lockfile is the last document
                self.by_key.clear()
            if text and not text[0].isspace():
                section = text.rstrip()
                continue
            if section not in ("packages:", "snapshots:") or not text.startswith("  "):
                continue
            if text[2:3].isspace() or not text.rstrip().endswith(":"):
                continue
            parsed = parse_key(text.strip()[:-1].strip("'\""), major)
            if parsed is not None:
                self.by_key.setdefault(parsed, number)


def fingerprint(rule: str, lockfile: str, suspect: Suspect) -> str:
    text = f"{rule}:{lockfile}:{suspect.name}@{suspect.version}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _rules(weights: Weights) -> list[dict[str, Any]]:
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
                "security-severity": weights.severities[rule.id],
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


def report_to_sarif(report: Report, weights: Weights | None = None) -> dict[str, Any]:
    weights = weights or Weights.bundled()
    lockfile = report.tree.source.path
    uri = artifact_uri(lockfile)
    lines = _read_lines(lockfile)
    index = LineIndex(lines, lockfile, report.tree.source.lockfile_version)
    results = []
    for suspect in report.suspects:
        placements = report.tree.placements(suspect.name, suspect.version)
        first = min(placements, key=lambda p: (p.dev, len(p.path), p.location), default=None)
        line = index.line(first) if first is not None and lines else 1
        width = len(lines[line - 1]) if lines and line <= len(lines) else 0
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
    rules = _rules(weights)
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
