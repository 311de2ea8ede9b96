"""Registry fidelity: stripped deprecations and mirror ingest times are unknown, not fine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from depaudit.models import KnownLeak, KnownLeakKind, PackageFacts
from depaudit.services.fidelity import check

T0 = datetime(2026, 11, 1, tzinfo=UTC)
KB = KnownLeak(
    id="inflight-deprecated-leaks",
    package="inflight",
    kind=KnownLeakKind.DEPRECATION,
    affected="*",
    summary="inflight is deprecated with the message 'This module is not supported'",
    references=(),
    confidence="high",
)


def _facts(name: str, minutes: float, **kw: object) -> PackageFacts:
    return PackageFacts(
        name=name,
        version="1.0.0",
        latest="2.0.0",
        versions_behind=3,
        created=T0,
        last_release=T0 + timedelta(minutes=minutes),
        libyears=2.0,
        **kw,  # type: ignore[arg-type]
    )


def test_stripped_deprecation_is_unknown_and_warned_once() -> None:
    facts = {
        "inflight@1.0.6": _facts("inflight", 9e5, deprecation_known=True, known_leaks=(KB,)),
        "x@1.0.0": _facts("x", 9e5, deprecation_known=True),
    }
    out, warnings = check(facts)
    assert len(warnings) == 1 and "strip `deprecated`" in warnings[0]
    assert not out["x@1.0.0"].deprecation_known  # unknown, not "not deprecated"
    assert out["x@1.0.0"].libyears == 2.0  # times were fine


def test_faithful_registry_changes_nothing() -> None:
    facts = {
        f"p{i}@1.0.0": _facts(f"p{i}", 9e5, deprecation_known=True, deprecated=None)
        for i in range(6)
    }
    facts["inflight@1.0.6"] = _facts(
        "inflight", 9e5, deprecation_known=True, deprecated="leaks memory", known_leaks=(KB,)
    )
    assert check(facts) == (facts, [])


def test_ingest_times_make_dates_unknown() -> None:
    facts = {f"p{i}@1.0.0": _facts(f"p{i}", 3) for i in range(5)}
    facts["old@1.0.0"] = _facts("old", 9e5)
    out, warnings = check(facts)
    assert len(warnings) == 1 and "ingest times" in warnings[0]
    assert all(f.last_release is None and f.libyears is None for f in out.values())
