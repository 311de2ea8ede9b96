"""The cache keeps a packument's facts in :func:`metrics.pack`'s form (one string line per
version, ranks instead of a walk over every version); :func:`metrics.facts_for` on it must give
exactly the facts the readable form gives (the original per-version walk, kept here as the
reference), for any versions: loose, prereleases, build metadata, not semver, missing from the
packument, unpublished, deprecated, with tabs or newlines in them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from depaudit.models import PackageFacts
from depaudit.services.metrics import (
    STATE_MISSING,
    STATE_OK,
    STATE_UNPUBLISHED,
    YEAR,
    _semver,
    behind,
    days_between,
    extract,
    facts_for,
    is_packed,
    pack,
    parse_time,
)

NOW = datetime(2026, 12, 6, tzinfo=UTC)


def reference_facts(name: str, version: str, data: Mapping[str, Any]) -> PackageFacts:
    """facts_for as it was on extract()'s readable form (a walk over every version)."""
    state = data.get("state")
    created = parse_time(data.get("created"))
    if state == STATE_MISSING:
        return PackageFacts(name=name, version=version, in_registry=False)
    if state == STATE_UNPUBLISHED:
        return PackageFacts(
            name=name, version=version, in_registry=False, unpublished=True, created=created
        )
    published: Mapping[str, str | None] = data.get("versions") or {}
    deprecated: Mapping[str, str] = data.get("deprecated") or {}
    latest = data.get("latest") if isinstance(data.get("latest"), str) else None
    present = version in published
    installed_at = parse_time(published.get(version)) if present else None
    latest_at = parse_time(published.get(latest)) if latest is not None else None
    last_release = parse_time(data.get("last_release"))
    counts = behind(version, latest, list(published)) if latest else None
    libyears: float | None = None
    mine, newest = _semver(version), _semver(latest)
    if mine is not None and newest is not None and mine.compare(newest) >= 0:
        libyears = 0.0
    elif installed_at is not None and latest_at is not None:
        libyears = round(max((latest_at - installed_at).total_seconds(), 0.0) / YEAR, 4)
    if present:
        unpublished: bool | None = False
    elif version in (data.get("gone") or ()):
        unpublished = True
    else:
        unpublished = None
    return PackageFacts(
        name=name,
        version=version,
        in_registry=True,
        unpublished=unpublished,
        latest=latest,
        installed_published=installed_at,
        latest_published=latest_at,
        last_release=last_release,
        created=created,
        versions_behind=counts[0] if counts else None,
        majors_behind=counts[1] if counts else None,
        minors_behind=counts[2] if counts else None,
        patches_behind=counts[3] if counts else None,
        libyears=libyears,
        age_days=days_between(NOW, installed_at) if installed_at else None,
        days_since_release=days_between(NOW, last_release) if last_release else None,
        deprecated=deprecated.get(version) if present else None,
        deprecation_known=present,
        package_deprecated=(latest in deprecated)
        if latest is not None and latest in published
        else None,
        repository=data.get("repository"),
    )


num = st.sampled_from(["0", "1", "2"])  # few triples: equal keys (builds, loose) are common
pre = st.sampled_from(["", "", "", "-alpha", "-rc.2"])
build = st.sampled_from(["", "", "+build.5"])
prefix = st.sampled_from(["", "", "", "v", "="])
version = st.builds(
    lambda p, a, b, c, r, m: f"{p}{a}.{b}.{c}{r}{m}", prefix, num, num, num, pre, build
) | st.sampled_from(["latest", "1.2", "not-a-version", "1.2.3.4", "1.0.0\t2", "2.0.0\nx", ""])
when = st.none() | st.datetimes(
    min_value=datetime(2010, 1, 1), max_value=datetime(2026, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.isoformat())
message = st.none() | st.sampled_from(["old", "leaks memory", "  ", "use x\tinstead"])


@st.composite
def packuments(draw: st.DrawFn) -> dict[str, Any]:
    versions = draw(st.dictionaries(version, st.tuples(when, message), max_size=12))
    time: dict[str, Any] = {v: t for v, (t, _) in versions.items() if t is not None}
    time.update(draw(st.dictionaries(version, when.filter(bool), max_size=3)))  # gone ones
    time["created"] = draw(when)
    names = list(versions) or ["1.0.0"]
    latest = draw(st.sampled_from([*names, "9.9.9", None]))
    return {
        "dist-tags": {"latest": latest} if latest is not None else {},
        "time": time,
        "versions": {v: {"deprecated": m} if m else {} for v, (_, m) in versions.items()},
    }


@settings(max_examples=300, deadline=None)
@given(packuments(), st.data())
def test_packed_facts_equal_the_readable_facts(doc: dict[str, Any], data: st.DataObject) -> None:
    readable = extract(doc)
    packed = orjson.loads(orjson.dumps(pack(readable)))  # as the cache gives it back
    assert is_packed(packed)
    candidates = [*readable["versions"], *readable.get("gone", []), "1.0.0", "9.9.9", "x"]
    installed = data.draw(st.sampled_from(candidates))
    assert facts_for("p", installed, packed, NOW) == reference_facts("p", installed, readable)


def test_releases_of_one_triple_count_each() -> None:
    """2.0.0 and 2.0.0+b are two releases of the same rank: 1.0.0 is 2 behind latest 2.0.0,
    and 2.0.0+b is not ahead of it."""
    doc = {"dist-tags": {"latest": "2.0.0"}, "versions": {"1.0.0": {}, "2.0.0": {}, "v2.0.0+b": {}}}
    packed = pack(extract(doc))
    assert facts_for("p", "1.0.0", packed, NOW).versions_behind == 2
    assert facts_for("p", "v2.0.0+b", packed, NOW).versions_behind == 0


def test_other_states_pack_as_they_are() -> None:
    for data in ({"state": STATE_MISSING}, extract({"time": {"unpublished": {"time": None}}})):
        packed = pack(data)
        assert packed == data and is_packed(packed)
        assert facts_for("p", "1.0.0", packed, NOW) == reference_facts("p", "1.0.0", data)


def test_wrong_shapes_are_not_packed() -> None:
    good = pack(extract({"dist-tags": {"latest": "1.0.0"}, "versions": {"1.0.0": {}}}))
    assert good["state"] == STATE_OK and is_packed(good)
    for broken in (
        {**good, "index": None},
        {**good, "index": "1.0.0\t\t1\t\n"},  # not framed by newlines
        {**good, "messages": [1]},
        {**good, "odd": {"x": [1]}},
        {**good, "latest": 5},
        {**good, "gone": "1.0.0"},
        {"state": "other"},
        ["not", "a", "mapping"],
        # the readable form of an older version
        extract({"dist-tags": {"latest": "1.0.0"}, "versions": {"1.0.0": {}}}),
    ):
        assert not is_packed(broken)
