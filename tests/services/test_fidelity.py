"""Registry fidelity: stripped deprecations and mirror ingest times are unknown, not fine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

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


def _one_finding_at_a_time(
    facts: dict[str, PackageFacts],
) -> tuple[dict[str, PackageFacts], list[str]]:
    """The check as it was written first: each finding rewrites the facts in its own pass
    (the oracle of the one-pass rewrite)."""
    from dataclasses import replace

    from depaudit.services.fidelity import (
        INGEST_WINDOW,
        MIN_PACKAGES,
        ingest_times,
        stripped_deprecations,
    )

    out, warnings = dict(facts), []
    if stripped_deprecations(facts):
        warnings.append("deprecation")
        for key, fact in out.items():
            if fact.deprecation_known and fact.deprecated is None:
                out[key] = replace(fact, deprecation_known=False, package_deprecated=None)
    squeezed, several = ingest_times(facts)
    if several >= MIN_PACKAGES and squeezed * 2 > several:
        warnings.append(f"times {INGEST_WINDOW}")
        for key, fact in out.items():
            out[key] = replace(
                fact,
                installed_published=None,
                latest_published=None,
                last_release=None,
                created=None,
                libyears=None,
                age_days=None,
                days_since_release=None,
            )
    return out, warnings


_ONE_FACT = st.builds(
    _facts,
    st.text("abcdef", min_size=1, max_size=3),
    st.sampled_from([1.0, 10.0, 20.0, 600.0, 60.0 * 24 * 400]),
    deprecation_known=st.booleans(),
    deprecated=st.none() | st.just("do not use"),
    package_deprecated=st.none() | st.booleans(),
    known_leaks=st.sampled_from([(), (KB,)]),
    age_days=st.none() | st.just(3.5),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ONE_FACT, max_size=12, unique_by=lambda f: f.name))
def test_one_pass_rewrite_is_the_two_findings_in_turn(values: list[PackageFacts]) -> None:
    """Whatever the findings (none, either, both), each fact comes out as the two passes of
    the first version made it, and the warnings are the same in number and order."""
    facts = {f.key: f for f in values}
    got, warnings = check(facts)
    want, kinds = _one_finding_at_a_time(facts)
    assert got == want
    assert [w.startswith("the registry shows") for w in warnings] == [
        k == "deprecation" for k in kinds
    ]
    assert facts == {f.key: f for f in values}  # the input is not changed


def test_the_warning_names_the_first_three_stripped_packages_by_name() -> None:
    names = ["e-pkg", "d-pkg", "c-pkg", "b-pkg", "a-pkg"]  # (given out of order)
    facts = {f"{n}@1.0.0": _facts(n, 9e5, deprecation_known=True, known_leaks=(KB,)) for n in names}
    facts["plain@1.0.0"] = _facts("plain", 9e5, deprecation_known=True)
    _, warnings = check(facts)
    assert warnings[0].startswith(
        "the registry shows a-pkg@1.0.0, b-pkg@1.0.0, c-pkg@1.0.0 and 2 more without"
    )
