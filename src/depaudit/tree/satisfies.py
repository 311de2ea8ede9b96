"""npm's answer to "does this version satisfy this spec" for the edges of a tree: which specs
are ranges npm checks, and node-semver in loose mode (as npm's arborist) behind a fast path
for plain ranges. Both answers are cached; over-long specs are never cache keys."""

from __future__ import annotations

from functools import lru_cache

from depaudit.fastsemver import fast_satisfies, is_fast_range
from depaudit.versions import version_or_none

_NOT_RANGE_PREFIXES = (
    "file:",
    "link:",
    "git+",
    "git:",
    "git@",
    "github:",
    "gitlab:",
    "bitbucket:",
    "gist:",
    "http:",
    "https:",
    "workspace:",
    "portal:",
    "patch:",
    "catalog:",
)


#: longer specs are not checked as ranges (real ones are a few dozen characters; a hostile
#: megabyte one cost node-semver seconds, and minutes under a memory tracer)
MAX_RANGE_LENGTH = 1024


def range_of(spec: str) -> str | None:
    """The semver range a spec asks for, or ``None`` when it is not a range npm checks."""
    if len(spec) > MAX_RANGE_LENGTH:
        return None  # and never a key of the cache: it would keep megabyte strings alive
    return _range_of(spec)


@lru_cache(maxsize=16384)  # pure; a big tree asks for the same ranges thousands of times
def _range_of(spec: str) -> str | None:
    """The semver range a spec asks for, or ``None`` when it is not a range npm checks."""
    spec = spec.strip()
    if len(spec) > MAX_RANGE_LENGTH:
        return None  # node-semver takes seconds per megabyte; no real range is this long
    if spec.startswith("npm:"):
        _, _, spec = spec[4:].lstrip("@").partition("@")
        spec = spec.strip() or "*"
    if not spec:
        return None
    if spec.startswith(_NOT_RANGE_PREFIXES) or spec.startswith(("./", "../", "/", "~/")):
        return None
    if "/" in spec and not any(c in spec for c in "<>=^~ |"):
        return None  # github shorthand user/repo
    if is_fast_range(spec):
        return spec
    import nodesemver  # only for the ranges of rarer shapes

    try:
        valid = nodesemver.valid_range(spec, loose=True)
    except Exception:  # node-semver raises assorted errors on odd input
        return None
    return spec if valid is not None else None


def satisfies(version: str, spec: str) -> bool | None:
    """npm's answer to "does ``version`` satisfy ``spec``"; ``None`` when it cannot say."""
    if len(spec) > MAX_RANGE_LENGTH or len(version) > MAX_RANGE_LENGTH:
        return None  # not cached: see range_of
    return _satisfies(version, spec)


@lru_cache(maxsize=65536)  # pure, and the same (version, range) edge recurs across a tree
def _satisfies(version: str, spec: str) -> bool | None:
    """npm's answer to "does ``version`` satisfy ``spec``"; ``None`` when it cannot say."""
    rng = range_of(spec)
    if rng is None:
        return None
    if rng.strip() in ("*", "x", "X"):
        return True  # arborist: '*' accepts any version, prereleases included
    fast = fast_satisfies(version, rng)
    if fast is not None:
        return fast
    if version_or_none(version) is None:
        return None  # not a version npm accepts (node-semver alone takes 1.2.3.4)
    import nodesemver

    try:
        return bool(nodesemver.satisfies(version, rng, loose=True))
    except Exception:
        return None
