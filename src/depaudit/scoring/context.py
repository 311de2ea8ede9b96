"""What a rule sees (:class:`Knowledge`, :class:`Target`, :class:`Context`), the :class:`Rule`
interface every rule implements, and the small helpers the rules share."""

from __future__ import annotations

import fnmatch
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import field
from datetime import datetime
from functools import lru_cache
from typing import ClassVar

from depaudit.errors import ConfigError
from depaudit.models import (
    DependencyTree,
    KnownLeak,
    KnownLeakKind,
    Package,
    PackageFacts,
    PlacementRuntime,
    Signal,
    TreeProblem,
)
from depaudit.ranges import RangeError, npm_satisfies
from depaudit.scoring.weights import DAYS_PER_YEAR, WEIGHTS_RESOURCE, Weights
from depaudit.slots import dataclass, slot_init


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


@slot_init
@dataclass(frozen=True, slots=True)
class Target:
    """One unique ``name@version`` of the tree with everything known about it."""

    name: str
    version: str
    facts: PackageFacts | None
    placements: tuple[Package, ...]
    category: str | None = None
    #: the best runtime status of its placements (None: reachability not analysed)
    runtime: PlacementRuntime | None = None

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
    #: the rule finds nothing in a package without facts (``Target.facts`` None: no
    #: registry, advisory or knowledge-base fact), so the scorer does not ask it then (40,000
    #: packages of an offline scan: 10 of 14 calls each); a property test holds every rule
    #: that says so to it
    needs_facts: ClassVar[bool] = False

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
