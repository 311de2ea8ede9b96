"""One small rule per signal. Each rule looks at one ``name@version`` of the tree and returns
zero or more :class:`Signal` s, each with its points, one line of evidence and a reference.

Rules never turn an unknown fact into reassurance: a fact that is ``None`` produces no signal
(and no "fine" evidence either). Weights come from ``data/scoring.yaml`` (:mod:`.weights`).
"""

from __future__ import annotations

import fnmatch
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import ClassVar

from depaudit.errors import ConfigError
from depaudit.models import (
    Advisory,
    DependencyTree,
    KnownLeak,
    KnownLeakKind,
    LeakClass,
    Package,
    PackageFacts,
    ProblemKind,
    Signal,
    TreeProblem,
)
from depaudit.services.ranges import RangeError, npm_satisfies

DAYS_PER_YEAR = 365.25
WEIGHTS_RESOURCE = "scoring.yaml"


@dataclass(frozen=True, slots=True)
class Weights:
    """The numbers of ``data/scoring.yaml``, validated once."""

    tiers: Mapping[str, float]
    dev_factor: float
    leak_prone_factor: float
    rules: Mapping[str, Mapping[str, float]]
    severities: Mapping[str, str]

    def rule(self, rule_id: str) -> Mapping[str, float]:
        return self.rules[rule_id]

    @classmethod
    def from_mapping(cls, data: object, origin: str = WEIGHTS_RESOURCE) -> Weights:
        def fail(problem: str) -> ConfigError:
            return ConfigError(f"{origin}: {problem}", "compare with the bundled scoring.yaml")

        if not isinstance(data, dict):
            raise fail("not a mapping")
        tiers = data.get("tiers")
        if not isinstance(tiers, dict) or set(tiers) != {"high", "medium", "low"}:
            raise fail("tiers must name high, medium and low")
        if not all(isinstance(v, int | float) for v in tiers.values()):
            raise fail("tier thresholds must be numbers")
        if not tiers["high"] > tiers["medium"] > tiers["low"] > 0:
            raise fail("tier thresholds must satisfy high > medium > low > 0")
        factors = {}
        for key in ("dev_factor", "leak_prone_factor"):
            value = data.get(key)
            if not isinstance(value, int | float) or value <= 0:
                raise fail(f"{key} must be a positive number")
            factors[key] = float(value)
        raw_rules = data.get("rules")
        if not isinstance(raw_rules, dict):
            raise fail("rules must be a mapping")
        rules: dict[str, dict[str, float]] = {}
        severities: dict[str, str] = {}
        for rule_id, body in raw_rules.items():
            if not isinstance(body, dict):
                raise fail(f"rules.{rule_id} must be a mapping")
            severity = body.get("severity")
            try:
                ok = isinstance(severity, str) and 0.1 <= float(severity) <= 10.0
            except ValueError:
                ok = False
            if not ok:
                raise fail(f'rules.{rule_id}.severity must be a string "0.1".."10.0"')
            severities[rule_id] = str(severity)
            numbers = {k: v for k, v in body.items() if k != "severity"}
            if not all(isinstance(v, int | float) and v >= 0 for v in numbers.values()):
                raise fail(f"rules.{rule_id}: weights must be non-negative numbers")
            rules[rule_id] = {k: float(v) for k, v in numbers.items()}
        return cls(
            tiers={k: float(v) for k, v in tiers.items()},
            dev_factor=factors["dev_factor"],
            leak_prone_factor=factors["leak_prone_factor"],
            rules=rules,
            severities=severities,
        )

    @classmethod
    def bundled(cls) -> Weights:
        from importlib.resources import files

        import yaml

        text = files("depaudit.data").joinpath(WEIGHTS_RESOURCE).read_text(encoding="utf-8")
        return cls.from_mapping(yaml.safe_load(text))


@dataclass(frozen=True, slots=True)
class Knowledge:
    """What the bundled knowledge base says about kinds of packages.

    ``categories``: package name -> leak-prone category id; ``patterns``: (glob, category)
    pairs tried when the name is not listed; ``companions``: companion (adapter, plugin,
    store) -> the host packages it plugs into.
    """

    categories: Mapping[str, str] = field(default_factory=dict)
    companions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    patterns: tuple[tuple[str, str], ...] = ()

    def category_of(self, name: str) -> str | None:
        if name in self.categories:
            return self.categories[name]
        if not self.patterns:
            return None
        match = _globs(self.patterns).match(name)
        if match is None:
            return None
        first = next(i for i in range(len(self.patterns)) if match.group(f"kb{i}") is not None)
        return self.patterns[first][1]

    @classmethod
    def bundled(cls) -> Knowledge:
        """Categories and companions of ``data/leak-prone.yaml`` (no second copy of the data)."""
        from depaudit.services.knowledge_base import load_knowledge_base

        leak_prone = load_knowledge_base().leak_prone
        categories: dict[str, str] = {}
        patterns: list[tuple[str, str]] = []
        for category in leak_prone.categories:
            for name in sorted(category.packages):
                categories.setdefault(name, category.id)
            patterns.extend((glob, category.id) for glob in category.patterns)
        companions = {name: (host,) for name, host in leak_prone.companions.items()}
        return cls(categories=categories, companions=companions, patterns=tuple(patterns))


@dataclass(frozen=True, slots=True)
class Target:
    """One unique ``name@version`` of the tree with everything known about it."""

    name: str
    version: str
    facts: PackageFacts | None
    placements: tuple[Package, ...]
    category: str | None = None

    @property
    def dev(self) -> bool:
        return bool(self.placements) and all(p.dev for p in self.placements)

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True, slots=True)
class Context:
    tree: DependencyTree
    problems: Sequence[TreeProblem]
    facts: Mapping[str, PackageFacts]
    knowledge: Knowledge
    now: datetime
    #: ``problems`` by (name, version), built once: rules look up a package's own problems
    #: instead of scanning every problem for every package
    _by_package: Mapping[tuple[str, str | None], tuple[TreeProblem, ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        index: dict[tuple[str, str | None], list[TreeProblem]] = {}
        for problem in self.problems:
            index.setdefault((problem.name, problem.version), []).append(problem)
        object.__setattr__(self, "_by_package", {k: tuple(v) for k, v in index.items()})

    def problems_of(self, name: str, version: str | None) -> tuple[TreeProblem, ...]:
        """The problems reported for ``name@version``, in the order of :attr:`problems`."""
        return self._by_package.get((name, version), ())


@lru_cache(maxsize=8)
def _globs(patterns: tuple[tuple[str, str], ...]) -> re.Pattern[str]:
    """One regular expression for every glob; the group that matches names the first glob
    that does (what trying them one by one with ``fnmatchcase`` finds)."""
    parts = (f"(?P<kb{i}>{fnmatch.translate(glob)})" for i, (glob, _) in enumerate(patterns))
    return re.compile("|".join(parts))


def covers(version: str, affected: str) -> bool | None:
    """Does ``affected`` cover ``version``? ``None`` when the range is unknown or unreadable."""
    try:
        return npm_satisfies(version, affected)
    except (RangeError, ValueError, TypeError):
        return None


def _years(days: float) -> str:
    return f"{days / DAYS_PER_YEAR:.1f} years"


def _day(when: datetime | None) -> str:
    return when.date().isoformat() if when else "unknown"


def _num(value: float) -> float:
    return round(value, 1)


class Rule(ABC):
    """A signal kind. ``id`` is the SARIF rule id and the key of its weights."""

    id: ClassVar[str]
    title: ClassVar[str]  # short description (SARIF shortDescription, explain)
    description: ClassVar[str]  # what it means and what to do

    def __init__(self, weights: Weights) -> None:
        if self.id not in weights.rules:
            raise ConfigError(
                f"{WEIGHTS_RESOURCE}: no weights for rule {self.id}", "add rules." + self.id
            )
        self.weights = weights
        self.w = weights.rule(self.id)

    @abstractmethod
    def evaluate(self, target: Target, ctx: Context) -> list[Signal]:
        """The signals of ``target``; empty when the rule does not apply or facts are unknown."""


def _leak_prone_note(target: Target, weights: Weights) -> tuple[float, str]:
    if target.category:
        factor = weights.leak_prone_factor
        return factor, f" (x{factor:g}: leak-prone {target.category})"
    return 1.0, ""


class _AdvisoryRule(Rule):
    leak_class: ClassVar[LeakClass]

    def _advisories(self, target: Target) -> list[Advisory]:
        if target.facts is None:
            return []
        found = []
        for adv in target.facts.advisories:
            if adv.leak_class is not self.leak_class:
                continue
            if covers(target.version, adv.affected) is False:
                continue
            found.append(adv)
        return sorted(found, key=lambda a: a.id)

    def _bundled(self, target: Target, seen: set[str], unsure: set[str]) -> list[Advisory]:
        """Advisory entries of the knowledge base that no advisory service reported; the ids
        of low-confidence ones (or with an unknown range) are added to ``unsure``."""
        if target.facts is None:
            return []
        found = []
        for entry in target.facts.known_leaks:
            if entry.kind is not KnownLeakKind.ADVISORY or entry.leak_class is not self.leak_class:
                continue
            if {entry.id, entry.ghsa} & seen or covers(target.version, entry.affected) is False:
                continue
            found.append(
                Advisory(
                    id=entry.ghsa or entry.id,
                    source="bundled",
                    package=entry.package,
                    affected=entry.affected,
                    title=entry.summary,
                    leak_class=self.leak_class,
                    aliases=(entry.id,) if entry.ghsa else (),
                    patched=entry.fixed,
                    severity=entry.severity,
                    url=entry.references[0] if entry.references else None,
                )
            )
            if entry.confidence != "high" or covers(target.version, entry.affected) is None:
                unsure.add(entry.ghsa or entry.id)
        return found

    def evaluate(self, target: Target, ctx: Context) -> list[Signal]:
        unsure: set[str] = set()
        advisories = self._advisories(target)
        seen = {i for a in advisories for i in (a.id, *a.aliases)}
        advisories += self._bundled(target, seen, unsure)
        advisories.sort(key=lambda a: (a.id in unsure, a.id))
        signals = []
        for index, adv in enumerate(advisories):
            points = self.w["points"] if index == 0 else self.w["each_further"]
            hedge = ""
            if adv.id in unsure:
                points = min(points, self.w.get("low_confidence", points))
                hedge = " (low confidence)"
            severity = f", {adv.severity}" if adv.severity else ""
            fixed = f"; fixed in {adv.patched}{hedge}" if adv.patched else hedge
            signals.append(
                Signal(
                    rule=self.id,
                    points=points,
                    evidence=f"{adv.id} ({adv.source}{severity}): {adv.title}; "
                    f"affects {adv.affected}{fixed}",
                    url=adv.url,
                    ids=(adv.id, *adv.aliases),
                )
            )
        return signals


class LeakAdvisory(_AdvisoryRule):
    id = "leak-advisory"
    title = "Leak advisory for the installed version"
    description = (
        "A security advisory about memory or resources that are never released "
        "(CWE-401, 772, 775, 404, 459) covers the installed version. Upgrade to a fixed version."
    )
    leak_class = LeakClass.LEAK


class ExhaustionAdvisory(_AdvisoryRule):
    id = "exhaustion-advisory"
    title = "Resource-exhaustion advisory for the installed version"
    description = (
        "A security advisory about unbounded allocation (CWE-400, 770, 789) covers the "
        "installed version: one request can make the process hold memory it never gives back."
    )
    leak_class = LeakClass.EXHAUSTION


class KnownLeakBug(Rule):
    id = "known-leak"
    title = "Known leak bug covering the installed version"
    description = (
        "The bundled knowledge base records a memory or resource leak bug (an issue or "
        "changelog entry, not an advisory) in the installed version."
    )

    def evaluate(self, target: Target, ctx: Context) -> list[Signal]:
        if target.facts is None:
            return []
        found = []
        for entry in target.facts.known_leaks:
            if entry.kind is not KnownLeakKind.BUG:
                continue
            inside = covers(target.version, entry.affected)
            if inside is False:
                continue
            # 0: a bug in known versions; 1: unsure (low confidence or unknown range);
            # 2: a property of every release, no fix: it depends on configuration
            design = entry.affected.strip() == "*" and not entry.fixed
            unsure = not (inside is True and entry.confidence == "high")
            found.append((2 if design else int(unsure), entry.id, entry))
        direct = any(p.direct for p in target.placements) or not target.placements
        factor = 1.0 if direct else self.w["transitive_factor"]
        note = "" if direct else f" (x{factor:g}: transitive, the app does not call it directly)"
        weight = {0: self.w["points"], 1: self.w["low_confidence"], 2: self.w["every_release"]}
        hedges = {0: "", 1: " (low confidence)", 2: " (every release, depends on configuration)"}
        signals = []
        for index, (kind, _, entry) in enumerate(sorted(found)):
            points = weight[kind]
            if index:
                points = min(points, self.w["each_further"])
            fixed = f"; fixed in {entry.fixed}" if entry.fixed else ""
            hedge = hedges[kind]
            signals.append(
                Signal(
                    rule=self.id,
                    points=_num(points * factor),
                    evidence=f"{entry.id}: {entry.summary}; affects {entry.affected}"
                    f"{fixed}{hedge}{note}",
                    url=entry.references[0] if entry.references else None,
                    ids=tuple(i for i in (entry.id, entry.ghsa) if i),
                )
            )
        return signals


def _successor(target: Target) -> KnownLeak | None:
    if target.facts is None:
        return None
    for entry in sorted(target.facts.known_leaks, key=lambda e: e.id):
        if (
            entry.kind is KnownLeakKind.DEPRECATION
            and covers(target.version, entry.affected) is not False
        ):
            return entry
    return None


class Deprecated(Rule):
    id = "deprecated"
    title = "Deprecated or renamed"
    description = (
        "The installed version is deprecated, or the package was renamed: it gets no fixes. "
        "Move to the successor."
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
        if message is not None:
            parts.append(f"deprecated: {message}" if message else "deprecated")
        if entry is not None:
            if message is None:
                parts.append(f"{entry.id}: {entry.summary}")
            if entry.successor:
                parts.append(f"successor: {entry.successor}")
        url = entry.references[0] if entry and entry.references else None
        if url is None and target.facts is not None:
            url = target.facts.repository
        return [
            Signal(
                rule=self.id,
                points=_num(self.w["points"] * factor),
                evidence="; ".join(parts) + note,
                url=url,
                ids=(entry.id,) if entry else (),
            )
        ]


def _days_since_release(facts: PackageFacts, now: datetime) -> float | None:
    if facts.last_release is not None:
        return (now - facts.last_release).total_seconds() / 86400
    return facts.days_since_release


class Stale(Rule):
    id = "stale"
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


class LeakProne(Rule):
    id = "leak-prone"
    title = "Leak-prone kind of package"
    description = (
        "The package keeps long-lived state (connection pools, pub/sub adapters, event "
        "emitters, caches, websocket servers, HTTP agents, logger transports); staleness and "
        "deprecation weigh more for it."
    )

    def evaluate(self, target: Target, ctx: Context) -> list[Signal]:
        if not target.category:
            return []
        return [
            Signal(
                rule=self.id,
                points=self.w["points"],
                evidence=f"leak-prone category: {target.category}",
                url=None,
            )
        ]


class CompanionDrift(Rule):
    id = "companion-drift"
    title = "Adapter or plugin far behind its host"
    description = (
        "An adapter, plugin or store was left behind while its host package moved on "
        "(socket.io-redis years behind socket.io, a session store behind express-session): "
        "the pair is an untested combination."
    )

    def evaluate(self, target: Target, ctx: Context) -> list[Signal]:
        hosts = ctx.knowledge.companions.get(target.name, ())
        facts = target.facts
        if not hosts or facts is None:
            return []
        mine = facts.last_release
        renamed = _successor(target)
        signals = []
        for host in hosts:
            versions = sorted({p.version for p in ctx.tree.placements(host)})
            if not versions:
                continue
            host_facts = [ctx.facts.get(f"{host}@{v}") for v in versions]
            theirs = max((f.last_release for f in host_facts if f and f.last_release), default=None)
            installed = ", ".join(versions)
            gap = (theirs - mine).total_seconds() / 86400 if mine and theirs else None
            if gap is not None and gap / DAYS_PER_YEAR >= self.w["min_years"]:
                evidence = (
                    f"{host} ({installed} in this tree) released {_day(theirs)}, "
                    f"{_years(gap)} after {target.name}'s last release {_day(mine)}"
                )
            elif renamed is not None and renamed.successor:
                # the knowledge base says the companion was replaced: the host moved on
                # with a successor this tree does not use, whatever the dates say
                evidence = (
                    f"plugs into {host} ({installed} in this tree) but was replaced by "
                    f"{renamed.successor}; {host} is maintained with the successor only"
                )
            else:
                continue
            signals.append(
                Signal(rule=self.id, points=self.w["points"], evidence=evidence, url=None)
            )
            break
        return signals


class DuplicateStateful(Rule):
    id = "duplicate-stateful"
    title = "Several versions of a stateful package"
    description = (
        "A leak-prone package is installed at several versions: each keeps its own pools, "
        "caches or listeners."
    )

    def evaluate(self, target: Target, ctx: Context) -> list[Signal]:
        if not target.category:
            return []
        versions = sorted({p.version for p in ctx.tree.placements(target.name)})
        if len(versions) < 2:
            return []
        return [
            Signal(
                rule=self.id,
                points=self.w["points"],
                evidence=f"{len(versions)} versions of {target.name} in the tree: "
                + ", ".join(versions),
            )
        ]


class TreeProblemRule(Rule):
    id = "tree-problem"
    title = "Invalid or extraneous package"
    description = (
        "An invalid or extraneous package runs code nobody declared: it is not the version "
        "the tree asked for, or nothing asked for it at all."
    )
    kinds: ClassVar[frozenset[ProblemKind]] = frozenset(
        {ProblemKind.INVALID, ProblemKind.EXTRANEOUS}
    )

    def evaluate(self, target: Target, ctx: Context) -> list[Signal]:
        found = [p for p in ctx.problems_of(target.name, target.version) if p.kind in self.kinds]
        if not found and any(p.extraneous for p in target.placements):
            found = [
                TreeProblem(ProblemKind.EXTRANEOUS, target.name, target.version, p.path)
                for p in target.placements
                if p.extraneous
            ]
        if not found:
            return []
        first = min(found, key=TreeProblem.sort_key)
        wanted = f" (wanted {first.wanted})" if first.wanted else ""
        more = f" and {len(found) - 1} more" if len(found) > 1 else ""
        where = first.path_text or "the root"
        return [
            Signal(
                rule=self.id,
                points=self.w["points"],
                evidence=f"{first.kind.value} at {where}{wanted}{more}",
            )
        ]


class NotInRegistry(Rule):
    id = "not-in-registry"
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


RULES: tuple[type[Rule], ...] = (
    LeakAdvisory,
    KnownLeakBug,
    Deprecated,
    ExhaustionAdvisory,
    Stale,
    FarBehind,
    LeakProne,
    CompanionDrift,
    DuplicateStateful,
    TreeProblemRule,
    NotInRegistry,
    Archived,
    LeakIssues,
)


def build_rules(weights: Weights) -> list[Rule]:
    return [rule(weights) for rule in RULES]
