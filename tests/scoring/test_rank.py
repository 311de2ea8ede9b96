"""Ranking: score = sum of points, tiers from the thresholds, order (-score, name, version)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from synthetic import bug, clock, facts, pkg, renamed, tree, years_ago

from depaudit.audit import Auditor
from depaudit.models import Advisory, LeakClass, Tier
from depaudit.scoring import Knowledge, LeakScorer, at_or_above, tier_for
from depaudit.scoring.rank import TIER_ORDER
from depaudit.scoring.rules import Weights

KNOWLEDGE = Knowledge(
    categories={"socket.io-redis": "pubsub-adapter", "request": "http-agent"},
    companions={"socket.io-redis": ("socket.io",)},
)


def test_tiers_follow_the_thresholds():
    weights = Weights.bundled()
    assert tier_for(60, weights) is Tier.HIGH
    assert tier_for(59.9, weights) is Tier.MEDIUM
    assert tier_for(30, weights) is Tier.MEDIUM
    assert tier_for(10, weights) is Tier.LOW
    assert tier_for(9.9, weights) is None
    assert at_or_above(Tier.HIGH, Tier.MEDIUM) and not at_or_above(Tier.LOW, Tier.MEDIUM)


@settings(max_examples=300)
@given(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.lists(st.floats(min_value=0.1, max_value=1e6), min_size=3, max_size=3, unique=True),
)
def test_tier_for_is_the_first_threshold_reached(score: float, thresholds: list[float]) -> None:
    low, medium, high = sorted(thresholds)
    weights = replace(Weights.bundled(), tiers={"high": high, "medium": medium, "low": low})
    expected = next((t for t in TIER_ORDER if score >= weights.tiers[t.value]), None)
    assert tier_for(score, weights) is expected


def test_order_is_minus_score_then_name_then_version_and_low_scores_are_dropped():
    t = tree(
        pkg("b", "1.0.0"),
        pkg("a", "2.0.0"),
        pkg("a", "1.0.0", path=("b", "a"), direct=True),  # also a direct dependency
        pkg("quiet", "1.0.0"),
    )
    same = {"known_leaks": (bug("x"),)}
    by_key = {
        f.key: f
        for f in [
            facts("b", "1.0.0", **same),
            facts("a", "2.0.0", **same),
            facts("a", "1.0.0", **same),
            facts("quiet", "1.0.0", last_release=years_ago(2.5)),  # 2 points: below low
        ]
    }
    suspects = LeakScorer(knowledge=KNOWLEDGE, clock=clock)(t, (), by_key)
    assert [(s.key, s.score, s.tier) for s in suspects] == [
        ("a@1.0.0", 45, Tier.MEDIUM),
        ("a@2.0.0", 45, Tier.MEDIUM),
        ("b@1.0.0", 45, Tier.MEDIUM),
    ]
    assert suspects[0].paths == (("b", "a"),)
    # the same suspects as scoring each package on its own (explain's way), reported ones only
    scorer = LeakScorer(knowledge=KNOWLEDGE, clock=clock)
    one_by_one = [
        s
        for name, version in t.unique()
        for s, reported in scorer.explain(t, (), by_key, name, version)
        if reported
    ]
    assert sorted(one_by_one, key=lambda s: (-s.score, s.name, s.version)) == suspects
    assert len(scorer.explain(t, (), by_key, "quiet")) == 1  # scored, not reported


def test_a_stale_renamed_adapter_outranks_a_stale_leaf_with_an_exhaustion_advisory():
    """The 'no small leaf utility outranks them' criterion on synthetic facts."""
    t = tree(pkg("socket.io-redis", "5.4.0"), pkg("socket.io", "2.5.0"), pkg("qs", "6.5.2"))
    exhaustion = Advisory(
        id="GHSA-q",
        source="github",
        package="qs",
        affected="<6.5.3",
        title="qs vulnerable to unbounded allocation",
        leak_class=LeakClass.EXHAUSTION,
    )
    by_key = {
        f.key: f
        for f in [
            facts(
                "socket.io-redis",
                "5.4.0",
                known_leaks=(renamed("socket.io-redis", "@socket.io/redis-adapter"),),
                last_release=years_ago(5.5),
                majors_behind=1,
                libyears=4.0,
            ),
            facts("socket.io", "2.5.0", last_release=years_ago(0.3)),
            facts(
                "qs",
                "6.5.2",
                advisories=(exhaustion,),
                last_release=years_ago(10),
                majors_behind=0,
                libyears=6.0,
            ),
        ]
    }
    suspects = LeakScorer(knowledge=KNOWLEDGE, clock=clock)(t, (), by_key)
    assert suspects[0].key == "socket.io-redis@5.4.0"
    # its score is past the high threshold, but a rename, staleness and drift are no evidence
    # of a leak in the installed version: high is withheld (issue 18)
    assert suspects[0].score >= 60
    assert suspects[0].tier is Tier.MEDIUM
    assert len({s.rule for s in suspects[0].signals}) >= 2
    leaf = next(s for s in suspects if s.name == "qs")
    assert leaf.tier is not Tier.HIGH
    # every score is reproducible from its own evidence
    for suspect in suspects:
        assert suspect.score == round(sum(s.points for s in suspect.signals), 1)


def test_the_auditor_runs_the_scorer_through_its_hook():
    t = tree(pkg("x", "1.0.0"))

    from depaudit.services.interface import EnrichmentResult, EnrichmentService

    class Service(EnrichmentService):
        name = "fake"

        def enrich_all(self, refs):
            return EnrichmentResult(facts={"x@1.0.0": facts("x", "1.0.0", known_leaks=(bug("x"),))})

    report = Auditor(
        tree=t, services=[Service()], scorer=LeakScorer(clock=clock), clock=clock
    ).run()
    assert [s.key for s in report.suspects] == ["x@1.0.0"]
