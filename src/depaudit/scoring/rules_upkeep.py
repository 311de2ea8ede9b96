"""Upkeep rules: what the registry and the repository say about a package's maintenance
(deprecated, stale, far behind, not in the registry, archived, open leak issues)."""

from __future__ import annotations

import re
from datetime import datetime

from depaudit.models import (
    PackageFacts,
    Signal,
)
from depaudit.scoring.context import (
    Context,
    Rule,
    Target,
    _day,
    _leak_prone_note,
    _num,
    _successor,
    _years,
)
from depaudit.scoring.weights import DAYS_PER_YEAR

#: deprecation wording that is evidence of a leak (inflight: "not supported, and leaks memory")
_LEAK_WORDS = re.compile(
    r"\bleak(s|ing|ed|y)?\b|memory|file descriptors?|not (released|freed|closed)",
    re.IGNORECASE,
)
#: "renamed to X", "moved to X", "use X instead", "replaced by X", "superseded by X"
_SUCCESSOR = re.compile(
    r"(?:renamed|moved|migrated)\s+(?:to|into)\s+[`'\"]?(?P<a>@?[\w./-]+[\w])"
    r"|(?:use|switch to|upgrade to)\s+[`'\"]?(?P<b>@?[\w./-]+[\w])[`'\"]?\s+instead"
    r"|(?:replaced|superseded)\s+by\s+[`'\"]?(?P<c>@?[\w./-]+[\w])",
    re.IGNORECASE,
)


def read_deprecation(message: str) -> tuple[bool, str | None]:
    """Is the deprecation message about a leak, and which successor does it name?"""
    leak = bool(_LEAK_WORDS.search(message))
    found = _SUCCESSOR.search(message)
    successor = None
    if found is not None:
        successor = found.group("a") or found.group("b") or found.group("c")
    return leak, successor


class Deprecated(Rule):
    id = "deprecated"
    title = "Deprecated or renamed"
    description = (
        "The installed version is deprecated, or the package was renamed: it gets no fixes. "
        "A deprecation about leaking memory or resources is leak evidence; any other "
        "(unsupported, renamed, security) is maintenance evidence that alone does not make a "
        "package medium unless it is leak-prone. Move to the successor."
    )

    def evaluate(self, target: Target, ctx: Context) -> list[Signal]:
        message = target.facts.deprecated if target.facts else None
        if message is None:
            message = next((p.deprecated for p in target.placements if p.deprecated), None)
        entry = _successor(target)
        if message is None and entry is None:
            return []
        factor, note = _leak_prone_note(target, self.weights)
        parts = []
        text = message or ""
        if message is not None:
            parts.append(f"deprecated: {message}" if message else "deprecated")
        if entry is not None:
            text += " " + entry.summary
            if message is None:
                parts.append(f"{entry.id}: {entry.summary}")
        leak, named = read_deprecation(text)
        successor = (entry.successor if entry is not None else None) or named
        if successor:
            parts.append(f"successor: {successor}")
        if leak:
            points = self.w["points"]
            parts.append("leak evidence: the deprecation is about a leak")
        else:
            points = self.w.get("maintenance_points", self.w["points"])
            parts.append("maintenance evidence, not of a leak")
        url = entry.references[0] if entry and entry.references else None
        if url is None and target.facts is not None:
            url = target.facts.repository
        return [
            Signal(
                rule=self.id,
                points=_num(points * factor),
                evidence="; ".join(parts) + note,
                url=url,
                ids=(entry.id,) if entry else (),
                leak=leak,
            )
        ]


def _days_since_release(facts: PackageFacts, now: datetime) -> float | None:
    if facts.last_release is not None:
        return (now - facts.last_release).total_seconds() / 86400
    return facts.days_since_release


class Stale(Rule):
    id = "stale"
    needs_facts = True
    title = "No release for years"
    description = (
        "The package has had no release for years: leaks found since then will not be fixed."
    )

    def evaluate(self, target: Target, ctx: Context) -> list[Signal]:
        if target.facts is None:
            return []
        days = _days_since_release(target.facts, ctx.now)
        if days is None:
            return []
        years = days / DAYS_PER_YEAR
        beyond = years - self.w["grace_years"]
        if beyond <= 0:
            return []
        factor, note = _leak_prone_note(target, self.weights)
        points = min(self.w["cap"], self.w["per_year"] * beyond) * factor
        return [
            Signal(
                rule=self.id,
                points=_num(points),
                evidence=f"last release {_day(target.facts.last_release)}, "
                f"{_years(days)} ago{note}",
                url=target.facts.repository,
            )
        ]


class FarBehind(Rule):
    id = "far-behind"
    needs_facts = True
    title = "Far behind the latest version"
    description = (
        "The installed version is majors or years (libyears) behind the latest release: "
        "leak fixes made since are not installed."
    )

    def evaluate(self, target: Target, ctx: Context) -> list[Signal]:
        facts = target.facts
        if facts is None:
            return []
        points = 0.0
        parts = []
        if facts.majors_behind:
            points += min(self.w["major_cap"], self.w["per_major"] * facts.majors_behind)
            plural = "s" if facts.majors_behind != 1 else ""
            parts.append(f"{facts.majors_behind} major{plural} behind")
        if facts.libyears is not None and facts.libyears > self.w["libyear_grace"]:
            extra = facts.libyears - self.w["libyear_grace"]
            points += min(self.w["libyear_cap"], self.w["per_libyear"] * extra)
            parts.append(f"{facts.libyears:.1f} libyears behind")
        if points <= 0:
            return []
        latest = f" latest {facts.latest}" if facts.latest else " latest"
        return [
            Signal(
                rule=self.id,
                points=_num(points),
                evidence=" and ".join(parts) + latest,
                url=facts.repository,
            )
        ]


class NotInRegistry(Rule):
    id = "not-in-registry"
    needs_facts = True
    title = "Not in the registry"
    description = (
        "The registry does not know the package or the installed version (private, "
        "unpublished, or a typo): nobody else can see its fixes or advisories."
    )

    def evaluate(self, target: Target, ctx: Context) -> list[Signal]:
        facts = target.facts
        if facts is None:
            return []
        if facts.in_registry is False:
            evidence = f"{target.name} is not in the configured registry"
        elif facts.unpublished is True:
            evidence = f"{target.name} was unpublished from the registry"
        else:
            return []
        return [Signal(rule=self.id, points=self.w["points"], evidence=evidence)]


class Archived(Rule):
    id = "archived"
    needs_facts = True
    title = "Repository archived"
    description = (
        "The package's GitHub repository is archived (read-only): no fix will come. Checked "
        "for the top suspects when a GitHub token is given."
    )

    def evaluate(self, target: Target, ctx: Context) -> list[Signal]:
        facts = target.facts
        if facts is None or facts.archived is not True:
            return []
        factor, note = _leak_prone_note(target, self.weights)
        where = facts.repository or target.name
        return [
            Signal(
                rule=self.id,
                points=_num(self.w["points"] * factor),
                evidence=f"{where} is archived on GitHub: read-only, no fixes{note}",
                url=facts.repository,
            )
        ]


class LeakIssues(Rule):
    id = "leak-issues"
    needs_facts = True
    title = "Open memory-leak issues"
    description = (
        'Open issues in the package\'s GitHub repository have "memory leak" in their title. '
        "Checked for the top suspects when a GitHub token is given."
    )

    def evaluate(self, target: Target, ctx: Context) -> list[Signal]:
        facts = target.facts
        if facts is None or not facts.leak_issues or facts.leak_issues < 1:
            return []
        count = facts.leak_issues
        points = min(self.w["cap"], self.w["per_issue"] * count)
        noun = "issue" if count == 1 else "issues"
        return [
            Signal(
                rule=self.id,
                points=_num(points),
                evidence=f'{count} open {noun} titled "memory leak" in the repository '
                "(not tied to a version)",
                url=facts.leak_issues_url,
            )
        ]
