"""Score, tier and order: the sum of a package's signals, its tier from the thresholds of
``data/scoring.yaml``, and the order ``(-score, name, version)``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import cached_property

from depaudit.models import (
    DependencyTree,
    PackageFacts,
    PlacementRuntime,
    Runtime,
    Signal,
    Suspect,
    Tier,
    TreeProblem,
)
from depaudit.scoring.rules import Context, Knowledge, Rule, Target, Weights, build_rules

TIER_ORDER: tuple[Tier, ...] = (Tier.HIGH, Tier.MEDIUM, Tier.LOW)

#: signals that are evidence of a leak in the installed version without setting ``leak``
#: themselves (the heap measurement's rule)
LEAK_RULES = frozenset({"runtime-growth"})


def leak_evidence(signals: Iterable[Signal]) -> bool:
    return any(s.leak or s.rule in LEAK_RULES for s in signals)


def high_withheld(signals: Sequence[Signal], runtime: PlacementRuntime | None) -> str | None:
    """Why a score at the high threshold stays medium: high means "act now", so it needs
    leak evidence for the installed version on a package the process loads (or whose runtime
    status is unknown: unknown is never reassurance). ``None`` when high stands."""
    if not leak_evidence(signals):
        return "no leak evidence for the installed version (only maintenance signals)"
    if runtime is not None and runtime.status in (Runtime.LAZY, Runtime.NOT_LOADED):
        return f"{runtime.status.value}: {runtime.reason}"
    return None


def types_only(target: Target) -> bool:
    """A package with no runtime code: ``@types/*``, or every placement "types only"."""
    if target.name.startswith("@types/"):
        return True
    runtime = target.runtime
    return runtime is not None and runtime.reason.startswith("types only")


def _utc_now() -> datetime:
    return datetime.now(UTC)


#: each tier and its key in the weights' thresholds (an enum member's ``.value`` is a
#: property call: three a package, ~6,000 a scan of theia)
_TIER_KEYS: tuple[tuple[Tier, str], ...] = tuple((tier, tier.value) for tier in TIER_ORDER)


def tier_for(score: float, weights: Weights) -> Tier | None:
    """The tier of ``score``; ``None`` below the ``low`` threshold (not a suspect)."""
    tiers = weights.tiers
    for tier, key in _TIER_KEYS:
        if score >= tiers[key]:
            return tier
    return None


def total(signals: Iterable[Signal]) -> float:
    return round(sum([s.points for s in signals]), 1)


def sort_key(suspect: Suspect) -> tuple[float, str, str]:
    return (-suspect.score, suspect.name, suspect.version)


def rank(suspects: Iterable[Suspect]) -> list[Suspect]:
    return sorted(suspects, key=sort_key)


def at_or_above(tier: Tier, threshold: Tier) -> bool:
    return TIER_ORDER.index(tier) <= TIER_ORDER.index(threshold)


def rescore(suspect: Suspect, signals: Sequence[Signal], weights: Weights) -> Suspect | None:
    """``suspect`` with only ``signals``; ``None`` when it falls below the low threshold."""
    score = total(signals)
    tier = tier_for(score, weights)
    if tier is None:
        return None
    if tier is Tier.HIGH and high_withheld(signals, suspect.runtime) is not None:
        tier = Tier.MEDIUM
    return replace(suspect, signals=tuple(signals), score=score, tier=tier)


class LeakScorer:
    """The :data:`depaudit.audit.Scorer`: every rule over every unique ``name@version``."""

    def __init__(
        self,
        weights: Weights | None = None,
        knowledge: Knowledge | None = None,
        clock: Callable[[], datetime] = _utc_now,
        rules: Sequence[Rule] | None = None,
    ) -> None:
        self._weights, self._knowledge, self._rules = weights, knowledge, rules
        self.clock = clock
        if weights is not None:  # given weights are checked at once (a rule without any)
            _ = self.rules

    # the bundled data is loaded on first use: a cold scan builds its fast forms, ~0.1 s that
    # the Auditor spends beside the registry's fetch (ready()), not before it
    @cached_property
    def weights(self) -> Weights:
        return self._weights or Weights.bundled()

    @cached_property
    def knowledge(self) -> Knowledge:
        return self._knowledge if self._knowledge is not None else Knowledge.bundled()

    @cached_property
    def rules(self) -> list[Rule]:
        return list(self._rules) if self._rules is not None else build_rules(self.weights)

    @cached_property
    def _rules_without_facts(self) -> list[Rule]:
        """The rules that may find something in a package without facts."""
        return [rule for rule in self.rules if not rule.needs_facts]

    def ready(self) -> None:
        """Load what scoring needs now (weights, knowledge, rules)."""
        _ = self.rules, self.knowledge

    def context(
        self,
        tree: DependencyTree,
        problems: Sequence[TreeProblem],
        facts: Mapping[str, PackageFacts],
    ) -> Context:
        return Context(tree, problems, facts, self.knowledge, self.clock())

    def target(self, ctx: Context, name: str, version: str) -> Target:
        tree = ctx.tree
        placements = tree.placements(name, version)
        return Target(
            name=name,
            version=version,
            facts=ctx.facts.get(f"{name}@{version}"),
            placements=placements,
            category=self.knowledge.category_of(name),
            # (no statuses at all: reachability not analysed, nothing to look up)
            runtime=tree.runtime_of(name, version) if tree.runtime else None,
        )

    def signals(self, target: Target, ctx: Context) -> tuple[Signal, ...]:
        """Every signal of ``target``; dev-only ones scaled down by ``dev_factor``, those no
        placement of which is loaded by ``not_loaded_factor`` (the reason in the evidence)."""
        rules = self.rules if target.facts is not None else self._rules_without_facts
        found = [signal for rule in rules for signal in rule.evaluate(target, ctx)]
        factor, why = 1.0, ""
        runtime = target.runtime
        if runtime is not None and runtime.status is Runtime.NOT_LOADED:
            factor, why = self.weights.not_loaded_factor, f"not loaded: {runtime.reason}"
        elif target.dev:
            factor, why = self.weights.dev_factor, "dev-only"
        if factor != 1.0:  # (Signal itself, not dataclasses.replace: ~5x its cost)
            note = f" (x{factor:g}: {why})"
            found = [
                Signal(
                    rule=s.rule,
                    points=round(s.points * factor, 1),
                    evidence=s.evidence + note,
                    url=s.url,
                    ids=s.ids,
                    leak=s.leak,
                )
                for s in found
            ]
        return tuple([s for s in found if s.points > 0]) if found else ()

    def tier(self, score: float, signals: Sequence[Signal], target: Target) -> Tier | None:
        """The tier of ``score``, with high kept for leak evidence on a loaded package."""
        tier = tier_for(score, self.weights)
        if tier is Tier.HIGH and high_withheld(signals, target.runtime) is not None:
            return Tier.MEDIUM
        return tier

    def suspect(self, target: Target, ctx: Context) -> tuple[Suspect, bool]:
        """The scored package, and whether it reaches the ``low`` threshold (a package with
        no runtime code, ``@types/*`` or types only, never does)."""
        signals, score, tier = self._scored(target, ctx)
        return self._suspect(target, ctx, signals, score, tier), tier is not None

    def _scored(
        self, target: Target, ctx: Context
    ) -> tuple[tuple[Signal, ...], float, Tier | None]:
        signals = self.signals(target, ctx)
        score = total(signals)
        tier = None if types_only(target) else self.tier(score, signals, target)
        return signals, score, tier

    def _suspect(
        self,
        target: Target,
        ctx: Context,
        signals: tuple[Signal, ...],
        score: float,
        tier: Tier | None,
    ) -> Suspect:
        placements = target.placements
        return Suspect(
            name=target.name,
            version=target.version,
            score=score,
            tier=tier or Tier.LOW,
            signals=tuple(sorted(signals, key=lambda s: (-s.points, s.rule, s.evidence))),
            paths=tuple(ctx.tree.paths(target.name, target.version)),
            dev=target.dev,
            direct=any(p.direct and not p.extraneous for p in placements),
            extraneous=bool(placements) and all(p.extraneous for p in placements),
            runtime=target.runtime,
        )

    def __call__(
        self,
        tree: DependencyTree,
        problems: Sequence[TreeProblem],
        facts: Mapping[str, PackageFacts],
    ) -> list[Suspect]:
        ctx = self.context(tree, problems, facts)
        suspects = []
        for name, version in tree.unique():
            target = self.target(ctx, name, version)
            signals, score, tier = self._scored(target, ctx)
            if tier is not None:  # the paths and the Suspect only for those reported
                suspects.append(self._suspect(target, ctx, signals, score, tier))
        return rank(suspects)

    def explain(
        self,
        tree: DependencyTree,
        problems: Sequence[TreeProblem],
        facts: Mapping[str, PackageFacts],
        name: str,
        version: str | None = None,
    ) -> list[tuple[Suspect, bool]]:
        """Every installed version of ``name`` (or just ``version``), scored, reported or not."""
        ctx = self.context(tree, problems, facts)
        versions = sorted({p.version for p in tree.placements(name, version)})
        return [self.suspect(self.target(ctx, name, v), ctx) for v in versions]


#: facts whose absence `explain` spells out: unknown is never taken as fine
UNKNOWN_FACTS: tuple[tuple[str, str], ...] = (
    ("in_registry", "whether the registry knows it"),
    ("latest", "latest version"),
    ("last_release", "date of the last release"),
    ("majors_behind", "majors behind"),
    ("libyears", "libyears"),
)


def render_explanation(
    results: Sequence[tuple[Suspect, bool]],
    facts: Mapping[str, PackageFacts],
    weights: Weights,
    ignored: Sequence[str] = (),
) -> str:
    """Plain text for ``depaudit explain``: every signal, its points and its evidence."""
    from depaudit.text import terminal_safe as safe

    tiers = ", ".join(f"{t.value} >= {weights.tiers[t.value]:g}" for t in TIER_ORDER)
    out: list[str] = []
    for suspect, reported in results:
        status = suspect.tier.value if reported else "not a suspect (below low)"
        kind = (
            "extraneous: installed, but no package.json asks for it"
            if suspect.extraneous
            else "dev-only"
            if suspect.dev
            else ("direct" if suspect.direct else "transitive")
        )
        out.append(f"{safe(suspect.key)}: score {suspect.score:g}, {status}; {kind}")
        out.extend(f"  via {safe(' > '.join(path))}" for path in suspect.paths[:5])
        if len(suspect.paths) > 5:
            out.append(f"  ... and {len(suspect.paths) - 5} more paths")
        runtime = suspect.runtime
        if runtime is None:
            out.append("  runtime: not analysed (no package.json beside the lockfile): unknown")
        else:
            out.append(f"  runtime: {runtime.status.value} ({safe(runtime.reason)})")
            if runtime.chain:
                out.append(f"  loaded by: {safe(' → '.join(runtime.chain))}")
        if suspect.score >= weights.tiers["high"] and suspect.tier is not Tier.HIGH and reported:
            why = high_withheld(suspect.signals, runtime)
            if why:
                out.append(f"  not high: {safe(why)}")
        for signal in suspect.signals:
            out.append(f"  +{signal.points:<5g} {signal.rule}: {safe(signal.evidence)}")
            if signal.url:
                out.append(f"         {safe(signal.url)}")
        if not suspect.signals:
            out.append("  no signals")
        out.append(f"  = {suspect.score:g}  (tiers: {tiers})")
        known = facts.get(suspect.key)
        missing = [
            label for attr, label in UNKNOWN_FACTS if known is None or getattr(known, attr) is None
        ]
        if known is None or not known.deprecation_known:
            missing.append("deprecation")
        if missing:
            out.append("  unknown (not scored, not taken as fine): " + ", ".join(missing))
        out.extend(f"  {safe(note)}" for note in ignored if suspect.key in note)
        out.append("")
    return "\n".join(out)
