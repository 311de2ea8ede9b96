"""npm ``overrides`` in the root package.json: the spec they put in place of an edge's own.

npm checks an overridden edge against the override, not against the range its dependent
declares (``npm ls`` prints such a package as ``overridden``, not ``invalid``), and the lockfile
does not record overrides: they live in the root package.json only (``npm ls --long`` repeats
them on its root). The rules, as Arborist's ``OverrideSet`` applies them:

* ``{"ms": "2.1.3"}``: every edge to ``ms`` anywhere in the tree;
* ``{"ms@^2.0.0": "2.1.3"}``: edges to ``ms`` whose own range intersects ``^2.0.0``;
* ``{"express": {"qs": "6.11.0"}}``: edges to ``qs`` inside the subtree of ``express``;
  ``{"express": {".": "4.21.2", ...}}`` also overrides ``express`` itself;
* ``"$name"``: the spec the root package.json gives ``name`` in its own dependencies.

The most deeply nested matching rule wins. A value depaudit cannot read is ignored with a
warning by the reader (the tree is still read).

yarn's ``resolutions`` (classic and berry) become the same rules
(:func:`parse_yarn_resolutions`); pnpm writes its overrides into the lockfile, edges included,
and its ``overrides:`` map (:func:`parse_pnpm_overrides`) keeps an overridden direct
dependency from being called drift.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from depaudit.slots import dataclass
from depaudit.text import split_name_spec

#: where the root's own specs are (``_dependencies`` is npm ls --long's copy of them)
_DEPENDENCY_FIELDS = (
    "dependencies",
    "_dependencies",
    "devDependencies",
    "optionalDependencies",
    "peerDependencies",
)
_MAX_DEPTH = 32


@dataclass(frozen=True, slots=True)
class Override:
    """Inside the subtree of every ancestor in ``within`` (outermost first; each a name and
    the range its version must satisfy, ``*`` for any), edges to ``name`` whose range
    intersects ``key`` are checked against ``value``."""

    within: tuple[tuple[str, str], ...]
    name: str
    key: str
    value: str
    #: the last of ``within`` must be the dependent itself (yarn's ``parent/child``), not
    #: any ancestor (npm's nesting, yarn's ``parent/**/child``)
    child_of: bool = False


def _split_key(key: str) -> tuple[str, str]:
    """``ms@^2`` -> (``ms``, ``^2``); ``@scope/pkg@1`` -> (``@scope/pkg``, ``1``)."""
    name, spec = split_name_spec(key)
    return name, spec or "*"


def parse_npm_overrides(manifest: Mapping[str, Any]) -> tuple[tuple[Override, ...], list[str]]:
    """The rules of ``manifest["overrides"]`` and warnings for what could not be read."""
    raw = manifest.get("overrides")
    if raw is None:
        return (), []
    if not isinstance(raw, Mapping):
        return (), ["package.json: `overrides` is not an object; ignored"]
    root_specs: dict[str, str] = {}
    for field in _DEPENDENCY_FIELDS:
        deps = manifest.get(field)
        if isinstance(deps, Mapping):
            for name, spec in deps.items():
                if isinstance(name, str) and isinstance(spec, str):
                    root_specs.setdefault(name, spec)
    rules: list[Override] = []
    problems: list[str] = []

    def value_of(text: str, where: str) -> str | None:
        if text.startswith("$"):
            referenced = root_specs.get(text[1:])
            if referenced is None:
                problems.append(
                    f"package.json: override {where} refers to {text}, which the root "
                    "package.json does not depend on; ignored"
                )
            return referenced
        return text

    def walk(node: Mapping[Any, Any], within: tuple[tuple[str, str], ...]) -> None:
        if len(within) > _MAX_DEPTH:
            problems.append("package.json: `overrides` nested too deep; the rest is ignored")
            return
        for key, value in node.items():
            if not isinstance(key, str) or not key or key == ".":
                continue
            name, key_range = _split_key(key)
            if isinstance(value, str):
                spec = value_of(value, repr(key))
                if spec:
                    rules.append(Override(within, name, key_range, spec))
            elif isinstance(value, Mapping):
                own = value.get(".")
                if isinstance(own, str):
                    spec = value_of(own, repr(key))
                    if spec:
                        rules.append(Override(within, name, key_range, spec))
                walk(value, (*within, (name, key_range)))
            else:
                problems.append(f"package.json: override {key!r} is not a string or an object")

    walk(raw, ())
    return tuple(rules), problems


def _bounds(comparators: Sequence[Any]) -> tuple[Any, bool, Any, bool]:
    """(lowest, inclusive, highest, inclusive) of one comparator set; None is unbounded."""
    import nodesemver

    low: Any = None
    high: Any = None
    low_in = high_in = True
    for comparator in comparators:
        version = comparator.semver
        if version is nodesemver.ANY:
            continue
        op = comparator.operator or "="
        if op in (">", ">=", "="):
            order = 1 if low is None else version.compare(low)
            if order > 0 or (order == 0 and op == ">"):
                low, low_in = version, op != ">"
        if op in ("<", "<=", "="):
            order = -1 if high is None else version.compare(high)
            if order < 0 or (order == 0 and op == "<"):
                high, high_in = version, op != "<"
    return low, low_in, high, high_in


def _null(comparators: Sequence[Any]) -> bool:
    """npm's null set: ``<0.0.0`` (``<0.0.0-0``) admits no version at all."""
    import nodesemver

    return any(
        c.operator == "<"
        and c.semver is not nodesemver.ANY
        and (c.semver.major, c.semver.minor, c.semver.patch) == (0, 0, 0)
        and list(c.semver.prerelease) in ([], [0])
        for c in comparators
    )


_MAX_RANGE_LENGTH = 1024  # as depaudit.tree.MAX_RANGE_LENGTH


def _intersects(spec: str, key: str) -> bool:
    """Some version satisfies both ranges (npm's ``semver.intersects``, which Python's
    node-semver lacks), by comparing the bounds of every pair of comparator sets."""
    if key == "*":
        return True
    if spec.startswith("npm:") and "@" not in spec:
        spec = spec[len("npm:") :]  # yarn berry's protocol on a plain range
    if max(len(spec), len(key)) > _MAX_RANGE_LENGTH:
        return False  # not a range npm would match (and node-semver is slow on megabytes)
    import nodesemver  # imported on use: start-up time

    try:
        ours = nodesemver.make_range(spec, True).set
        theirs = nodesemver.make_range(key, True).set
    except Exception:
        return False  # not a range (git, file, alias ...): npm matches those differently
    for left in ours:
        for right in theirs:
            if _null(left) or _null(right):
                continue
            low, low_in, high, high_in = _bounds([*left, *right])
            if low is None or high is None:
                return True
            order = low.compare(high)
            if order < 0 or (order == 0 and low_in and high_in):
                return True
    return False


def _satisfies(version: str | None, key: str) -> bool:
    if key == "*":
        return True
    if not version or len(key) > _MAX_RANGE_LENGTH:
        return False
    import nodesemver

    try:
        return bool(nodesemver.satisfies(version, key, loose=True))
    except Exception:
        return False


def _within(chain: Sequence[tuple[str, str]], ancestors: Sequence[tuple[str, str | None]]) -> bool:
    """``chain`` is an ordered subsequence of ``ancestors`` (names and versions)."""
    position = 0
    for name, key in chain:
        while position < len(ancestors):
            ancestor, version = ancestors[position]
            position += 1
            if ancestor == name and _satisfies(version, key):
                break
        else:
            return False
    return True


def override_for(
    rules: Sequence[Override],
    ancestors: Sequence[tuple[str, str | None]],
    name: str,
    spec: str,
) -> str | None:
    """The spec that replaces ``spec`` for the edge to ``name`` whose dependent's chain from
    the root is ``ancestors`` (the dependent last), or None when no rule applies."""
    best: Override | None = None
    for rule in rules:
        if rule.name != name or not _intersects(spec, rule.key):
            continue
        if best is not None and len(rule.within) <= len(best.within):
            continue
        if rule.child_of and rule.within:
            if not ancestors or not _within(rule.within[-1:], ancestors[-1:]):
                continue
            if not _within(rule.within[:-1], ancestors[:-1]):
                continue
            best = rule
        elif _within(rule.within, ancestors):
            best = rule
    return best.value if best is not None else None


def _segments(pattern: str) -> list[str]:
    """``a/@s/b/**/c`` -> ``["a", "@s/b", "**", "c"]`` (a scope joins its name)."""
    parts = pattern.split("/")
    out: list[str] = []
    index = 0
    while index < len(parts):
        part = parts[index]
        if part.startswith("@") and index + 1 < len(parts):
            part = f"{part}/{parts[index + 1]}"
            index += 1
        out.append(part)
        index += 1
    return out


def _yarn_range(spec: str) -> str:
    return spec.removeprefix("npm:")


def _string_pairs(raw: object, where: str, what: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The string key/value pairs of a map, and a warning for each other entry."""
    if raw is None:
        return [], []
    if not isinstance(raw, Mapping):
        return [], [f"{where}: `{what}` is not a map; ignored"]
    pairs: list[tuple[str, str]] = []
    problems: list[str] = []
    for key, value in raw.items():
        if isinstance(key, str) and isinstance(value, str) and key and value:
            pairs.append((key, value))
        else:
            problems.append(f"{where}: {what} entry {key!r} is not a string pair; ignored")
    return pairs, problems


def parse_yarn_resolutions(
    manifest: Mapping[str, Any],
) -> tuple[tuple[Override, ...], list[str]]:
    """yarn's ``resolutions`` (classic and berry) as override rules: ``ms`` and ``**/ms``
    anywhere, ``express/qs`` for express's own edge to qs, ``express/**/qs`` anywhere under
    express, ``ms@^2.0.0`` (berry) only for that range."""
    pairs, problems = _string_pairs(manifest.get("resolutions"), "package.json", "resolutions")
    rules: list[Override] = []
    for key, value in pairs:
        raw_segments = [s for s in _segments(key) if s]
        segments = [s for s in raw_segments if s != "**"]
        if not segments:
            continue
        child_of = len(raw_segments) >= 2 and raw_segments[-2] != "**"
        within = tuple(
            (name, _yarn_range(key_range)) for name, key_range in map(_split_key, segments[:-1])
        )
        name, key_range = _split_key(segments[-1])
        rules.append(Override(within, name, _yarn_range(key_range), _yarn_range(value), child_of))
    return tuple(rules), problems


def parse_pnpm_overrides(raw: object) -> tuple[tuple[Override, ...], list[str]]:
    """pnpm's ``overrides`` as its lockfile records them (the values already resolved):
    ``foo``, ``foo@^1`` everywhere, ``bar>foo`` / ``bar@1>foo@^2`` for bar's own edge to foo.
    A ``-`` value removes the dependency instead: nothing to check it against."""
    pairs, problems = _string_pairs(raw, "pnpm-lock.yaml", "overrides")
    rules: list[Override] = []
    for key, value in pairs:
        segments = [s for s in key.split(">") if s]
        if value == "-" or not segments:
            continue
        within = tuple(_split_key(s) for s in segments[:-1])
        name, key_range = _split_key(segments[-1])
        rules.append(Override(within, name, key_range, value, child_of=bool(within)))
    return tuple(rules), problems
