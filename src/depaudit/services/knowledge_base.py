"""The bundled knowledge base: data/known-leaks.yaml and data/leak-prone.yaml.

Both files ship inside the wheel as the package ``depaudit.data`` and are read with
importlib.resources. Every entry is validated on load; a bad entry raises
:class:`KnowledgeBaseError` naming the file and the entry (the test suite loads the shipped
files, so a bad edit fails CI). No network: the service is used online and offline alike.

Why this module is over ~400 lines: it is one phase, reading the bundled knowledge base:
the two files' entry types, their validation (whose messages are most of the text) and the
fast form they are kept in; a split would separate a type from its validation.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import field, fields, replace
from functools import lru_cache
from typing import Any, ClassVar

from depaudit.bundled import BundledDataError, fast_form, parse_bundled_yaml, read_bundled
from depaudit.classify import RULES_FILE, classify, normalize_cwe
from depaudit.errors import DepauditError
from depaudit.models import KnownLeak, KnownLeakKind, LeakClass, PackageFacts
from depaudit.ranges import RangeError, npm_satisfies, validate_npm_range
from depaudit.services.interface import EnrichmentResult, EnrichmentService, PackageRef
from depaudit.slots import dataclass

KNOWN_LEAKS_FILE = "known-leaks.yaml"
LEAK_PRONE_FILE = "leak-prone.yaml"

# The validation's patterns: compiled (and cached by re) when the knowledge base is built from
# data/, which most runs never do (they read its fast form; start-up time).
_NAME = r"(?i)^(?:@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*$"
_ID = r"^[a-z0-9][a-z0-9-]*$"
_GHSA = r"^GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}$"
_CVE = r"^CVE-\d{4}-\d{4,}$"
_VERSION = r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$"
SEVERITIES = frozenset({"info", "low", "moderate", "medium", "high", "critical"})
CONFIDENCE = frozenset({"high", "low"})
ENTRY_KEYS = frozenset(
    {
        "id",
        "package",
        "kind",
        "affected",
        "fixed",
        "ghsa",
        "cve",
        "severity",
        "cwes",
        "summary",
        "mechanism",
        "successor",
        "references",
        "confidence",
        "verified",
    }
)
REQUIRED = ("id", "package", "kind", "affected", "summary", "references", "confidence")


class KnowledgeBaseError(DepauditError):
    """A bundled data file is malformed (a bug in depaudit's data, caught by the tests)."""


def _fail(source: str, where: str, problem: str) -> KnowledgeBaseError:
    return KnowledgeBaseError(
        f"{source}: {where}: {problem}", "see data/SCHEMA.md for the expected shape"
    )


def _str(entry: Mapping[str, Any], key: str, source: str, where: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(source, where, f"{key} must be a non-empty string or null")
    return value.strip()


def _fixed_versions(fixed: str) -> list[str]:
    return [v.strip() for v in fixed.split(",")]


def parse_entry(raw: Any, index: int, source: str = KNOWN_LEAKS_FILE) -> KnownLeak:
    """Validate one entry of known-leaks.yaml and build the model."""
    where = f"entry {index}"
    if not isinstance(raw, dict):
        raise _fail(source, where, "must be a mapping")
    if isinstance(raw.get("id"), str):
        where = f"entry {index} ({raw['id']})"
    unknown = set(raw) - ENTRY_KEYS
    if unknown:
        raise _fail(source, where, f"unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    for key in REQUIRED:
        if raw.get(key) in (None, "", []):
            raise _fail(source, where, f"{key} is required")
    entry_id = _str(raw, "id", source, where) or ""
    if not re.match(_ID, entry_id):
        raise _fail(source, where, "id must be lower-case words joined by '-'")
    package = _str(raw, "package", source, where) or ""
    if not re.match(_NAME, package):
        raise _fail(source, where, f"package {package!r} is not an npm package name")
    try:
        kind = KnownLeakKind(raw["kind"])
    except ValueError:
        kinds = ", ".join(k.value for k in KnownLeakKind)
        raise _fail(source, where, f"kind must be one of {kinds}") from None
    affected = _str(raw, "affected", source, where) or ""
    try:
        validate_npm_range(affected)
    except RangeError:
        raise _fail(source, where, f"affected {affected!r} is not an npm range") from None
    fixed = _str(raw, "fixed", source, where)
    if fixed is not None and not all(re.match(_VERSION, v) for v in _fixed_versions(fixed)):
        raise _fail(source, where, f"fixed {fixed!r} must be versions separated by commas")
    if fixed is not None and affected not in ("*", "unknown"):
        for version in _fixed_versions(fixed):
            if npm_satisfies(version, affected):
                raise _fail(source, where, f"fixed version {version} is inside {affected!r}")
    ghsa = _str(raw, "ghsa", source, where)
    if ghsa is not None and not re.match(_GHSA, ghsa):
        raise _fail(source, where, f"ghsa {ghsa!r} is not a GHSA id")
    cve = _str(raw, "cve", source, where)
    if cve is not None and not re.match(_CVE, cve):
        raise _fail(source, where, f"cve {cve!r} is not a CVE id")
    severity = _str(raw, "severity", source, where)
    if severity is not None and severity not in SEVERITIES:
        raise _fail(source, where, f"severity must be one of {', '.join(sorted(SEVERITIES))}")
    if kind is not KnownLeakKind.ADVISORY and (ghsa or cve or severity):
        raise _fail(source, where, "ghsa, cve and severity belong to kind: advisory only")
    raw_cwes = raw.get("cwes") or []
    if not isinstance(raw_cwes, list):
        raise _fail(source, where, "cwes must be a list")
    cwes = []
    for item in raw_cwes:
        cwe = normalize_cwe(str(item))
        if cwe is None or cwe != item:
            raise _fail(source, where, f"cwes: {item!r} is not written as CWE-<number>")
        cwes.append(cwe)
    references = raw["references"]
    if not isinstance(references, list) or not all(
        isinstance(r, str) and r.startswith("https://") for r in references
    ):
        raise _fail(source, where, "references must be a list of https:// URLs")
    confidence = raw["confidence"]
    if confidence not in CONFIDENCE:
        raise _fail(source, where, "confidence must be high or low")
    summary = _str(raw, "summary", source, where) or ""
    successor = _str(raw, "successor", source, where)
    if successor is not None and not re.match(_NAME, successor):
        raise _fail(source, where, f"successor {successor!r} is not an npm package name")
    return KnownLeak(
        id=entry_id,
        package=package,
        kind=kind,
        affected=affected,
        summary=summary,
        references=tuple(references),
        confidence=confidence,
        fixed=fixed,
        mechanism=_str(raw, "mechanism", source, where),
        cwes=tuple(cwes),
        ghsa=ghsa,
        severity=severity,
        successor=successor,
        cve=cve,
        leak_class=entry_leak_class(kind, cwes, summary, _str(raw, "mechanism", source, where)),
        verified=_str(raw, "verified", source, where),
    )


def entry_leak_class(
    kind: KnownLeakKind, cwes: Sequence[str], summary: str, mechanism: str | None
) -> LeakClass:
    """Classified like an advisory; an entry that the classifier calls ``other`` was still
    chosen for being about memory or resources, so bugs count as CWE-401 (leak) and
    advisories as CWE-400 (exhaustion when the text is about memory)."""
    found = classify(cwes, summary, mechanism)
    if found is LeakClass.OTHER and kind is KnownLeakKind.BUG:
        return classify([*cwes, "CWE-401"], summary, mechanism)
    if found is LeakClass.OTHER and kind is KnownLeakKind.ADVISORY:
        return classify([*cwes, "CWE-400"], summary, mechanism)
    return found


def parse_known_leaks(data: Any, source: str = KNOWN_LEAKS_FILE) -> tuple[KnownLeak, ...]:
    if not isinstance(data, dict) or data.get("version") != 1:
        raise _fail(source, "top level", "expected a mapping with version: 1 and entries")
    raw_entries = data.get("entries")
    if not isinstance(raw_entries, list) or not raw_entries:
        raise _fail(source, "top level", "entries must be a non-empty list")
    entries = tuple(parse_entry(raw, i, source) for i, raw in enumerate(raw_entries, 1))
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            raise _fail(source, f"entry {entry.id}", "duplicate id")
        seen.add(entry.id)
    return entries


@dataclass(frozen=True, slots=True)
class LeakProneCategory:
    id: str
    title: str
    why: str
    example: str
    packages: frozenset[str]
    patterns: tuple[str, ...]

    def matches(self, name: str) -> bool:
        return name in self.packages or any(fnmatch.fnmatchcase(name, p) for p in self.patterns)


@dataclass(frozen=True, slots=True)
class LeakProne:
    categories: tuple[LeakProneCategory, ...]
    companions: Mapping[str, str]  # package -> host

    def categories_of(self, name: str) -> tuple[LeakProneCategory, ...]:
        return tuple(c for c in self.categories if c.matches(name))

    def host_of(self, name: str) -> str | None:
        return self.companions.get(name)


def _name_list(raw: Any, source: str, where: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise _fail(source, where, "must be a list of strings")
    return list(raw)


def parse_leak_prone(
    data: Any, known_ids: Iterable[str] = (), source: str = LEAK_PRONE_FILE
) -> LeakProne:
    if not isinstance(data, dict) or data.get("version") != 1:
        raise _fail(source, "top level", "expected a mapping with version: 1")
    ids = set(known_ids)
    raw_categories = data.get("categories")
    if not isinstance(raw_categories, list) or not raw_categories:
        raise _fail(source, "categories", "must be a non-empty list")
    categories = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_categories, 1):
        where = f"category {index}"
        if not isinstance(raw, dict):
            raise _fail(source, where, "must be a mapping")
        for key in ("id", "title", "why", "example"):
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                raise _fail(source, where, f"{key} is required")
        where = f"category {raw['id']}"
        if raw["id"] in seen:
            raise _fail(source, where, "duplicate id")
        seen.add(raw["id"])
        if ids and raw["example"] not in ids:
            raise _fail(source, where, f"example {raw['example']!r} is not in known-leaks.yaml")
        packages = _name_list(raw.get("packages"), source, f"{where}: packages")
        bad = [p for p in packages if not re.match(_NAME, p)]
        if bad:
            raise _fail(source, where, f"not npm package names: {', '.join(bad)}")
        patterns = _name_list(raw.get("patterns"), source, f"{where}: patterns")
        if not packages and not patterns:
            raise _fail(source, where, "needs packages or patterns")
        categories.append(
            LeakProneCategory(
                id=raw["id"],
                title=raw["title"],
                why=" ".join(raw["why"].split()),
                example=raw["example"],
                packages=frozenset(packages),
                patterns=tuple(patterns),
            )
        )
    companions: dict[str, str] = {}
    raw_companions = data.get("companions") or []
    if not isinstance(raw_companions, list):
        raise _fail(source, "companions", "must be a list")
    for index, raw in enumerate(raw_companions, 1):
        where = f"companion {index}"
        if not isinstance(raw, dict) or set(raw) != {"package", "host"}:
            raise _fail(source, where, "must be a mapping with package and host")
        if not all(
            isinstance(raw[k], str) and re.match(_NAME, raw[k]) for k in ("package", "host")
        ):
            raise _fail(source, where, "package and host must be npm package names")
        if raw["package"] in companions:
            raise _fail(source, where, f"{raw['package']} listed twice")
        companions[raw["package"]] = raw["host"]
    return LeakProne(categories=tuple(categories), companions=companions)


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    entries: tuple[KnownLeak, ...]
    leak_prone: LeakProne
    #: ``entries`` by package name, in their order (one lookup per package of a tree)
    _by_package: Mapping[str, tuple[KnownLeak, ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        index: dict[str, list[KnownLeak]] = {}
        for entry in self.entries:
            index.setdefault(entry.package, []).append(entry)
        object.__setattr__(self, "_by_package", {k: tuple(v) for k, v in index.items()})

    def for_package(self, name: str) -> tuple[KnownLeak, ...]:
        return self._by_package.get(name, ())

    def matching(self, name: str, version: str) -> tuple[KnownLeak, ...]:
        """Entries that apply to ``name@version``.

        ``*`` applies to every version; ``unknown`` applies unless the installed version is
        at or above every ``fixed`` version (one per release line); a range applies when it covers
        the version (npm audit's prerelease rules).
        """
        return tuple(e for e in self.for_package(name) if applies(e, version))


def applies(entry: KnownLeak, version: str) -> bool:
    if entry.affected == "*":
        return True
    if entry.affected == "unknown":
        # the range was not established: every version below the newest fix may be affected
        # (one fix per release line, comma-separated); at or above all of them, none is
        fixes = [f.strip() for f in (entry.fixed or "").split(",") if f.strip()]
        return not fixes or any(npm_satisfies(version, f"<{fix}") is not False for fix in fixes)
    return npm_satisfies(version, entry.affected) is True


def _read(name: str) -> Any:
    try:
        return parse_bundled_yaml(name, read_bundled(name))
    except BundledDataError as exc:
        raise KnowledgeBaseError(exc.message) from None


def build_knowledge_base() -> KnowledgeBase:
    """The knowledge base read from ``data/`` and validated (no fast form)."""
    entries = parse_known_leaks(_read(KNOWN_LEAKS_FILE))
    leak_prone = parse_leak_prone(_read(LEAK_PRONE_FILE), known_ids=(e.id for e in entries))
    return KnowledgeBase(entries=entries, leak_prone=leak_prone)


_ENTRY_FIELDS = tuple(f.name for f in fields(KnownLeak))
_CATEGORY_FIELDS = tuple(f.name for f in fields(LeakProneCategory))


def encode_knowledge_base(kb: KnowledgeBase) -> dict[str, Any]:
    """The validated knowledge base as JSON values (its fast form, :mod:`depaudit.bundled`)."""
    return {
        "entries": [[getattr(e, name) for name in _ENTRY_FIELDS] for e in kb.entries],
        "categories": [
            [
                sorted(value) if isinstance(value, frozenset) else value
                for value in (getattr(c, name) for name in _CATEGORY_FIELDS)
            ]
            for c in kb.leak_prone.categories
        ],
        "companions": dict(kb.leak_prone.companions),
    }


def decode_knowledge_base(form: dict[str, Any]) -> KnowledgeBase:
    """:func:`encode_knowledge_base` undone (no validation: the form was built validated)."""
    entries = []
    for row in form["entries"]:
        values = dict(zip(_ENTRY_FIELDS, row, strict=True))
        values["kind"] = KnownLeakKind(values["kind"])
        values["leak_class"] = LeakClass(values["leak_class"])
        values["references"] = tuple(values["references"])
        values["cwes"] = tuple(values["cwes"])
        entries.append(KnownLeak(**values))
    categories = []
    for row in form["categories"]:
        values = dict(zip(_CATEGORY_FIELDS, row, strict=True))
        values["packages"] = frozenset(values["packages"])
        values["patterns"] = tuple(values["patterns"])
        categories.append(LeakProneCategory(**values))
    companions = {str(k): str(v) for k, v in form["companions"].items()}
    return KnowledgeBase(
        entries=tuple(entries),
        leak_prone=LeakProne(categories=tuple(categories), companions=companions),
    )


#: what the knowledge base's fast form is built from: the data it reads and the code that
#: validates, classifies and models it (a change to any of them rebuilds the form)
KB_DATA = (KNOWN_LEAKS_FILE, LEAK_PRONE_FILE, RULES_FILE)
KB_CODE = (__name__, "depaudit.classify", "depaudit.models", "depaudit.ranges")


@lru_cache(maxsize=1)
def load_knowledge_base() -> KnowledgeBase:
    """The shipped knowledge base, validated (cached for the process; from its fast form when
    neither ``data/`` nor the code building it changed since it was built)."""
    return fast_form(
        "knowledge-base",
        KB_DATA,
        KB_CODE,
        build_knowledge_base,
        encode_knowledge_base,
        decode_knowledge_base,
    )


class KnowledgeBaseService(EnrichmentService):
    """Attaches the knowledge base's entries to every package they cover. No network."""

    name: ClassVar[str] = "knowledge base"

    def __init__(self, knowledge_base: KnowledgeBase | None = None) -> None:
        self._kb = knowledge_base

    def enrich_all(self, packages: Sequence[PackageRef]) -> EnrichmentResult:
        kb = self._kb if self._kb is not None else load_knowledge_base()
        facts: dict[str, PackageFacts] = {}
        for ref in packages:
            found = kb.matching(ref.name, ref.version)
            if found:
                facts[ref.key] = PackageFacts(name=ref.name, version=ref.version, known_leaks=found)
        consulted = (
            f"knowledge base: {len(kb.entries)} entries, "
            f"{len(facts)} of {len(packages)} packages matched"
        )
        return EnrichmentResult(facts=facts, consulted=consulted)


def with_leak_class(entry: KnownLeak) -> KnownLeak:
    """Recompute the entry's leak class (for entries built by hand in tests or tools)."""
    return replace(
        entry, leak_class=entry_leak_class(entry.kind, entry.cwes, entry.summary, entry.mechanism)
    )
