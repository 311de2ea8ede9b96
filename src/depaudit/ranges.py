"""Does an installed version fall in an advisory's range?

Two spellings reach depaudit:

* npm ranges (``<1.20.3``, ``<=4.0.13 || >=4.1.0 <4.1.2``), from the npm bulk advisory
  endpoint and the bundled knowledge base. They are tested the way ``npm audit`` does
  (@npmcli/metavuln-calculator ``advisory.js``: ``{includePrerelease: true, loose: true}``),
  so ``1.2.3-beta.1`` *is* inside ``<1.2.3``.
* GitHub's ``vulnerable_version_range`` (``>= 1.0.0, < 1.2.3``, ``= 0.2.0``): comparators
  joined by commas, meaning AND. :func:`github_to_npm` turns it into the npm spelling.

node-semver (``nodesemver``) parses the ranges. Its own ``include_prerelease`` flag makes
every prerelease compare *equal* to its release, which is not what npm does, so the
include-prerelease test is done here: a version satisfies a comparator set when it passes
every comparator, compared with full prerelease ordering. Sugar (``^``, ``~``, x-ranges,
hyphens) is desugared by nodesemver and its exclusive upper bounds get npm 7's ``-0``
(``^1.2.3`` is ``>=1.2.3 <2.0.0-0``), so ``2.0.0-rc.1`` is outside ``^1.2.3`` as in npm.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from depaudit.fastsemver import fast_satisfies, plain_release
from depaudit.slots import dataclass
from depaudit.versions import parse_version

ANY_RANGES = frozenset({"*", "", "x", "X"})
UNKNOWN = "unknown"

_PRIMITIVE = re.compile(
    r"^(?P<op><=|>=|<|>|=)?v?(?P<ver>\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$"
)
_FULL_CARET_TILDE = re.compile(r"^[~^]v?\d+\.\d+\.\d+")
_OP_SPACE = re.compile(r"(<=|>=|<|>|=)\s+")
_GITHUB_PART = re.compile(r"^(?P<op><=|>=|<|>|=)?\s*v?(?P<ver>\S+)$")


class RangeError(ValueError):
    """A range neither npm nor GitHub would accept."""


@dataclass(frozen=True, slots=True)
class _Comparator:
    op: str  # "<", "<=", ">", ">=", "=" ; "" matches anything
    version: Any  # nodesemver.SemVer, or None for the match-anything comparator

    def test(self, version: Any) -> bool:
        if self.version is None:
            return True
        order: int = version.compare(self.version)
        return {
            "<": order < 0,
            "<=": order <= 0,
            ">": order > 0,
            ">=": order >= 0,
            "=": order == 0,
        }[self.op]


def _semver(text: str) -> Any:
    return parse_version(text)


def _desugar(token: str) -> list[_Comparator]:
    """Comparators of one token of an npm range (``>=1.2.3``, ``^1.2``, ``1.x`` ...)."""
    match = _PRIMITIVE.match(token)
    if match:
        return [_Comparator(match["op"] or "=", _semver(match["ver"]))]
    import nodesemver  # imported on use: start-up time

    try:
        parsed = nodesemver.make_range(token, True)
    except ValueError as exc:
        raise RangeError(f"not a semver range: {token!r}") from exc
    # With includePrerelease npm widens desugared lower bounds to `-0` (`1.x` is
    # `>=1.0.0-0 <2.0.0-0`), except for a caret or tilde on a full version.
    widen_lower = not _FULL_CARET_TILDE.match(token)
    result: list[_Comparator] = []
    for comparator_set in parsed.set:
        for comparator in comparator_set:
            if comparator.semver == nodesemver.ANY:
                result.append(_Comparator("", None))
                continue
            op = comparator.operator or "="
            version = comparator.semver
            if op == "<" and not version.prerelease:
                # npm >= 7 writes desugared upper bounds as `<2.0.0-0`
                version = _semver(f"{version.major}.{version.minor}.{version.patch}-0")
            elif op == ">=" and widen_lower and not version.prerelease:
                version = _semver(f"{version.major}.{version.minor}.{version.patch}-0")
            result.append(_Comparator(op, version))
    return result


def _tokens(part: str) -> list[str]:
    spaced = _OP_SPACE.sub(lambda m: m.group(1), part.strip())
    hyphen = re.match(r"^(\S+)\s+-\s+(\S+)$", spaced)
    if hyphen:
        return [spaced]
    return spaced.split()


@lru_cache(maxsize=4096)
def _parse(range_text: str) -> tuple[tuple[_Comparator, ...], ...]:
    text = range_text.strip()
    if len(text) > 1024:  # node-semver takes seconds per megabyte; no real range is this long
        raise RangeError("not a semver range: longer than 1024 characters")
    if text in ANY_RANGES:
        return (((_Comparator("", None)),),)
    sets: list[tuple[_Comparator, ...]] = []
    for part in text.split("||"):
        comparators: list[_Comparator] = []
        tokens = _tokens(part)
        if not tokens or tokens == ["*"]:
            comparators.append(_Comparator("", None))
        for token in tokens:
            comparators.extend(_desugar(token))
        sets.append(tuple(comparators))
    return tuple(sets)


def validate_npm_range(range_text: str) -> None:
    """Raise :class:`RangeError` unless ``range_text`` is an npm range (or ``unknown``)."""
    if range_text.strip() == UNKNOWN:
        return
    _parse(range_text)


def npm_satisfies(version: str, range_text: str) -> bool | None:
    """``version`` inside the npm range, as ``npm audit`` decides it.

    ``None`` when the answer is unknown: the range is ``unknown`` or unparseable, or the
    version is not semver (a git or file dependency).
    """
    if range_text.strip() == UNKNOWN:
        return None
    if plain_release(version) is not None:
        # a plain release against a range of the common shapes: decided without
        # node-semver (fastsemver), whose answer is npm's with or without includePrerelease,
        # as a plain version is never held to the prerelease rule (the knowledge base's
        # matching then needs neither node-semver nor its parsing)
        fast = fast_satisfies(version, range_text)
        if fast is not None:
            return fast
    return _semver_satisfies(version, range_text)


def _semver_satisfies(version: str, range_text: str) -> bool | None:
    """:func:`npm_satisfies` through node-semver, for every version and range."""
    try:
        sets = _parse(range_text)
        parsed = _semver(version)
    except (RangeError, ValueError):
        return None
    return any(all(c.test(parsed) for c in comparators) for comparators in sets)


def github_to_npm(range_text: str) -> str:
    """GitHub's ``>= 1.0.0, < 1.2.3`` as the npm range ``>=1.0.0 <1.2.3``.

    ``= 0.2.0`` becomes ``0.2.0``. Raises :class:`RangeError` for anything else.
    """
    parts = [p.strip() for p in range_text.split(",")]
    if not parts or any(not p for p in parts):
        raise RangeError(f"not a GitHub version range: {range_text!r}")
    out: list[str] = []
    for part in parts:
        match = _GITHUB_PART.match(part)
        if not match:
            raise RangeError(f"not a GitHub version range: {range_text!r}")
        op = match["op"] or "="
        version = match["ver"]
        try:
            _semver(version)
        except ValueError as exc:
            raise RangeError(f"not a version in {range_text!r}: {version!r}") from exc
        out.append(version if op == "=" else f"{op}{version}")
    return " ".join(out)


def github_satisfies(version: str, range_text: str) -> bool | None:
    try:
        return npm_satisfies(version, github_to_npm(range_text))
    except RangeError:
        return None
