"""The terminal report: tables and a one-line summary."""

from __future__ import annotations

from collections import Counter

from tabulate import tabulate

from depaudit.formats.interface import FormatName, ReportFormat
from depaudit.models import ProblemKind, Report, Suspect
from depaudit.text import terminal_safe

#: deduped placements are normal in npm trees; list them only as a count in the table
SUMMARISED_KINDS = frozenset({ProblemKind.DEDUPED})


def summary_line(report: Report) -> str:
    tree = report.tree
    unique = len({(p.name, p.version) for p in tree.packages})
    counts = Counter(p.kind.value for p in report.problems)
    parts = [f"{unique} packages ({len(tree.packages)} placements)"]
    if counts:
        parts.append(", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    else:
        parts.append("no tree problems")
    if tree.skipped:
        parts.append(f"{len(tree.skipped)} skipped")
    return f"{terminal_safe(tree.source.path)}: " + "; ".join(parts)


#: suspects shown in the terminal; the rest is counted (JSON, markdown and SARIF list all)
TOP_SUSPECTS = 15


def _cut(text: str, limit: int = 90) -> str:
    """Keep table cells readable; the JSON and markdown reports carry the whole text."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _strongest(suspect: Suspect, count: int = 2) -> str:
    reasons = [f"{s.rule} +{s.points:g}: {_cut(s.evidence)}" for s in suspect.signals[:count]]
    if len(suspect.signals) > count:
        reasons.append(f"(+{len(suspect.signals) - count} more; depaudit explain {suspect.name})")
    return "\n".join(terminal_safe(r) for r in reasons)


def suspects_table(report: Report) -> list[str]:
    """The top suspects with their strongest reasons, and a count of the rest."""
    if not report.suspects:
        return []
    rows = [
        [
            index,
            terminal_safe(s.key) + (" (dev)" if s.dev else ""),
            f"{s.score:g}",
            s.tier.value,
            _strongest(s),
        ]
        for index, s in enumerate(report.suspects[:TOP_SUSPECTS], 1)
    ]
    out = [tabulate(rows, headers=["#", "suspect", "score", "tier", "strongest reasons"])]
    hidden = len(report.suspects) - TOP_SUSPECTS
    if hidden > 0:
        out.append(f"... and {hidden} more suspects (--format json or markdown lists all)")
    out.extend(f"ignore: {terminal_safe(note)}" for note in report.ignored)
    return [*out, ""]


#: how many packages the "oldest" and "furthest behind" tables show
REGISTRY_TOP = 10


def _years(days: float | None) -> str:
    return f"{days / 365.25:.1f}y" if days is not None else "?"


def registry_tables(report: Report, top: int = REGISTRY_TOP) -> list[str]:
    """The oldest installed versions and the packages furthest behind latest."""
    known = [f for f in report.facts.values() if f.age_days is not None]
    behind = [f for f in report.facts.values() if f.libyears]
    out: list[str] = []
    if known:
        oldest = sorted(known, key=lambda f: (-(f.age_days or 0.0), f.name, f.version))[:top]
        rows = [
            [
                terminal_safe(f.key),
                _years(f.age_days),
                _years(f.days_since_release),
                terminal_safe(f.latest or "?"),
                terminal_safe(f.deprecated or "")[:60],
            ]
            for f in oldest
        ]
        out.append(
            tabulate(
                rows,
                headers=["oldest installed", "age", "last release", "latest", "deprecated"],
            )
        )
        out.append("")
    if behind:
        furthest = sorted(
            behind,
            key=lambda f: (-(f.libyears or 0.0), -(f.majors_behind or 0), f.name, f.version),
        )[:top]
        rows = [
            [
                terminal_safe(f.key),
                terminal_safe(f.latest or "?"),
                f"{f.libyears:.2f}" if f.libyears is not None else "?",
                "?" if f.versions_behind is None else str(f.versions_behind),
                "?" if f.majors_behind is None else str(f.majors_behind),
            ]
            for f in furthest
        ]
        out.append(
            tabulate(rows, headers=["furthest behind", "latest", "libyears", "releases", "majors"])
        )
        out.append("")
    return out


class TableFormat(ReportFormat):
    name = FormatName.TABLE

    def render(self, report: Report) -> str:
        out: list[str] = suspects_table(report)
        shown = [p for p in report.problems if p.kind not in SUMMARISED_KINDS]
        if shown:
            rows = [
                [
                    p.kind.value,
                    terminal_safe(p.name + (f"@{p.version}" if p.version else "")),
                    terminal_safe(p.path_text),
                    terminal_safe(p.wanted or ""),
                    terminal_safe(p.found or ""),
                    terminal_safe(_cut(p.detail)),
                ]
                for p in shown
            ]
            out.append(
                tabulate(rows, headers=["problem", "package", "path", "wanted", "found", "detail"])
            )
            out.append("")
        if report.tree.skipped:
            rows = [
                [terminal_safe(s.name), terminal_safe(s.spec), terminal_safe(s.reason)]
                for s in report.tree.skipped
            ]
            out.append(tabulate(rows, headers=["skipped", "spec", "reason"]))
            out.append("")
        out.extend(registry_tables(report))
        if report.findings:
            from depaudit.code.render import render_table

            out.append(render_table(report.findings))
        out.extend(f"warning: {terminal_safe(w)}" for w in report.warnings)
        out.append(summary_line(report))
        return "\n".join(out) + "\n"
