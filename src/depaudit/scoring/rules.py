"""One small rule per signal. Each rule looks at one ``name@version`` of the tree and returns
zero or more :class:`Signal` s, each with its points, one line of evidence and a reference.

Rules never turn an unknown fact into reassurance: a fact that is ``None`` produces no signal
(and no "fine" evidence either). Weights come from ``data/scoring.yaml`` (:mod:`.weights`).
"""

from __future__ import annotations

from typing import ClassVar

from depaudit.models import (
    Advisory,
    KnownLeakKind,
    LeakClass,
    ProblemKind,
    Runtime,
    Signal,
    TreeProblem,
)
from depaudit.scoring.context import (
    Context,
    Knowledge,
    Rule,
    Target,
    _day,
    _num,
    _successor,
    _years,
    covers,
)
from depaudit.scoring.rules_upkeep import (
    Archived,
    Deprecated,
    FarBehind,
    LeakIssues,
    NotInRegistry,
    Stale,
)
from depaudit.scoring.weights import DAYS_PER_YEAR, WEIGHTS_RESOURCE, Weights
from depaudit.versions import order_key

__all__ = [
    "RULES",
    "WEIGHTS_RESOURCE",
    "Context",
    "Knowledge",
    "Rule",
    "Target",
    "Weights",
    "build_rules",
    "covers",
]


class _AdvisoryRule(Rule):
    leak_class: ClassVar[LeakClass]
    needs_facts = True

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
        facts = target.facts
        if facts is None or not (facts.advisories or facts.known_leaks):
            return []  # (most packages: nothing to sort or index)
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
                    leak=self.leak_class is LeakClass.LEAK,
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
    needs_facts = True
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
        if not found:
            return []
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
                    # a bug of the installed version; a property of every release that
                    # depends on configuration is not evidence about this version
                    leak=kind != 2,
                )
            )
        return signals


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
    needs_facts = True
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
        "A leak-prone package runs at several versions: each keeps its own pools, caches or "
        "listeners. Counted once per tree (on its newest running version), and only for the "
        "copies the process may load."
    )

    def evaluate(self, target: Target, ctx: Context) -> list[Signal]:
        if not target.category:
            return []
        runtime = ctx.tree.runtime
        versions: set[str] = set()
        for placement in ctx.tree.placements(target.name):
            status = runtime.get(placement.location)
            if status is None or status.status is not Runtime.NOT_LOADED:
                versions.add(placement.version)
        if len(versions) < 2 or target.version not in versions:
            return []
        ordered = sorted(versions, key=order_key)
        if target.version != ordered[-1]:
            return []  # once per tree: the newest running copy carries it
        where = "running" if runtime else "in the tree"
        return [
            Signal(
                rule=self.id,
                points=self.w["points"],
                evidence=f"{len(ordered)} versions of {target.name} {where}: " + ", ".join(ordered),
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


class RuntimeGrowth(Rule):
    id = "runtime-growth"
    needs_facts = True
    title = "Measured heap growth"
    description = (
        "Heap snapshots of the running app (scan --heap) show memory that grew and is held by "
        "this package's code, on the retainer path from the GC roots; or a sampling heap "
        "profile (--heap-profile) shows its live allocations. Measured, not forecast: look at "
        "the retainer path, and at the known leak bugs of the installed version."
    )

    def evaluate(self, target: Target, ctx: Context) -> list[Signal]:
        facts = target.facts
        growth = facts.growth if facts is not None else None
        if growth is None or growth.growth_bytes <= 0:
            return []
        mib = growth.growth_bytes / (1024 * 1024)
        points = self.w["points"] + min(self.w["per_mib_cap"], self.w["per_mib"] * mib)
        profile = growth.source == "heap profile"
        if profile:
            points *= self.w["profile_factor"]
        size = f"{mib:.2f} MiB" if mib >= 0.1 else f"{growth.growth_bytes / 1024:.1f} KiB"
        if profile:
            evidence = (
                f"holds {size} of live sampled allocations in a heap profile "
                f"(x{self.w['profile_factor']:g}): {growth.retainer_path}"
            )
        else:
            evidence = (
                f"grew {size} ({growth.growth_objects:,} objects, mostly {growth.constructor}) "
                f"between {growth.source}; retainer path: {growth.retainer_path}"
            )
        return [Signal(rule=self.id, points=_num(points), evidence=evidence)]


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
    RuntimeGrowth,
)


def build_rules(weights: Weights) -> list[Rule]:
    return [rule(weights) for rule in RULES]
