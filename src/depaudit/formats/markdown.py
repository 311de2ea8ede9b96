"""GitHub-flavoured markdown for pull-request comments and job summaries.

A headline with counts per tier, a table of the top suspects (why, in words, with links to the
evidence), then collapsible sections for the other suspects and the tree problems. The whole
text stays under GitHub's 65,536-character comment limit by dropping the least important rows
first. Every text that comes from a lockfile, the registry or an advisory goes through
:func:`escape`, so it cannot inject markup, HTML, @mentions or links.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from depaudit.formats.interface import FormatName, ReportFormat
from depaudit.formats.md_text import MARKER, code, escape, signal_reasons
from depaudit.models import ProblemKind, Report, Suspect, Tier, runtime_label
from depaudit.text import TEXT_SHOWN, VERSION_SHOWN, shown, shown_path

#: GitHub rejects comments longer than this many characters
GITHUB_LIMIT = 65_536
#: what we allow ourselves, leaving room for a wrapper (sticky-comment marker, job summary)
BUDGET = 60_000
TOP = 10


def _package(suspect: Suspect) -> str:
    return f"`{code(shown(suspect.name))}@{code(shown(suspect.version, VERSION_SHOWN))}`"


def _via(suspect: Suspect) -> str:
    if not suspect.paths:
        return ""
    first = shown_path(suspect.paths[0])
    more = f" (+{len(suspect.paths) - 1} more paths)" if len(suspect.paths) > 1 else ""
    return escape(first) + more


def _dev(suspect: Suspect) -> str:
    return " (dev)" if suspect.dev else ""


def headline(report: Report) -> list[str]:
    counts = Counter(s.tier for s in report.suspects)
    unique = len({(p.name, p.version) for p in report.tree.packages})
    total = len(report.suspects)
    tiers = " · ".join(f"**{counts.get(t, 0)} {t.value}**" for t in Tier)
    noun = "suspect" if total == 1 else "suspects"
    lines = [
        MARKER,
        f"## depaudit: {total} leak {noun}",
        "",
        f"{tiers} among {unique} packages in `{code(report.tree.source.path)}`"
        + (" (offline)" if report.offline else ""),
        "",
    ]
    return lines


def top_table(suspects: Sequence[Suspect], reasons: int | None) -> list[str]:
    lines = [
        "| # | package | score | tier | runtime | why | via |",
        "|---:|---|---:|---|---|---|---|",
    ]
    for index, suspect in enumerate(suspects, 1):
        lines.append(
            f"| {index} | {_package(suspect)}{_dev(suspect)} | {suspect.score:g} | "
            f"{suspect.tier.value} | {runtime_label(suspect.runtime)} | "
            f"{signal_reasons(suspect, reasons)} | {_via(suspect)} |"
        )
    return lines + [""]


def _rest_row(index: int, suspect: Suspect) -> str:
    return (
        f"| {index} | {_package(suspect)}{_dev(suspect)} | {suspect.score:g} | "
        f"{suspect.tier.value} | {runtime_label(suspect.runtime)} | "
        f"{signal_reasons(suspect, 2, 200)} |"
    )


def _problem_row(problem_kind: str, name: str, path: str, detail: str) -> str:
    return f"| {escape(problem_kind)} | `{code(name)}` | {escape(path)} | {escape(detail)} |"


def _details(
    summary: str, header: Sequence[str], rows: Iterable[str], budget: int, total: int
) -> list[str]:
    """A collapsible section holding as many of the ``total`` rows as fit in ``budget``
    characters; a row past the budget ends the section (the rest are never made)."""
    opening = ["<details>", f"<summary>{summary}</summary>", "", *header]
    closing = ["", "</details>", ""]
    used = sum(len(line) + 1 for line in opening + closing)
    kept: list[str] = []
    for row in rows:
        if used + len(row) + 1 + 120 > budget:
            break
        kept.append(row)
        used += len(row) + 1
    if len(kept) < total:
        hidden = total - len(kept)
        kept.append("")
        kept.append(
            f"*{hidden} more not shown to stay within GitHub's comment "
            "limit; see the JSON or SARIF report.*"
        )
    return opening + kept + closing


def _size(lines: Sequence[str]) -> int:
    return sum(len(line) + 1 for line in lines)


def render_markdown(report: Report, budget: int = BUDGET) -> str:
    head = headline(report)
    suspects = list(report.suspects)
    top, rest = suspects[:TOP], suspects[TOP:]
    tail = _footer(report)
    # Priority 1: headline, the top suspects and the footer (warnings, ignore notes).
    # Degrade the top table's detail before anything of it disappears.
    table: list[str] = []
    for reasons, count in ((None, len(top)), (3, len(top)), (1, len(top)), (1, 3)):
        table = top_table(top[:count], reasons) if top else ["No leak suspects found.", ""]
        if _size(head) + _size(table) + _size(tail) <= budget:
            break
    lines = head + table
    if report.growth:  # measured, so right after the ranking
        section = growth_section(report)
        if _size(lines) + _size(section) + _size(tail) <= budget:
            lines += section
    remaining = budget - _size(lines) - _size(tail)
    # Priority 2: the other suspects; priority 3: tree problems. Each gets what is left.
    if rest:
        header = [
            "| # | package | score | tier | runtime | strongest reasons |",
            "|---:|---|---:|---|---|---|",
        ]
        rows = (_rest_row(i, s) for i, s in enumerate(rest, TOP + 1))
        section = _details(f"{len(rest)} more suspects", header, rows, remaining, len(rest))
        lines += section
        remaining -= _size(section)
    problems = [p for p in report.problems if p.kind is not ProblemKind.DEDUPED]
    if problems and remaining > 400:
        header = ["| problem | package | path | detail |", "|---|---|---|---|"]
        rows = (
            _problem_row(
                p.kind.value,
                shown(p.name) + (f"@{shown(p.version, VERSION_SHOWN)}" if p.version else ""),
                shown_path(p.path),
                shown(
                    p.detail or (f"wanted {p.wanted}, found {p.found}" if p.wanted else ""),
                    TEXT_SHOWN,
                ),
            )
            for p in problems
        )
        section = _details(
            f"Tree problems ({len(problems)})", header, rows, remaining, len(problems)
        )
        lines += section
    if report.findings and budget - _size(lines) - _size(tail) > 400:
        from depaudit.code.render import markdown_rows

        code_rows = markdown_rows(report.findings)
        lines += _details(
            f"Leak patterns in the app's code ({len(report.findings)})",
            code_rows[:2],
            code_rows[2:],
            budget - _size(lines) - _size(tail),
            len(code_rows) - 2,
        )
    text = "\n".join(lines + tail) + "\n"
    if len(text) > budget:  # pathological footer: cut it, never exceed the limit
        text = text[: budget - 80] + "\n\n*(truncated to stay within GitHub's limit)*\n"
    return text


def growth_section(report: Report, shown: int = 10) -> list[str]:
    """The owners of measured heap growth: packages and lines of the app."""
    growth = report.growth
    source = growth[0].source if growth else ""
    lines = [
        "### Measured growth",
        "",
        f"Heap growth between {escape(source)} of the running app, by owner "
        "(`depaudit heap` has the detail):",
        "",
        "| # | owner | kind | grew | objects | mostly | retainer path |",
        "|---:|---|---|---:|---:|---|---|",
    ]
    for rank, owner in enumerate(growth[:shown], 1):
        where = owner.label + (f" ({owner.path})" if owner.path else "")
        lines.append(
            f"| {rank} | {code(where)} | {owner.kind} | {owner.growth_bytes / 1024:,.1f} KiB | "
            f"{owner.growth_objects:,} | {escape(owner.constructor)} | "
            f"{code(owner.retainer_path[:300])} |"
        )
    if len(growth) > shown:
        lines.append(f"| | … and {len(growth) - shown} more owners | | | | | |")
    lines.append("")
    return lines


def _footer(report: Report) -> list[str]:
    lines = [f"> warning: {escape(warning[:500])}" for warning in report.warnings[:20]]
    if len(report.warnings) > 20:
        lines.append(f"> … and {len(report.warnings) - 20} more warnings")
    lines.extend(f"- ignore file: {escape(note[:500])}" for note in report.ignored[:20])
    if lines:
        lines.append("")
    consulted = ", ".join(escape(c) for c in report.consulted) or "the lockfile only"
    lines.append(
        f"<sub>depaudit {escape(report.tool_version)}, "
        f"{report.generated_at.strftime('%Y-%m-%d %H:%M UTC')}; consulted: {consulted}</sub>"
    )
    return lines


class MarkdownFormat(ReportFormat):
    name = FormatName.MARKDOWN

    def render(self, report: Report) -> str:
        return render_markdown(report)
