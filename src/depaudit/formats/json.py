"""The versioned, stable JSON report."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import islice
from operator import attrgetter
from typing import Any

import orjson

from depaudit.code.model import finding_to_dict
from depaudit.formats.interface import FormatName, ReportFormat
from depaudit.models import (
    Package,
    PackageFacts,
    PlacementRuntime,
    Report,
    Suspect,
    best_runtime,
    runtime_label,
)
from depaudit.text import json_text_safe

SCHEMA_VERSION = 1


#: PackageFacts fields rendered elsewhere (identity) or by their own services
_FACTS_SKIPPED = frozenset({"name", "version", "advisories", "known_leaks", "growth"})
#: the fields a package's "facts" object has, in the dataclass's order
_FACTS_SHOWN = tuple(n for n in PackageFacts.__dataclass_fields__ if n not in _FACTS_SKIPPED)
_FACTS_VALUES = attrgetter(*_FACTS_SHOWN)
#: the datetime fields among them (ISO 8601 in the report)
_FACTS_DATES = tuple(
    n for n in _FACTS_SHOWN if "datetime" in str(PackageFacts.__dataclass_fields__[n].type)
)


def _facts_entry(facts: PackageFacts | None, utc_as_is: bool = False) -> dict[str, Any]:
    """Registry facts of one package; dates ISO 8601, unknown as null. ``utc_as_is``: a
    date in UTC is left a ``datetime``, for orjson, which writes it as ``isoformat`` does
    (tests/formats/test_json.py) at a fraction of the cost: ``isoformat`` goes through
    ``printf``, 0.8 µs a date against orjson's 0.1, 6,271 dates in a warm scan of theia.
    Any other offset is written here (orjson drops an offset's seconds)."""
    if facts is None:
        out: dict[str, Any] = dict.fromkeys(_FACTS_SHOWN)
        out["deprecation_known"] = False
        return out
    out = dict(zip(_FACTS_SHOWN, _FACTS_VALUES(facts), strict=True))
    if out["deprecation_known"] is None:
        out["deprecation_known"] = False
    for name in _FACTS_DATES:
        value = out[name]
        if value is not None and not (utc_as_is and value.tzinfo is UTC):
            out[name] = value.isoformat()
    return out


def _advisory_entries(facts: PackageFacts | None) -> dict[str, Any]:
    """Advisories and knowledge-base entries covering this name@version."""
    advisories = facts.advisories if facts is not None else ()
    known = facts.known_leaks if facts is not None else ()
    return {
        "advisories": [
            {
                "id": a.id,
                "source": a.source,
                "class": a.leak_class.value,
                "title": a.title,
                "range": a.affected,
                "fixed": a.patched,
                "severity": a.severity,
                "cwes": list(a.cwes),
                "aliases": list(a.aliases),
                "url": a.url,
            }
            for a in advisories
        ],
        "known_leaks": [
            {
                "id": k.id,
                "kind": k.kind.value,
                "class": k.leak_class.value,
                "summary": k.summary,
                "range": k.affected,
                "fixed": k.fixed,
                "severity": k.severity,
                "successor": k.successor,
                "confidence": k.confidence,
                "ghsa": k.ghsa,
                "url": k.references[0] if k.references else None,
                "references": list(k.references),
            }
            for k in known
        ],
    }


def _package_entries(report: Report) -> list[dict[str, Any]]:
    return list(_each_package_entry(report))


def _each_package_entry(report: Report, utc_as_is: bool = False) -> Iterator[dict[str, Any]]:
    """Each package's entry (``utc_as_is``: see :func:`_facts_entry`)."""
    groups: dict[tuple[str, str], list[Package]] = {}
    for pkg in report.tree.packages:
        key = (pkg.name, pkg.version)
        group = groups.get(key)
        if group is None:
            groups[key] = [pkg]
        else:
            group.append(pkg)
    statuses = report.tree.runtime
    all_facts = report.facts
    no_facts = _facts_entry(None)
    for (name, version), placements in sorted(groups.items()):
        if len(placements) == 1:  # (most packages: one placement, nothing to merge)
            (only,) = placements
            found = [statuses.get(only.location)]
            paths = [list(only.path)]
            direct, dev, optional = only.direct and not only.extraneous, only.dev, only.optional
            aliases = [only.alias] if only.alias else []
            ordered = [(only, found[0])]
            best = found[0]  # (best_runtime of one status, or of none)
        else:
            paths = [list(p) for p in sorted({p.path for p in placements})]
            direct = any(p.direct and not p.extraneous for p in placements)
            # a package is dev (or optional) only when every placement is
            dev = all(p.dev for p in placements)
            optional = all(p.optional for p in placements)
            aliases = sorted({p.alias for p in placements if p.alias})
            # the placements of name@version, in the tree's order (as DependencyTree.runtime_of)
            found = [statuses.get(p.location) for p in placements]
            ordered = sorted(zip(placements, found, strict=True), key=_location)
            best = best_runtime(r for r in found if r)
        entry: dict[str, Any] = {
            "name": name,
            "version": version,
            "paths": paths,
            "direct": direct,
            "dev": dev,
            "optional": optional,
        }
        if aliases:
            entry["aliases"] = aliases
        entry["runtime"] = runtime_label(best)
        entry["placements"] = [
            {
                "location": p.location,
                "runtime": runtime_label(r),
                "reason": r.reason if r is not None else None,
                "chain": list(r.chain) if r is not None else [],
            }
            for p, r in ordered
        ]
        facts = all_facts.get(f"{name}@{version}")
        entry["facts"] = dict(no_facts) if facts is None else _facts_entry(facts, utc_as_is)
        if facts is not None and (facts.advisories or facts.known_leaks):
            entry.update(_advisory_entries(facts))
        else:  # (most packages: nothing to list)
            entry["advisories"] = []
            entry["known_leaks"] = []
        yield entry


def _location(pair: tuple[Package, PlacementRuntime | None]) -> str:
    return pair[0].location


def _suspect_entry(suspect: Suspect) -> dict[str, Any]:
    """The issue's shape: {name, version, score, tier, paths, dev, signals: [...]}."""
    return {
        "name": suspect.name,
        "version": suspect.version,
        "score": suspect.score,
        "tier": suspect.tier.value,
        "paths": [list(p) for p in suspect.paths],
        "dev": suspect.dev,
        "runtime": runtime_label(suspect.runtime),
        "runtime_reason": suspect.runtime.reason if suspect.runtime else None,
        "signals": [
            {
                "rule": s.rule,
                "points": s.points,
                "evidence": s.evidence,
                "url": s.url,
                "leak_evidence": s.leak,
            }
            for s in suspect.signals
        ],
    }


def report_to_dict(report: Report, *, packages: bool = True) -> dict[str, Any]:
    """The report as JSON data; ``packages=False`` leaves its package list empty."""
    tree = report.tree
    problem_counts = Counter(p.kind.value for p in report.problems)
    unique = {(p.name, p.version) for p in tree.packages}
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "depaudit", "version": report.tool_version},
        "generated_at": report.generated_at.isoformat(),
        "source": {
            "kind": tree.source.kind,
            "path": tree.source.path,
            "lockfile_version": tree.source.lockfile_version,
        },
        "root": {"name": tree.root_name, "version": tree.root_version},
        "summary": {
            "packages": len(unique),
            "placements": len(tree.packages),
            "skipped": len(tree.skipped),
            "problems": dict(sorted(problem_counts.items())),
        },
        "packages": _package_entries(report) if packages else [],
        "problems": [
            {
                "kind": p.kind.value,
                "name": p.name,
                "version": p.version,
                "path": list(p.path),
                "wanted": p.wanted,
                "found": p.found,
                "detail": p.detail,
            }
            for p in report.problems
        ],
        "skipped": [
            {"name": s.name, "spec": s.spec, "reason": s.reason, "path": list(s.path)}
            for s in tree.skipped
        ],
        "suspects": [_suspect_entry(s) for s in report.suspects],
        "findings": [finding_to_dict(f) for f in report.findings],
        "measured_growth": [
            {
                "kind": g.kind,
                "name": g.name,
                "version": g.version,
                "path": g.path,
                "file": g.file,
                "line": g.line,
                "growth_bytes": g.growth_bytes,
                "retained_bytes": g.retained_bytes,
                "growth_objects": g.growth_objects,
                "constructor": g.constructor,
                "retainer_path": g.retainer_path,
                "source": g.source,
            }
            for g in report.growth
        ],
        "ignored": list(report.ignored),
        "warnings": list(report.warnings),
        "consulted": list(report.consulted),
        "offline": report.offline,
    }


class JsonFormat(ReportFormat):
    name = FormatName.JSON

    def render(self, report: Report) -> str:
        return "".join(self.render_chunks(report))

    def render_chunks(self, report: Report) -> Iterator[str]:
        # (each piece made safe as it goes: the escapes are of single characters)
        return map(json_text_safe, _pieces(report))


_INDENT = orjson.OPT_INDENT_2
#: package entries written as one piece: one dump, one escape pass and one write each
#: (one at a time, those calls took ~3 ms of theia's 25 ms report, measured in-process)
ENTRIES_PER_PIECE = 64
#: the top-level package list of the report without packages, as orjson indents it (the
#: summary's "packages" count is indented deeper: this text occurs once)
_NO_PACKAGES = '\n  "packages": []'


def batched(items: Iterator[dict[str, Any]], size: int) -> Iterator[tuple[dict[str, Any], ...]]:
    """``itertools.batched`` (Python 3.12)."""
    while chunk := tuple(islice(items, size)):
        yield chunk


def _dumped(data: Any) -> str:
    """``json.dumps(data, indent=2, ensure_ascii=False)``, which orjson writes ~10x faster
    (the same bytes), but not an integer beyond 64 bits (from a hostile lockfile). A
    ``datetime`` (a package entry's UTC dates) is written as its ``isoformat``."""
    try:
        return orjson.dumps(data, option=_INDENT).decode("utf-8")
    except TypeError:
        return json.dumps(data, indent=2, ensure_ascii=False, default=_iso)


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _pieces(report: Report) -> Iterator[str]:
    """The report's text and its last line break, its package list :data:`ENTRIES_PER_PIECE`
    entries at a time: the entries of a 50,000-placement tree, held all at once as data,
    doubled the scan's peak memory, and their text held whole (then copied by a join and the
    escapes) added 100 MB more to a cold scan of 36,000 names. Each piece is indented as its
    entries sit in the list, which is what json.dumps(indent=2) writes (a line break in JSON
    text is always formatting: one inside a string is written ``\\n``)."""
    head = _dumped(report_to_dict(report, packages=False))
    at = head.index(_NO_PACKAGES)
    yield head[:at] + '\n  "packages": ['
    joint, entries = "", 0
    for chunk in batched(_each_package_entry(report, utc_as_is=True), ENTRIES_PER_PIECE):
        # the list's items are indented one level in, its brackets dropped
        text = _dumped(list(chunk)).replace("\n", "\n  ")
        yield joint + text[1 : -len("\n  ]")]
        joint, entries = ",", entries + len(chunk)
    yield ("\n  ]" if entries else "]") + head[at + len(_NO_PACKAGES) :] + "\n"
