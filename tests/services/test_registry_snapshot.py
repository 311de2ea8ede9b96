"""The registry facts of a whole tree kept for its next scan (services/registry_snapshot.py):
used only when every entry they came from is unchanged and fresh, equal to what the full
path computes, and never trusted when damaged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from depaudit.cache import Cache
from depaudit.http import build_session
from depaudit.models import PackageFacts
from depaudit.npmrc import NpmConfig
from depaudit.services import registry_snapshot as snapshot
from depaudit.services.interface import EnrichmentResult, PackageRef
from depaudit.services.registry import NAMESPACE, RegistryService

from .conftest import FakeRegistry

NOW = datetime(2026, 11, 25, tzinfo=UTC)
REFS = [("express", "4.17.1"), ("express", "5.1.0"), ("no-such-package-xyz", "1.0.0")]
Runner = Callable[..., EnrichmentResult]


@pytest.fixture
def run(fake_registry: FakeRegistry, tmp_path: Path) -> Runner:
    def runner(offline: bool = False, ttl: float = 3600.0, now: datetime = NOW) -> EnrichmentResult:
        service = RegistryService(
            NpmConfig(registry=fake_registry.url),
            lambda: build_session(2, retries=0),
            Cache(tmp_path / "cache"),
            ttl=ttl,
            offline=offline,
            clock=lambda: now,
        )
        return service.enrich_all([PackageRef(n, v) for n, v in REFS])

    return runner


def _without_ages(facts: dict[str, PackageFacts]) -> dict[str, tuple[object, ...]]:
    return {
        k: tuple(getattr(f, name) for name in f.__dataclass_fields__ if "days" not in name)
        for k, f in facts.items()
    }


def test_the_next_scan_reads_the_snapshot_and_gets_the_same_facts(
    run: Runner, fake_registry: FakeRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cold = run()
    assert len(fake_registry.packument_requests()) == 2
    decoded: list[int] = []
    real_decode = snapshot.decode

    def counting(rows: object, now: datetime) -> dict[str, PackageFacts]:
        decoded.append(1)
        return real_decode(rows, now)

    monkeypatch.setattr(snapshot, "decode", counting)
    later = NOW + timedelta(days=3)  # ages move with the scan's time
    warm = run(now=later)
    assert decoded == [1] and len(fake_registry.packument_requests()) == 2
    assert warm.facts == cold.facts | {
        k: PackageFacts(
            **{
                **{n: getattr(f, n) for n in f.__dataclass_fields__},
                "age_days": f.age_days + 3 if f.age_days is not None else None,
                "days_since_release": f.days_since_release + 3
                if f.days_since_release is not None
                else None,
            }
        )
        for k, f in cold.facts.items()
    }
    assert warm.consulted == (
        "npm registry (online): 2 names, 2 cached, 0 fetched, 0 revalidated, 1 not in the registry"
    )
    assert warm.consulted == run().consulted  # same wording as the full path's warm run


def test_a_changed_entry_makes_the_full_path_run(
    run: Runner, fake_registry: FakeRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cold = run()
    cache = Cache(tmp_path / "cache")
    url = f"{fake_registry.url}express"
    entry = cache.get(NAMESPACE, url)
    assert entry is not None
    value = dict(entry.value, latest="4.17.1")  # the registry moved its latest tag
    cache.set(NAMESPACE, url, value, stored_at=entry.stored_at - 1)
    cache.close()
    monkeypatch.setattr(snapshot, "decode", lambda *a: pytest.fail("snapshot was used"))
    warm = run()
    assert warm.facts["express@4.17.1"].latest == "4.17.1"
    assert cold.facts["express@4.17.1"].latest == "5.1.0"


def test_stale_entries_are_revalidated_not_answered_from_the_snapshot(
    run: Runner, fake_registry: FakeRegistry
) -> None:
    run()
    run(now=NOW, ttl=0.0)  # every entry is stale: revalidated (one request each)
    assert len(fake_registry.packument_requests()) == 4


def test_offline_uses_the_snapshot_whatever_the_age(
    run: Runner, fake_registry: FakeRegistry, tmp_path: Path
) -> None:
    cold = run()
    offline = run(offline=True, ttl=0.0)
    assert _without_ages(offline.facts) == _without_ages(cold.facts)
    assert len(fake_registry.packument_requests()) == 2


@pytest.mark.parametrize(
    "damage",
    [
        {"facts": "not rows"},
        {"facts": [["express", "4.17.1", "short row"]]},
        {"not_found": "1"},
        {"stamp": "another"},
    ],
)
def test_a_damaged_snapshot_is_not_trusted(
    run: Runner, tmp_path: Path, damage: dict[str, object]
) -> None:
    cold = run()
    cache = Cache(tmp_path / "cache")
    ((key, kept),) = cache.get_many(
        snapshot.NAMESPACE,
        _snapshot_keys(tmp_path / "cache"),
    ).items()
    cache.set(snapshot.NAMESPACE, key, {**kept.value, **damage}, stored_at=kept.stored_at)
    cache.close()
    warm = run()
    assert _without_ages(warm.facts) == _without_ages(cold.facts)


def _snapshot_keys(root: Path) -> list[str]:
    import sqlite3

    from depaudit.cache import SCHEMA

    with sqlite3.connect(root / SCHEMA / "cache.db") as conn:
        rows = conn.execute(
            "SELECT key FROM entries WHERE namespace = ?", (snapshot.NAMESPACE,)
        ).fetchall()
    return [k for (k,) in rows]


def test_old_snapshots_are_pruned(run: Runner, tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    cache.set(snapshot.NAMESPACE, "an old tree", {}, stored_at=0.0)
    cache.set(snapshot.NAMESPACE, "a recent tree", {})
    cache.close()
    run()
    assert set(_snapshot_keys(tmp_path / "cache")) - {"a recent tree"} != set()
    assert "an old tree" not in _snapshot_keys(tmp_path / "cache")
    assert "a recent tree" in _snapshot_keys(tmp_path / "cache")


dates = st.none() | st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)
counts = st.none() | st.integers(0, 10**6)
facts = st.builds(
    PackageFacts,
    name=st.text(min_size=1, max_size=12),
    version=st.text(max_size=12),
    in_registry=st.none() | st.booleans(),
    unpublished=st.none() | st.booleans(),
    latest=st.none() | st.text(max_size=8),
    installed_published=dates,
    latest_published=dates,
    last_release=dates,
    created=dates,
    versions_behind=counts,
    majors_behind=counts,
    minors_behind=counts,
    patches_behind=counts,
    libyears=st.none() | st.floats(0, 100, allow_nan=False),
    deprecated=st.none() | st.text(max_size=20),
    deprecation_known=st.booleans(),
    package_deprecated=st.none() | st.booleans(),
    repository=st.none() | st.text(max_size=20),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(facts, max_size=8, unique_by=lambda f: f.key))
def test_encode_then_decode_gives_the_facts_back(values: list[PackageFacts]) -> None:
    import orjson

    rows = orjson.loads(orjson.dumps(snapshot.encode(values)))  # as the cache keeps them
    back = snapshot.decode(rows, NOW)
    for fact in values:
        got = back[fact.key]
        assert _without_ages({"k": got}) == _without_ages({"k": fact})
        if fact.installed_published is not None:
            assert got.age_days == round(
                (NOW - fact.installed_published).total_seconds() / 86400, 2
            )
        else:
            assert got.age_days is None


def _row_values() -> list[object]:
    fact = PackageFacts(
        name="a",
        version="1.0.0",
        in_registry=True,
        latest="2.0.0",
        installed_published=NOW - timedelta(days=10),
        last_release=NOW - timedelta(days=1),
        versions_behind=3,
        libyears=0.5,
        deprecation_known=True,
    )
    return snapshot.encode_one(fact)


#: a value of every JSON type, and which columns may hold it
_ANY_VALUE = st.sampled_from([None, True, False, 0, 7, 1.5, "text", [], {}])


@settings(max_examples=300, deadline=None)
@given(column=st.integers(0, len(snapshot._COLUMNS) - 1), value=_ANY_VALUE)
def test_a_value_of_another_type_in_any_column_is_refused(column: int, value: object) -> None:
    """Every column is checked, by exact type: a bool is no count, text is no flag, and no
    column but the dates takes a date's text (a row otherwise right, one value changed)."""
    row = _row_values()
    row[column] = value
    allowed = snapshot._COLUMNS[column]
    fits = type(value) in allowed
    if column >= len(snapshot._COLUMNS) - len(snapshot._DATES) and isinstance(value, str):
        with pytest.raises(ValueError):  # text, but no date
            snapshot.decode([_row_values(), row], NOW)
        return
    if fits:
        got = snapshot.decode([_row_values(), row], NOW)
        assert getattr(got[f"{row[0]}@{row[1]}"], snapshot._DECODED[column]) == value
    else:
        with pytest.raises(ValueError):
            snapshot.decode([_row_values(), row], NOW)


def test_the_column_types_follow_the_fields() -> None:
    """Counts refuse a bool (the old per-value isinstance took one), flags and text their
    own types, and only ``deprecation_known`` is never unknown."""
    for name, allowed in zip(snapshot._DECODED, snapshot._COLUMNS, strict=False):
        assert (type(None) in allowed) is (name not in ("name", "version", "deprecation_known"))
        if name.endswith("_behind"):
            assert bool not in allowed and int in allowed


def test_dates_without_an_offset_are_utc_and_rows_of_another_shape_are_refused() -> None:
    row = _row_values()
    naive = row.copy()
    naive[0] = "b"
    first_date = len(snapshot._COLUMNS) - len(snapshot._DATES)
    naive[first_date] = "2026-11-15T00:00:00"
    got = snapshot.decode([row, naive], NOW)
    assert got["b@1.0.0"].installed_published == datetime(2026, 11, 15, tzinfo=UTC)
    assert got["b@1.0.0"].age_days == 10.0
    assert got["a@1.0.0"].installed_published == NOW - timedelta(days=10)
    assert got["a@1.0.0"].days_since_release == 1.0
    assert snapshot.decode([], NOW) == {}
    for damaged in ({"rows": 1}, [row[:-1]], [tuple(row)], [row, None], "rows"):
        with pytest.raises(ValueError):
            snapshot.decode(damaged, NOW)
