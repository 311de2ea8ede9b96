"""``depaudit diff``: what a change to the lockfile does to the dependency tree and its
suspects. Packages added, removed, upgraded and downgraded; suspects new, worse or better in HEAD.
The markdown is made for a pull-request comment."""

from __future__ import annotations

import json
from functools import cmp_to_key
from typing import Any

import nodesemver

from depaudit.code.model import finding_to_dict
from depaudit.formats.md_text import MARKER, code, signal_reasons
from depaudit.models import CodeFinding, DependencyTree, Report, Suspect
from depaudit.scoring.rank import TIER_ORDER
from depaudit.slots import dataclass
from depaudit.text import valid_unicode


@dataclass(frozen=True, slots=True)
class Change:
    name: str
    base: str | None  # versions joined by ", " (a name can be installed at several)
    head: str | None
    kind: str  # added, removed, upgraded, downgraded, changed


@dataclass(frozen=True, slots=True)
class SuspectChange:
    suspect: Suspect
    kind: str  # new, worse, better
    before: Suspect | None = None


@dataclass(frozen=True, slots=True)
class TreeDiff:
    base_label: str
    head_label: str
    changes: tuple[Change, ...]
    suspects: tuple[SuspectChange, ...]
    fixed: tuple[Suspect, ...]  # suspects of BASE gone from HEAD
    #: leak patterns in the app's code that HEAD adds (``--base-ref`` only)
    new_findings: tuple[CodeFinding, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for change in self.changes:
            counts[change.kind] = counts.get(change.kind, 0) + 1
        return counts


def _versions(tree: DependencyTree) -> dict[str, list[str]]:
    found: dict[str, set[str]] = {}
    for pkg in tree.packages:
        found.setdefault(pkg.name, set()).add(pkg.version)
    return {name: sorted(versions, key=_sort_version) for name, versions in found.items()}


def _cmp(a: str, b: str) -> int:
    try:
        order: int = nodesemver.compare(a, b, loose=True)
        return order
    except (ValueError, TypeError):
        return (a > b) - (a < b)


_sort_version = cmp_to_key(_cmp)


def _compare(old: list[str], new: list[str]) -> str:
    """How a name's versions changed: only some removed, only some added, else by the
    highest version (a version removed beside one that stays is not a downgrade)."""
    if set(new) < set(old):
        return "removed"
    if set(old) < set(new):
        return "added"
    order = _cmp(new[-1], old[-1])
    if order > 0:
        return "upgraded"
    if order < 0:
        return "downgraded"
    return "changed"


def tree_changes(base: DependencyTree, head: DependencyTree) -> list[Change]:
    before, after = _versions(base), _versions(head)
    changes = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if old is None and new is not None:
            changes.append(Change(name, None, ", ".join(new), "added"))
        elif new is None and old is not None:
            changes.append(Change(name, ", ".join(old), None, "removed"))
        elif old is not None and new is not None:
            changes.append(Change(name, ", ".join(old), ", ".join(new), _compare(old, new)))
    return changes


def _rank(suspect: Suspect) -> int:
    return TIER_ORDER.index(suspect.tier)


def suspect_changes(base: Report, head: Report) -> tuple[list[SuspectChange], list[Suspect]]:
    """Suspects new in HEAD (by name: an upgrade that is still a suspect is not new), worse
    (higher tier, or a higher score at the same tier) or better (the same name@version at a lower
    tier or score than in BASE); and BASE suspects gone from HEAD."""
    best_before: dict[str, Suspect] = {}
    for suspect in base.suspects:
        known = best_before.get(suspect.name)
        if known is None or suspect.score > known.score:
            best_before[suspect.name] = suspect
    by_key = {s.key: s for s in base.suspects}
    changes = []
    for suspect in head.suspects:
        before = best_before.get(suspect.name)
        if before is None:
            changes.append(SuspectChange(suspect, "new"))
        elif _rank(suspect) < _rank(before) or (
            _rank(suspect) == _rank(before) and suspect.score > before.score
        ):
            changes.append(SuspectChange(suspect, "worse", before))
        elif (same := by_key.get(suspect.key)) is not None and (
            _rank(suspect) > _rank(same) or suspect.score < same.score
        ):
            changes.append(SuspectChange(suspect, "better", same))
    head_names = {s.name for s in head.suspects}
    fixed = [s for s in base.suspects if s.name not in head_names]
    return changes, fixed


def diff_reports(base: Report, head: Report, base_label: str, head_label: str) -> TreeDiff:
    changes, fixed = suspect_changes(base, head)
    return TreeDiff(
        base_label=base_label,
        head_label=head_label,
        changes=tuple(tree_changes(base.tree, head.tree)),
        suspects=tuple(changes),
        fixed=tuple(fixed),
    )


def _versions_cell(versions: str | None) -> str:
    return f"`{code(versions)}`" if versions else ""


def render_diff_markdown(diff: TreeDiff, max_rows: int = 200) -> str:
    counts = diff.counts
    summary = ", ".join(
        f"{counts.get(kind, 0)} {kind}"
        for kind in ("added", "removed", "upgraded", "downgraded", "changed")
        if counts.get(kind)
    )
    new = [c for c in diff.suspects if c.kind == "new"]
    worse = [c for c in diff.suspects if c.kind == "worse"]
    better = [c for c in diff.suspects if c.kind == "better"]
    lines = [
        MARKER,
        "## depaudit diff",
        "",
        f"`{code(diff.base_label)}` → `{code(diff.head_label)}`: "
        + (summary or "no package changes"),
        "",
        f"**{len(new)} new suspects** · **{len(worse)} worse** · {len(better)} better · "
        f"{len(diff.fixed)} gone",
        "",
    ]
    if diff.suspects:
        lines += ["| | package | score | tier | why |", "|---|---|---:|---|---|"]
        for change in diff.suspects[:max_rows]:
            s = change.suspect
            was = (
                f" (was {change.before.score:g} {change.before.tier.value})"
                if change.before
                else ""
            )
            lines.append(
                f"| {change.kind} | `{code(s.name)}@{code(s.version)}` | {s.score:g}{was} | "
                f"{s.tier.value} | {signal_reasons(s, 2, 300)} |"
            )
        lines.append("")
    if diff.changes:
        lines += ["<details>", f"<summary>Package changes ({len(diff.changes)})</summary>", ""]
        lines += ["| change | package | base | head |", "|---|---|---|---|"]
        lines += [
            f"| {c.kind} | `{code(c.name)}` | {_versions_cell(c.base)} | {_versions_cell(c.head)} |"
            for c in diff.changes[:max_rows]
        ]
        if len(diff.changes) > max_rows:
            lines.append(f"\n*{len(diff.changes) - max_rows} more not shown.*")
        lines += ["", "</details>", ""]
    if diff.fixed:
        gone = ", ".join(f"`{code(s.name)}@{code(s.version)}`" for s in diff.fixed[:max_rows])
        lines += [f"No longer suspects: {gone}", ""]
    if diff.new_findings:
        from depaudit.code.render import markdown_rows

        lines += [f"**{len(diff.new_findings)} new leak patterns in the app's code**", ""]
        lines += markdown_rows(diff.new_findings, max_rows)
        lines.append("")
    return "\n".join(lines) + "\n"


def diff_to_dict(diff: TreeDiff) -> dict[str, Any]:
    def suspect(s: Suspect) -> dict[str, Any]:
        return {"name": s.name, "version": s.version, "score": s.score, "tier": s.tier.value}

    return {
        "base": diff.base_label,
        "head": diff.head_label,
        "changes": [
            {"name": c.name, "base": c.base, "head": c.head, "kind": c.kind} for c in diff.changes
        ],
        "suspects": [
            {
                **suspect(c.suspect),
                "kind": c.kind,
                "before": suspect(c.before) if c.before else None,
            }
            for c in diff.suspects
        ],
        "gone": [suspect(s) for s in diff.fixed],
        "new_findings": [finding_to_dict(f) for f in diff.new_findings],
    }


def render_diff(diff: TreeDiff, fmt: str) -> str:
    if fmt == "json":
        return valid_unicode(json.dumps(diff_to_dict(diff), indent=2, ensure_ascii=False) + "\n")
    return valid_unicode(render_diff_markdown(diff))
