"""The terminal report: tables and a one-line summary."""

from __future__ import annotations

import os
import shutil
import textwrap
from collections import Counter

from tabulate import tabulate

from depaudit.formats.interface import FormatName, ReportFormat
from depaudit.models import ProblemKind, Report, Suspect, runtime_label
from depaudit.text import TEXT_SHOWN, VERSION_SHOWN, shown, shown_path, terminal_safe

#: deduped placements are normal in npm trees; list them only as a count in the table
SUMMARISED_KINDS = frozenset({ProblemKind.DEDUPED})

#: the order problems are listed in: what breaks at run time first, duplicates last
SEVERITY: tuple[ProblemKind, ...] = (
    ProblemKind.MISSING,
    ProblemKind.PEER_MISSING,
    ProblemKind.INVALID,
    ProblemKind.PEER_INVALID,
    ProblemKind.LOCKED_OUT_OF_RANGE,
    ProblemKind.DECLARED_NOT_LOCKED,
    ProblemKind.LOCKED_NOT_DECLARED,
    ProblemKind.EXTRANEOUS,
    ProblemKind.DUPLICATE_VERSIONS,
)
#: names of the duplicate-versions summary shown in the terminal; the rest is counted
TOP_DUPLICATES = 30
#: the width used when the terminal's is unknown (output piped or redirected); COLUMNS wins
DEFAULT_WIDTH = 100
MIN_WIDTH = 80  # narrower terminals get 80-column lines (the fixed columns need them)
_GAP = 2  # tabulate's "simple" format puts two spaces between columns


def terminal_width() -> int:
    """COLUMNS, else the terminal's width, else :data:`DEFAULT_WIDTH` (never below 80)."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        columns = shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    return max(MIN_WIDTH, columns)


def _cell_width(cell: object) -> int:
    return max((len(line) for line in str(cell).split("\n")), default=0)


def fit(
    rows: list[list[object]], headers: list[str], flexible: list[int], width: int
) -> list[list[object]]:
    """Cut the ``flexible`` columns' cells (with "…") so that every line of the table fits
    in ``width`` characters; the widest flexible column gives way first, none below 8
    characters or its header."""
    # tabulate pads a header by 2 (its MIN_PADDING) when it sets a column's width
    widths = [
        max([len(h) + 2] + [_cell_width(row[i]) for row in rows]) for i, h in enumerate(headers)
    ]
    excess = sum(widths) + _GAP * (len(widths) - 1) - width
    limits = dict.fromkeys(flexible, 0)
    for i in flexible:
        limits[i] = widths[i]
    while excess > 0:
        column = max(flexible, key=lambda i: limits[i])
        floor = max(8, len(headers[column]) + 2)
        if limits[column] <= floor:
            break
        others = sorted((limits[i] for i in flexible if i != column), reverse=True)
        target = max(floor, others[0] if others else floor, limits[column] - excess)
        if target >= limits[column]:  # tied with another column: they give way in turns
            tied = sum(1 for i in flexible if limits[i] == limits[column])
            # a share of the excess at once (a character per round was quadratic on a
            # megabyte cell shown in two columns: seconds of CPU for one table)
            target = max(floor, limits[column] - max(1, -(-excess // tied)))
        excess -= limits[column] - target
        limits[column] = target
    return [
        [
            "\n".join(_cut(line, limits[i]) for line in str(cell).split("\n"))
            if i in limits and _cell_width(cell) > limits[i]
            else cell
            for i, cell in enumerate(row)
        ]
        for row in rows
    ]


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


def _package(name: str, version: str | None) -> str:
    """``name@version`` as the table shows it (a hostile name or version cut, see shown)."""
    return shown(name) + (f"@{shown(version, VERSION_SHOWN)}" if version else "")


def _strongest(suspect: Suspect, count: int = 2) -> str:
    reasons = [f"{s.rule} +{s.points:g}: {_cut(s.evidence, 200)}" for s in suspect.signals[:count]]
    if len(suspect.signals) > count:
        reasons.append(
            f"(+{len(suspect.signals) - count} more; depaudit explain {shown(suspect.name)})"
        )
    return "\n".join(terminal_safe(r) for r in reasons)


def suspects_table(report: Report, width: int | None = None) -> list[str]:
    """The top suspects with their strongest reasons, and a count of the rest."""
    if not report.suspects:
        return []
    rows: list[list[object]] = [
        [
            index,
            terminal_safe(_package(s.name, s.version)) + (" (dev)" if s.dev else ""),
            f"{s.score:g}",
            s.tier.value,
            runtime_label(s.runtime),
            _strongest(s),
        ]
        for index, s in enumerate(report.suspects[:TOP_SUSPECTS], 1)
    ]
    headers = ["#", "suspect", "score", "tier", "runtime", "strongest reasons"]
    out = [tabulate(fit(rows, headers, [5, 1], width or terminal_width()), headers=headers)]
    hidden = len(report.suspects) - TOP_SUSPECTS
    if hidden > 0:
        out.append(f"... and {hidden} more suspects (--format json or markdown lists all)")
    out.extend(f"ignore: {terminal_safe(note)}" for note in report.ignored)
    return [*out, ""]


#: how many packages the "oldest" and "furthest behind" tables show
REGISTRY_TOP = 10


def _years(days: float | None) -> str:
    return f"{days / 365.25:.1f}y" if days is not None else "?"


def registry_tables(report: Report, top: int = REGISTRY_TOP, width: int | None = None) -> list[str]:
    """The oldest installed versions and the packages furthest behind latest."""
    known = [f for f in report.facts.values() if f.age_days is not None]
    behind = [f for f in report.facts.values() if f.libyears]
    out: list[str] = []
    if known:
        oldest = sorted(known, key=lambda f: (-(f.age_days or 0.0), f.name, f.version))[:top]
        rows: list[list[object]] = [
            [
                terminal_safe(_package(f.name, f.version)),
                _years(f.age_days),
                _years(f.days_since_release),
                terminal_safe(shown(f.latest or "?", VERSION_SHOWN)),
                terminal_safe(shown(f.deprecated or "", TEXT_SHOWN)),
            ]
            for f in oldest
        ]
        headers = ["oldest installed", "age", "last release", "latest", "deprecated"]
        rows = fit(rows, headers, [4, 0], width or terminal_width())
        out.append(tabulate(rows, headers=headers))
        out.append("")
    if behind:
        furthest = sorted(
            behind,
            key=lambda f: (-(f.libyears or 0.0), -(f.majors_behind or 0), f.name, f.version),
        )[:top]
        rows = [
            [
                terminal_safe(_package(f.name, f.version)),
                terminal_safe(shown(f.latest or "?", VERSION_SHOWN)),
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
        width = terminal_width()
        out: list[str] = suspects_table(report, width)
        out.extend(problems_table(report, width))
        if report.tree.skipped:
            rows: list[list[object]] = [
                [
                    terminal_safe(shown(s.name)),
                    terminal_safe(shown(s.spec, VERSION_SHOWN)),
                    terminal_safe(shown(s.reason, TEXT_SHOWN)),
                ]
                for s in report.tree.skipped
            ]
            headers = ["skipped", "spec", "reason"]
            out.append(tabulate(fit(rows, headers, [2, 1], width), headers=headers))
            out.append("")
        out.extend(registry_tables(report, width=width))
        if report.growth:
            rows = [
                [
                    terminal_safe(shown(g.label, TEXT_SHOWN)),
                    g.kind,
                    f"{g.growth_bytes / 1024:,.1f} KiB",
                    f"{g.growth_objects:,}",
                    terminal_safe(shown(g.retainer_path, TEXT_SHOWN)),
                ]
                for g in report.growth
            ]
            source = report.growth[0].source
            out.append(f"measured growth ({source} of the running app):")
            headers = ["owner", "kind", "grew", "objects", "retainer path"]
            out.append(tabulate(fit(rows, headers, [4, 0], width), headers=headers))
            out.append("")
        if report.findings:
            from depaudit.code.render import render_table

            out.append(render_table(report.findings))
        # warnings and the summary stay one line each (CI logs grep them)
        out.extend(f"warning: {terminal_safe(w)}" for w in report.warnings)
        out.append(summary_line(report))
        return "\n".join(out) + "\n"


def problems_table(report: Report, width: int) -> list[str]:
    """Tree problems, the most severe first, then the duplicate versions summarised in one
    wrapped paragraph (names with the most versions first; JSON and markdown list every path)."""
    rank = {kind: i for i, kind in enumerate(SEVERITY)}
    listed = [p for p in report.problems if p.kind not in SUMMARISED_KINDS]
    severe = sorted(
        (p for p in listed if p.kind is not ProblemKind.DUPLICATE_VERSIONS),
        key=lambda p: rank.get(p.kind, len(SEVERITY)),
    )
    out: list[str] = []
    if severe:
        rows: list[list[object]] = [
            [
                p.kind.value,
                terminal_safe(_package(p.name, p.version)),
                terminal_safe(shown_path(p.path)),
                terminal_safe(shown(p.wanted or "", VERSION_SHOWN)),
                terminal_safe(shown(p.found or "", VERSION_SHOWN)),
                terminal_safe(_cut(p.detail, 300)),
            ]
            for p in severe
        ]
        headers = ["problem", "package", "path", "wanted", "found", "detail"]
        out += [tabulate(fit(rows, headers, [5, 2, 4, 3, 1], width), headers=headers), ""]
    duplicates = sorted(
        (p for p in listed if p.kind is ProblemKind.DUPLICATE_VERSIONS),
        key=lambda p: (-len((p.found or "").split(", ")), p.name),
    )
    if duplicates:
        names = [
            f"{shown(p.name)} ({shown(p.found or '', TEXT_SHOWN)})"
            for p in duplicates[:TOP_DUPLICATES]
        ]
        if len(duplicates) > TOP_DUPLICATES:
            names.append(f"and {len(duplicates) - TOP_DUPLICATES} more")
        text = (
            f"duplicate-versions: {len(duplicates)} names installed at several versions: "
            + ", ".join(names)
            + " (--format json or markdown shows every path)"
        )
        out += [_wrap(terminal_safe(text), width), ""]
    return out


def _wrap(text: str, width: int) -> str:
    return textwrap.fill(text, width, subsequent_indent="  ", break_on_hyphens=False)
