"""The frozen model shared by every stage of the pipeline.

sources/ produce a :class:`DependencyTree`; tree/ finds :class:`TreeProblem` s in it;
services/ learn :class:`PackageFacts`; scoring/ turns facts into :class:`Suspect` s;
formats/ render a :class:`Report`. No stage passes plain dicts to the next.

Why this module is longer than ~400 lines: it is the one model every stage shares (frozen,
slotted dataclasses and their enums); one module keeps each type defined once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import field, fields, replace
from datetime import datetime
from enum import StrEnum
from operator import attrgetter
from types import MappingProxyType
from typing import Any

from depaudit.overrides import Override
from depaudit.slots import dataclass, slot_init


class DepType(StrEnum):
    """How a parent declares a dependency."""

    PROD = "prod"
    DEV = "dev"
    OPTIONAL = "optional"
    PEER = "peer"
    PEER_OPTIONAL = "peerOptional"


@slot_init
@dataclass(frozen=True, slots=True)
class Dependency:
    """An edge: ``spec`` of ``name`` as declared by a parent (package or importer).

    ``target`` is the :attr:`Package.location` the edge resolves to, or ``None`` when
    nothing in the tree satisfies it (missing) or the source cannot tell.
    ``spec`` is the range as written (``^1.2.0``, ``npm:real@^2``, ``file:../x`` ...).
    """

    name: str
    spec: str
    type: DepType = DepType.PROD
    target: str | None = None
    #: why the source could not resolve the edge although something may provide it (then a
    #: missing ``target`` is not evidence of a missing package; the source warns instead)
    unresolved: str | None = None


@slot_init
@dataclass(frozen=True, slots=True)
class Package:
    """One *placement* of ``name@version`` in the tree.

    ``location`` is unique within a tree: the lockfile key (``node_modules/a/node_modules/b``)
    for npm, or a synthetic key for other sources. ``path`` is the chain of names from the root
    (root excluded) to this placement, shortest first found, each as installed (an ``npm:``
    alias appears under its alias, as in node_modules and ``npm ls``).
    ``name`` is the real package name; ``alias`` the name it is installed under when an
    ``npm:`` alias is used. ``workspace`` is the name of the workspace whose path reaches the
    placement first (``None`` when the root's does).
    """

    name: str
    version: str
    location: str
    path: tuple[str, ...] = ()
    direct: bool = False
    dev: bool = False
    optional: bool = False
    peer: bool = False
    bundled: bool = False
    extraneous: bool = False
    wanted: str | None = None
    resolved: str | None = None
    integrity: str | None = None
    workspace: str | None = None
    alias: str | None = None
    deprecated: str | None = None  # deprecation message recorded by the source (lockfile)
    dependencies: tuple[Dependency, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def installed_as(self) -> str:
        return self.alias or self.name


@dataclass(frozen=True, slots=True)
class Importer:
    """The root project or a workspace.

    ``dependencies`` are the edges as the lockfile records them; ``declared`` the edges of
    the package.json on disk (``None`` when there is no package.json to compare with).
    """

    name: str
    version: str | None
    location: str  # "" for the root, "packages/a" for a workspace
    dependencies: tuple[Dependency, ...] = ()
    declared: tuple[Dependency, ...] | None = None
    manifest_path: str | None = None

    @property
    def is_root(self) -> bool:
        return self.location == ""


@dataclass(frozen=True, slots=True)
class SkippedPackage:
    """Something a parser saw and could not place (git, file:, link:, odd entries)."""

    name: str
    spec: str
    reason: str
    path: tuple[str, ...] = ()
    # where the source saw it (lockfile key), so that an edge whose target is this
    # location is known to resolve to something skipped rather than to nothing
    location: str | None = None


class ProblemKind(StrEnum):
    MISSING = "missing"
    EXTRANEOUS = "extraneous"
    INVALID = "invalid"
    DEDUPED = "deduped"
    PEER_MISSING = "peer-missing"
    PEER_INVALID = "peer-invalid"
    DUPLICATE_VERSIONS = "duplicate-versions"
    DECLARED_NOT_LOCKED = "declared-not-locked"
    LOCKED_NOT_DECLARED = "locked-not-declared"
    LOCKED_OUT_OF_RANGE = "locked-out-of-range"


@slot_init
@dataclass(frozen=True, slots=True)
class TreeProblem:
    """A problem in the tree, with the path from the root and the evidence."""

    kind: ProblemKind
    name: str
    version: str | None
    path: tuple[str, ...]
    wanted: str | None = None
    found: str | None = None
    detail: str = ""

    @property
    def path_text(self) -> str:
        return " > ".join(self.path)

    def sort_key(self) -> tuple[str, str, str, str]:
        return (self.kind.value, self.name, self.version or "", self.path_text)


@dataclass(frozen=True, slots=True)
class SourceInfo:
    kind: str  # "npm-ls", "package-lock", "npm-shrinkwrap", "yarn-classic", ...
    path: str  # as given by the user ("-" for stdin)
    lockfile_version: int | str | None = None


class Runtime(StrEnum):
    """Whether the production process loads a placement (:mod:`depaudit.reach`)."""

    LOADED = "loaded"  # a chain of module-scope requires from an entry point
    LAZY = "lazy"  # every chain passes a require inside a function, a guard or a try
    NOT_LOADED = "not-loaded"  # with the reason (dev only, types only, only through X)
    UNKNOWN = "unknown"  # no entry point, a computed require on the way, not analysed

    @property
    def runs(self) -> bool:
        return self in (Runtime.LOADED, Runtime.LAZY)


#: best first: a package's label is the best of its placements'
RUNTIME_ORDER: tuple[Runtime, ...] = (
    Runtime.LOADED,
    Runtime.LAZY,
    Runtime.UNKNOWN,
    Runtime.NOT_LOADED,
)
_RUNTIME_RANK = {status: rank for rank, status in enumerate(RUNTIME_ORDER)}


@slot_init
@dataclass(frozen=True, slots=True)
class PlacementRuntime:
    """The runtime status of one placement, why, and the import chain that loads it
    (entry file first, then the first file of each package on the way)."""

    status: Runtime
    reason: str = ""
    chain: tuple[str, ...] = ()


#: each status's label (its ``.value``, a property call per use: ~4,700 a JSON report of theia)
_RUNTIME_LABELS: dict[Runtime, str] = {status: status.value for status in Runtime}


def runtime_label(runtime: PlacementRuntime | None) -> str:
    """``loaded``, ``lazy``, ``not-loaded``, ``unknown``; ``-`` when not analysed."""
    return _RUNTIME_LABELS[runtime.status] if runtime is not None else "-"


def best_runtime(statuses: Iterable[PlacementRuntime]) -> PlacementRuntime | None:
    """The placement status that speaks for a package: loaded > lazy > unknown > not-loaded."""
    best: PlacementRuntime | None = None
    rank = len(RUNTIME_ORDER)
    for status in statuses:
        mine = _RUNTIME_RANK[status.status]
        if mine < rank:
            best, rank = status, mine
    return best


@dataclass(frozen=True, slots=True)
class DriftReported:
    """package.json <-> lockfile drift that a source compared itself and put among a tree's
    ``reported_problems``: the tree stage does not compare these importers again.

    The combined read (``sources/loader.py``: npm ls for the installed tree, the lockfile
    for drift) sets it; a source that leaves the comparison to the tree stage does not."""

    #: who compared (the lockfile's path)
    by: str
    #: the locations of the importers whose drift is among the reported problems
    importers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SourceLine:
    """A line of the input file: its 1-based number and its length in characters."""

    number: int
    width: int


@dataclass(frozen=True, slots=True)
class SourceLines:
    """Where each placement's entry is in the input file, found by the input stage
    (:mod:`depaudit.sources.lines`, one pass over the text) when a format needs it (SARIF);
    a placement whose entry was not found points at line 1 (``first``)."""

    first: SourceLine
    placements: Mapping[str, SourceLine]  # by placement location

    def of(self, location: str | None) -> SourceLine:
        found = self.placements.get(location) if location is not None else None
        return found if found is not None else self.first


@dataclass(frozen=True, slots=True)
class DependencyTree:
    """Everything a source learned: placements, importers, skipped entries, and the
    problems the source itself reported (npm ls does; lockfiles do not)."""

    source: SourceInfo
    root_name: str | None
    root_version: str | None
    packages: tuple[Package, ...]
    importers: tuple[Importer, ...] = ()
    skipped: tuple[SkippedPackage, ...] = ()
    reported_problems: tuple[TreeProblem, ...] = ()
    warnings: tuple[str, ...] = ()
    #: npm ``overrides`` / yarn ``resolutions`` of the root package.json (``depaudit.overrides``):
    #: the edges they cover are checked against them
    overrides: tuple[Override, ...] = ()
    #: drift already among ``reported_problems`` (None: the tree stage compares every
    #: importer whose package.json was read)
    drift_reported: DriftReported | None = None
    #: runtime status of each placement by location (:mod:`depaudit.reach`, after loading);
    #: empty when reachability was not analysed (every status then unknown)
    runtime: Mapping[str, PlacementRuntime] = field(default_factory=dict, compare=False)
    #: the line of each placement's entry in the input file (:mod:`depaudit.sources.lines`);
    #: None when not asked for, or when the input has no lines to point at (stdin)
    lines: SourceLines | None = field(default=None, compare=False)
    _by_location: Mapping[str, Package] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _by_key: Mapping[str, tuple[Package, ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _by_name: Mapping[str, tuple[Package, ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        by_location: dict[str, Package] = {}
        by_key: dict[str, list[Package]] = {}
        by_name: dict[str, list[Package]] = {}
        for pkg in self.packages:
            by_location[pkg.location] = pkg
            by_key.setdefault(f"{pkg.name}@{pkg.version}", []).append(pkg)
            by_name.setdefault(pkg.name, []).append(pkg)
        object.__setattr__(self, "_by_location", MappingProxyType(by_location))
        object.__setattr__(
            self, "_by_key", MappingProxyType({k: tuple(v) for k, v in by_key.items()})
        )
        object.__setattr__(
            self, "_by_name", MappingProxyType({k: tuple(v) for k, v in by_name.items()})
        )

    def evolve(self, **changes: Any) -> DependencyTree:
        """``dataclasses.replace(self, **changes)`` that keeps the placement indexes when the
        placements stay the same (rebuilding them cost ~0.3 s at 50,000 placements)."""
        unknown = changes.keys() - _TREE_FIELDS
        if unknown:
            raise TypeError(f"DependencyTree has no field {sorted(unknown)[0]!r} to change")
        if "packages" in changes:
            return replace(self, **changes)
        new = object.__new__(DependencyTree)
        for name in DependencyTree.__slots__:
            object.__setattr__(new, name, changes[name] if name in changes else getattr(self, name))
        return new

    def at(self, location: str) -> Package | None:
        return self._by_location.get(location)

    def placements(self, name: str, version: str | None = None) -> tuple[Package, ...]:
        if version is None:
            return self._by_name.get(name, ())
        return self._by_key.get(f"{name}@{version}", ())

    def names(self) -> Iterable[str]:
        return self._by_name.keys()

    def unique(self) -> Iterator[tuple[str, str]]:
        """Unique (name, version) pairs, sorted."""
        seen = sorted({(p.name, p.version) for p in self.packages})
        return iter(seen)

    def paths(self, name: str, version: str) -> list[tuple[str, ...]]:
        """Every path to ``name@version``: production placements' first, shortest first."""
        ordered = sorted(self.placements(name, version), key=lambda p: (p.dev, len(p.path), p.path))
        return list(dict.fromkeys(p.path for p in ordered))

    def runtime_of(self, name: str, version: str) -> PlacementRuntime | None:
        """The best runtime status of ``name@version``'s placements (None: not analysed)."""
        return best_runtime(
            r for p in self.placements(name, version) if (r := self.runtime.get(p.location))
        )


_TREE_FIELDS = frozenset(f.name for f in fields(DependencyTree) if f.init)


class LeakClass(StrEnum):
    LEAK = "leak"  # memory or resources not released
    EXHAUSTION = "exhaustion"  # unbounded allocation
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Advisory:
    """A security advisory for one package, from any source."""

    id: str
    source: str  # "npm", "github", "bundled"
    package: str
    affected: str  # npm semver range
    title: str
    leak_class: LeakClass = LeakClass.OTHER
    aliases: tuple[str, ...] = ()
    patched: str | None = None
    cwes: tuple[str, ...] = ()
    severity: str | None = None  # low, moderate/medium, high, critical
    url: str | None = None


class KnownLeakKind(StrEnum):
    ADVISORY = "advisory"
    BUG = "bug"
    DEPRECATION = "deprecation"


@dataclass(frozen=True, slots=True)
class KnownLeak:
    """An entry of the bundled knowledge base (data/known-leaks.yaml)."""

    id: str
    package: str
    kind: KnownLeakKind
    affected: str  # npm range, "*" or "unknown"
    summary: str
    references: tuple[str, ...]
    confidence: str  # "high" | "low"
    fixed: str | None = None
    mechanism: str | None = None
    cwes: tuple[str, ...] = ()
    ghsa: str | None = None
    severity: str | None = None
    successor: str | None = None
    cve: str | None = None
    leak_class: LeakClass = LeakClass.OTHER  # classified like an advisory (cwes + summary)
    verified: str | None = None  # when and how the entry was checked against its references


@dataclass(frozen=True, slots=True)
class MeasuredGrowth:
    """An owner of heap growth measured in snapshots of the running app (``--heap``) or of
    live sampled allocations (``--heap-profile``): what ``depaudit heap`` reports."""

    kind: str  # package, app, node or unknown
    name: str
    version: str | None
    path: str | None  # the package placement in node_modules
    file: str | None  # the app's file (relative to DIR) or the node core module
    line: int | None
    growth_bytes: int
    retained_bytes: int
    growth_objects: int
    constructor: str
    retainer_path: str
    source: str  # "2 heap snapshots", "heap profile"

    @property
    def label(self) -> str:
        if self.kind == "package":
            return f"{self.name}@{self.version}" if self.version else self.name
        if self.kind == "app" and self.file:
            return f"{self.file}:{self.line}" if self.line else self.file
        return self.name


@slot_init
@dataclass(frozen=True, slots=True)
class PackageFacts:
    """What services learned about ``name@version``. ``None`` always means *unknown*."""

    name: str
    version: str
    in_registry: bool | None = None
    unpublished: bool | None = None
    latest: str | None = None
    installed_published: datetime | None = None
    latest_published: datetime | None = None
    last_release: datetime | None = None  # publish time of the package's newest release
    created: datetime | None = None
    versions_behind: int | None = None
    majors_behind: int | None = None
    minors_behind: int | None = None
    patches_behind: int | None = None
    libyears: float | None = None
    age_days: float | None = None  # installed version's age at scan time
    days_since_release: float | None = None  # time since the package's last release
    deprecated: str | None = None  # deprecation message of the installed version
    deprecation_known: bool = False  # True when a source said yes or no
    package_deprecated: bool | None = None  # latest deprecated too: the whole package is
    repository: str | None = None
    archived: bool | None = None  # the GitHub repository is archived (top suspects, with a token)
    leak_issues: int | None = None  # open issues titled "memory leak" in that repository
    leak_issues_url: str | None = None  # the GitHub search that counts them
    advisories: tuple[Advisory, ...] = ()
    known_leaks: tuple[KnownLeak, ...] = ()
    growth: MeasuredGrowth | None = None  # measured heap growth of this name@version

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"

    def merge(self, other: PackageFacts) -> PackageFacts:
        """Combine two partial views of the same package: known values win over unknown."""
        changes: dict[str, object] = {}
        for name in self.__dataclass_fields__:
            mine = getattr(self, name)
            theirs = getattr(other, name)
            if name in ("advisories", "known_leaks"):
                seen = {x.id for x in mine}
                changes[name] = mine + tuple(x for x in theirs if x.id not in seen)
            elif name == "deprecation_known":
                changes[name] = mine or theirs
            elif mine is None and theirs is not None:
                changes[name] = theirs
        return self.evolve(**changes) if changes else self

    def evolve(self, **changes: Any) -> PackageFacts:
        """``dataclasses.replace(self, **changes)`` at a fraction of its cost: every field
        read in one ``attrgetter`` call, the changed ones put in place, the whole passed by
        position to the descriptor-based ``__init__`` (:func:`slot_init`): 4.6 µs, where
        ``replace`` takes 7.5 and the slot-by-slot copy before took 9 (the fidelity check
        replaces every package's facts when it fires). The values are not checked: they come
        from facts already made."""
        values = _FACTS_VALUES(self)
        if not changes:
            return PackageFacts(*values)
        each = list(values)
        try:
            for name, value in changes.items():
                each[_FACTS_INDEX[name]] = value
        except KeyError as exc:
            raise TypeError(f"PackageFacts has no field {exc.args[0]!r}") from None
        return PackageFacts(*each)


#: PackageFacts' fields in order, read from an instance in one call, and each one's position
#: (for ``evolve``)
_FACTS_ORDER = tuple(f.name for f in fields(PackageFacts))
_FACTS_VALUES = attrgetter(*_FACTS_ORDER)
_FACTS_INDEX = {name: i for i, name in enumerate(_FACTS_ORDER)}


class Tier(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True, slots=True)
class Signal:
    """One reason a package is suspect: rule id, points, one-line evidence, reference URL."""

    rule: str
    points: float
    evidence: str
    url: str | None = None
    ids: tuple[str, ...] = ()  # advisory / knowledge-base ids (and aliases) it rests on
    #: evidence of a leak in the installed version (advisory, leak bug, leak-related
    #: deprecation, runtime growth), not only of neglect: only such a signal can make high
    leak: bool = False


@dataclass(frozen=True, slots=True)
class Suspect:
    name: str
    version: str
    score: float
    tier: Tier
    signals: tuple[Signal, ...]
    paths: tuple[tuple[str, ...], ...]
    dev: bool = False
    direct: bool = False
    extraneous: bool = False  # every placement is extraneous (no package.json asks for it)
    #: the best runtime status of its placements and why (None: not analysed)
    runtime: PlacementRuntime | None = None

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True, slots=True)
class CodeFinding:
    """A leak pattern in the app's own code (``depaudit code``): the rule, where it is (a
    posix path relative to the scanned folder, 1-based line and column), why, and the package
    involved when the object comes from one. The tier is the rule's (for ``--fail-on``)."""

    rule: str
    file: str
    line: int
    column: int
    message: str
    evidence: tuple[str, ...] = ()
    package: str | None = None
    tier: Tier = Tier.MEDIUM


@dataclass(frozen=True, slots=True)
class Report:
    """The result of one run, rendered by every format."""

    tool_version: str
    generated_at: datetime
    tree: DependencyTree
    problems: tuple[TreeProblem, ...]
    facts: Mapping[str, PackageFacts] = field(default_factory=dict)  # by name@version
    suspects: tuple[Suspect, ...] = ()
    warnings: tuple[str, ...] = ()
    consulted: tuple[str, ...] = ()  # e.g. "registry (online)", "knowledge base"
    offline: bool = False
    ignored: tuple[str, ...] = ()  # descriptions of ignore entries that applied / expired
    #: names of the services that could not be used at all (``EnrichmentResult.failed``)
    failed: tuple[str, ...] = ()
    #: leak patterns in the app's own code (``depaudit code``), paths relative to code_root
    findings: tuple[CodeFinding, ...] = ()
    code_root: str | None = None
    #: owners of measured heap growth (``scan --heap``/``--heap-profile``), biggest first
    growth: tuple[MeasuredGrowth, ...] = ()
    #: SARIF ``security-severity`` of each scoring rule, from the weights that scored this
    #: report (formats render it; they load no scoring data themselves)
    severities: Mapping[str, str] = field(default_factory=dict)
