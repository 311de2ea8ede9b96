"""Each rule on synthetic facts: its points, its evidence, and silence on unknown facts."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from synthetic import bug, clock, facts, pkg, renamed, tree, years_ago

from depaudit.errors import ConfigError
from depaudit.models import (
    Advisory,
    KnownLeakKind,
    LeakClass,
    PackageFacts,
    ProblemKind,
    TreeProblem,
)
from depaudit.scoring import Knowledge, LeakScorer, Weights
from depaudit.scoring.rules import RULES

KNOWLEDGE = Knowledge(
    categories={"socket.io-redis": "pubsub-adapter", "redis": "client-pool", "ws": "websocket"},
    companions={"socket.io-redis": ("socket.io",)},
)


def score(packages, fact_list=(), problems=(), knowledge=KNOWLEDGE):
    t = tree(*packages)
    scorer = LeakScorer(knowledge=knowledge, clock=clock)
    by_key = {f.key: f for f in fact_list}
    return {s.key: s for s, _ in _all(scorer, t, problems, by_key)}


def _all(scorer, t, problems, by_key):
    return [r for name in t.names() for r in scorer.explain(t, problems, by_key, name)]


def rules_of(suspect):
    return {s.rule: s for s in suspect.signals}


def advisory(leak_class: LeakClass, affected: str = "<3.0.0", id_: str = "GHSA-1") -> Advisory:
    return Advisory(
        id=id_,
        source="github",
        package="x",
        affected=affected,
        title="memory is never freed",
        leak_class=leak_class,
        severity="high",
        patched="3.0.0",
        url="https://example.invalid/advisories/" + id_,
    )


def test_leak_advisory_covering_the_installed_version_scores_and_links():
    got = score(
        [pkg("x", "2.0.0"), pkg("y", "4.0.0")],
        [
            facts("x", "2.0.0", advisories=(advisory(LeakClass.LEAK),)),
            facts("y", "4.0.0", advisories=(advisory(LeakClass.LEAK),)),  # 4.0.0 is outside
        ],
    )
    signal = rules_of(got["x@2.0.0"])["leak-advisory"]
    assert signal.points == 50
    assert "GHSA-1" in signal.evidence and "fixed in 3.0.0" in signal.evidence
    assert signal.url == "https://example.invalid/advisories/GHSA-1"
    assert signal.ids == ("GHSA-1",)
    assert got["y@4.0.0"].signals == ()


def test_second_leak_advisory_adds_less_and_exhaustion_is_its_own_rule():
    got = score(
        [pkg("x", "2.0.0")],
        [
            facts(
                "x",
                "2.0.0",
                advisories=(
                    advisory(LeakClass.LEAK, id_="GHSA-a"),
                    advisory(LeakClass.LEAK, id_="GHSA-b"),
                    advisory(LeakClass.EXHAUSTION, id_="GHSA-c"),
                    advisory(LeakClass.OTHER, id_="GHSA-d"),
                ),
            )
        ],
    )["x@2.0.0"]
    points = sorted((s.rule, s.points) for s in got.signals)
    assert points == [
        ("exhaustion-advisory", 20),
        ("leak-advisory", 10),
        ("leak-advisory", 50),
    ]
    assert got.score == 80


def test_known_leak_bug_high_and_low_confidence_and_out_of_range():
    got = score(
        [pkg("a", "1.0.0"), pkg("b", "1.0.0"), pkg("c", "5.0.0")],
        [
            facts("a", "1.0.0", known_leaks=(bug("a", "<2.0.0"),)),
            facts("b", "1.0.0", known_leaks=(bug("b", "unknown"),)),
            facts("c", "5.0.0", known_leaks=(bug("c", "<2.0.0"),)),
        ],
    )
    assert rules_of(got["a@1.0.0"])["known-leak"].points == 45
    low = rules_of(got["b@1.0.0"])["known-leak"]
    assert low.points == 25 and "low confidence" in low.evidence
    assert got["c@5.0.0"].signals == ()


def test_deprecated_names_the_successor_and_leak_prone_raises_it():
    got = score(
        [pkg("socket.io-redis", "5.4.0"), pkg("left-pad", "1.3.0")],
        [
            facts(
                "socket.io-redis",
                "5.4.0",
                known_leaks=(renamed("socket.io-redis", "@socket.io/redis-adapter"),),
            ),
            facts("left-pad", "1.3.0", deprecated="use String.prototype.padStart()"),
        ],
    )
    # a rename is maintenance evidence: 15 points, raised for a leak-prone package
    adapter = rules_of(got["socket.io-redis@5.4.0"])["deprecated"]
    assert adapter.points == 22.5  # 15 x 1.5
    assert not adapter.leak
    assert "successor: @socket.io/redis-adapter" in adapter.evidence
    assert "x1.5: leak-prone pubsub-adapter" in adapter.evidence
    assert got["socket.io-redis@5.4.0"].tier.value == "medium"  # + leak-prone 8: medium
    leaf = rules_of(got["left-pad@1.3.0"])["deprecated"]
    assert leaf.points == 15 and "padStart" in leaf.evidence
    assert got["left-pad@1.3.0"].tier.value == "low"  # alone it cannot make medium


def test_lockfile_deprecation_message_counts_without_registry_facts():
    placement = pkg("request", "2.88.2")
    placement = type(placement)(**{**_fields(placement), "deprecated": "request is dead"})
    got = score([placement])["request@2.88.2"]
    assert rules_of(got)["deprecated"].evidence == (
        "deprecated: request is dead; maintenance evidence, not of a leak"
    )


def _fields(obj):
    return {name: getattr(obj, name) for name in obj.__dataclass_fields__}


@pytest.mark.parametrize(
    ("years", "category", "points"),
    [(1.0, None, None), (3.0, None, 4.0), (5.0, None, 12.0), (9.0, None, 12.0), (5.0, "ws", 18.0)],
)
def test_stale_grows_per_year_with_a_cap_and_leak_prone_factor(years, category, points):
    name = category or "util"
    got = score([pkg(name, "1.0.0")], [facts(name, "1.0.0", last_release=years_ago(years))])
    signal = rules_of(got[f"{name}@1.0.0"]).get("stale")
    assert (signal.points if signal else None) == points
    if signal:
        assert f"{years:.1f} years ago" in signal.evidence


def test_far_behind_counts_majors_and_libyears():
    got = score(
        [pkg("x", "1.0.0")], [facts("x", "1.0.0", majors_behind=2, libyears=3.5, latest="3.1.0")]
    )
    signal = rules_of(got["x@1.0.0"])["far-behind"]
    assert signal.points == 10.5  # 2 x 4 + (3.5 - 1) x 1
    assert signal.evidence == "2 majors behind and 3.5 libyears behind latest 3.1.0"


def test_unknown_facts_give_no_signal_and_no_reassurance():
    got = score([pkg("x", "1.0.0")], [PackageFacts("x", "1.0.0")])
    assert got["x@1.0.0"].signals == ()
    got = score([pkg("socket.io-redis", "5.4.0"), pkg("socket.io", "2.5.0")])
    # only the category is known: one signal, and nothing claims the package is fine
    assert [s.rule for s in got["socket.io-redis@5.4.0"].signals] == ["leak-prone"]


def test_companion_drift_from_release_dates():
    got = score(
        [pkg("socket.io-redis", "5.4.0"), pkg("socket.io", "2.5.0")],
        [
            facts("socket.io-redis", "5.4.0", last_release=years_ago(5.5)),
            facts("socket.io", "2.5.0", last_release=years_ago(0.5)),
        ],
    )
    signal = rules_of(got["socket.io-redis@5.4.0"])["companion-drift"]
    assert signal.points == 25
    assert "socket.io (2.5.0 in this tree)" in signal.evidence and "5.0 years" in signal.evidence


def test_companion_drift_needs_the_host_in_the_tree_and_a_real_gap():
    close = score(
        [pkg("socket.io-redis", "6.1.1"), pkg("socket.io", "4.0.0")],
        [
            facts("socket.io-redis", "6.1.1", last_release=years_ago(1.0)),
            facts("socket.io", "4.0.0", last_release=years_ago(0.5)),
        ],
    )
    assert "companion-drift" not in rules_of(close["socket.io-redis@6.1.1"])
    alone = score(
        [pkg("socket.io-redis", "5.4.0")],
        [facts("socket.io-redis", "5.4.0", last_release=years_ago(5.5))],
    )
    assert "companion-drift" not in rules_of(alone["socket.io-redis@5.4.0"])


def test_companion_drift_offline_from_the_knowledge_base_successor():
    got = score(
        [pkg("socket.io-redis", "5.4.0"), pkg("socket.io", "2.5.0")],
        [
            facts(
                "socket.io-redis",
                "5.4.0",
                known_leaks=(renamed("socket.io-redis", "@socket.io/redis-adapter"),),
            )
        ],
    )
    signal = rules_of(got["socket.io-redis@5.4.0"])["companion-drift"]
    assert "replaced by @socket.io/redis-adapter" in signal.evidence


def test_several_versions_of_a_stateful_package_but_not_of_a_leaf():
    got = score(
        [
            pkg("redis", "3.1.2"),
            pkg("redis", "2.8.0", path=("old", "redis")),
            pkg("ms", "2.0.0"),
            pkg("ms", "2.1.3", path=("debug", "ms")),
        ]
    )
    # once per tree (issue 18): on the newest copy only
    assert rules_of(got["redis@3.1.2"])["duplicate-stateful"].evidence == (
        "2 versions of redis in the tree: 2.8.0, 3.1.2"
    )
    assert "duplicate-stateful" not in rules_of(got["redis@2.8.0"])
    assert got["ms@2.0.0"].signals == ()


def test_invalid_and_extraneous_placements():
    problems = [
        TreeProblem(ProblemKind.INVALID, "a", "2.0.0", ("x", "a"), wanted="^1.0.0", found="2.0.0")
    ]
    got = score(
        [pkg("a", "2.0.0", path=("x", "a")), pkg("b", "1.0.0", extraneous=True)], (), problems
    )
    assert rules_of(got["a@2.0.0"])["tree-problem"].evidence == "invalid at x > a (wanted ^1.0.0)"
    assert rules_of(got["b@1.0.0"])["tree-problem"].evidence == "extraneous at b"


def test_not_in_registry_only_when_the_registry_said_so():
    got = score(
        [pkg("private-thing", "1.0.0"), pkg("maybe", "1.0.0")],
        [facts("private-thing", "1.0.0", in_registry=False), facts("maybe", "1.0.0")],
    )
    assert rules_of(got["private-thing@1.0.0"])["not-in-registry"].points == 15
    assert got["maybe@1.0.0"].signals == ()


def test_dev_only_packages_stay_but_weigh_a_quarter():
    got = score([pkg("x", "1.0.0", dev=True)], [facts("x", "1.0.0", known_leaks=(bug("x"),))])[
        "x@1.0.0"
    ]
    assert got.dev
    (signal,) = got.signals
    assert signal.points == 11.2  # 45 x 0.25, rounded to one decimal
    assert signal.evidence.endswith("(x0.25: dev-only)")


def test_a_scaled_signal_keeps_everything_but_its_points_and_evidence():
    """The dev factor rebuilds each signal (not with dataclasses.replace, for speed): every
    other field, its url, ids and leak evidence included, stays as the rule made it."""
    known = {"known_leaks": (bug("x"),)}
    prod = score([pkg("x", "1.0.0")], [facts("x", "1.0.0", **known)])["x@1.0.0"]
    dev = score([pkg("x", "1.0.0", dev=True)], [facts("x", "1.0.0", **known)])["x@1.0.0"]
    (full,) = prod.signals
    (scaled,) = dev.signals
    assert full.leak and full.ids and full.url  # (the fields a rebuild could drop)
    assert scaled == replace(
        full,
        points=round(full.points * 0.25, 1),
        evidence=f"{full.evidence} (x0.25: dev-only)",
    )


def test_bundled_weights_cover_every_rule():
    weights = Weights.bundled()
    assert {rule.id for rule in RULES} == set(weights.rules)
    assert weights.tiers == {"high": 60, "medium": 30, "low": 10}


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"tiers": {"high": 10, "medium": 30, "low": 5}},
        {"tiers": {"high": 60, "medium": 30, "low": 10}, "dev_factor": 0},
        {
            "tiers": {"high": 60, "medium": 30, "low": 10},
            "dev_factor": 0.25,
            "leak_prone_factor": 1.5,
            "rules": {"stale": {"per_year": 4, "severity": "11"}},
        },
        {
            "tiers": {"high": 60, "medium": 30, "low": 10},
            "dev_factor": 0.25,
            "leak_prone_factor": 1.5,
            "rules": {"stale": {"per_year": -1, "severity": "3.0"}},
        },
    ],
)
def test_bad_weights_are_a_config_error(data):
    with pytest.raises(ConfigError):
        Weights.from_mapping(data)


def test_a_rule_without_weights_is_a_config_error():
    weights = Weights.from_mapping(
        {
            "tiers": {"high": 60, "medium": 30, "low": 10},
            "dev_factor": 0.25,
            "leak_prone_factor": 1.5,
            "rules": {},
        }
    )
    with pytest.raises(ConfigError, match="no weights for rule"):
        LeakScorer(weights=weights)


def test_known_leak_bugs_further_ones_add_less_and_transitive_ones_weigh_less():
    second = bug("x")
    second = type(second)(**{**_fields(second), "id": "x-other-leak", "confidence": "low"})
    got = score(
        [pkg("x", "1.0.0"), pkg("y", "1.0.0", path=("x", "y"))],
        [
            facts("x", "1.0.0", known_leaks=(bug("x"), second)),
            facts("y", "1.0.0", known_leaks=(bug("y"),)),
        ],
    )
    assert sorted(s.points for s in got["x@1.0.0"].signals) == [10, 45]
    (transitive,) = got["y@1.0.0"].signals
    assert transitive.points == 27  # 45 x 0.6
    assert "(x0.6: transitive" in transitive.evidence


def test_a_property_of_every_release_weighs_less_than_a_bug_and_says_why():
    design = bug("q", "*", fixed=None)  # e.g. an offline queue without a bound, no fix
    got = score(
        [pkg("q", "2.0.0"), pkg("b", "2.0.0")],
        [
            facts("q", "2.0.0", known_leaks=(design,)),
            facts("b", "2.0.0", known_leaks=(bug("b"),)),
        ],
    )
    (every,) = got["q@2.0.0"].signals
    (real,) = got["b@2.0.0"].signals
    assert every.points == 15 and real.points == 45
    assert "every release, depends on configuration" in every.evidence
    assert "every release" not in real.evidence


def test_low_confidence_bundled_advisory_weighs_less():
    entry = bug("e", "unknown", confidence="low")
    entry = type(entry)(
        **{**_fields(entry), "kind": KnownLeakKind.ADVISORY, "leak_class": LeakClass.LEAK}
    )
    got = score([pkg("e", "3.6.2")], [facts("e", "3.6.2", known_leaks=(entry,))])["e@3.6.2"]
    (signal,) = got.signals
    assert (signal.rule, signal.points, signal.evidence.endswith("(low confidence)")) == (
        "leak-advisory",
        30,
        True,
    )


def test_category_globs_pick_the_first_that_matches() -> None:
    knowledge = Knowledge(
        categories={"redis": "client-pool"},
        patterns=(("@scope/*-cache", "cache"), ("@scope/*", "scoped"), ("*-a*b*", "many-stars")),
    )
    assert knowledge.category_of("redis") == "client-pool"
    assert knowledge.category_of("@scope/lru-cache") == "cache"
    assert knowledge.category_of("@scope/other") == "scoped"
    assert knowledge.category_of("x-aaxbb") == "many-stars"
    assert knowledge.category_of("@other/lru-cache") is None
    assert Knowledge().category_of("anything") is None


# -- rules that need facts are not asked for a package without any -----------------------------

_NAMES = ["socket.io-redis", "socket.io", "redis", "ws", "left-pad", "@s/a"]
_VERSIONS = ["1.0.0", "2.5.0", "5.4.0"]


@st.composite
def _scored_trees(
    draw: st.DrawFn,
) -> tuple[object, tuple[TreeProblem, ...], dict[str, PackageFacts]]:
    """A tree of a few packages (dev, extraneous, deprecated in the lockfile, nested), tree
    problems on some, and facts for some (a bug, a rename, deprecation, age, registry
    absence): the rest have none."""
    from dataclasses import replace as _replace

    packages = []
    for index, name in enumerate(draw(st.lists(st.sampled_from(_NAMES), min_size=1, max_size=6))):
        version = draw(st.sampled_from(_VERSIONS))
        made = pkg(
            name,
            version,
            path=(name,) if draw(st.booleans()) else ("ws", name),
            dev=draw(st.booleans()),
            extraneous=draw(st.booleans()),
            location=f"node_modules/{name}-{index}",
        )
        if draw(st.booleans()):
            made = _replace(made, deprecated="use something else")
        packages.append(made)
    problems = tuple(
        TreeProblem(
            draw(
                st.sampled_from([ProblemKind.INVALID, ProblemKind.EXTRANEOUS, ProblemKind.MISSING])
            ),
            p.name,
            p.version,
            p.path,
        )
        for p in packages
        if draw(st.booleans())
    )
    by_key: dict[str, PackageFacts] = {}
    for p in packages:
        if draw(st.booleans()):
            continue
        by_key[p.key] = facts(
            p.name,
            p.version,
            known_leaks=draw(
                st.sampled_from([(), (bug(p.name),), (renamed(p.name, "successor"),)])
            ),
            in_registry=draw(st.sampled_from([None, True, False])),
            deprecated=draw(st.sampled_from([None, "deprecated: leaks memory"])),
            last_release=draw(st.sampled_from([None, years_ago(4)])),
            majors_behind=draw(st.sampled_from([None, 0, 3])),
            archived=draw(st.sampled_from([None, True])),
        )
    return tree(*packages), problems, by_key


@settings(max_examples=150)
@given(_scored_trees())
def test_rules_that_need_facts_find_nothing_without_them(case: tuple) -> None:
    """Every rule that says it needs facts finds nothing in a package without any, whatever
    its placements, category, problems and runtime; and the scorer that skips them ranks as
    the one that asks every rule."""
    from depaudit.scoring.context import Context

    t, problems, by_key = case
    scorer = LeakScorer(knowledge=KNOWLEDGE, clock=clock)
    ctx = Context(t, problems, by_key, KNOWLEDGE, clock())
    for name, version in t.unique():
        target = scorer.target(ctx, name, version)
        if target.facts is None:
            for rule in scorer.rules:
                if rule.needs_facts:
                    assert rule.evaluate(target, ctx) == [], rule.id

    class AskingEveryRule(LeakScorer):
        @property
        def _rules_without_facts(self):  # type: ignore[override]
            return self.rules

    every = AskingEveryRule(knowledge=KNOWLEDGE, clock=clock)
    assert scorer(t, problems, by_key) == every(t, problems, by_key)


def test_the_rules_that_need_facts_are_the_ones_that_say_so() -> None:
    """Which rules are skipped for a package without facts (a change here changes what an
    offline scan can find: it must be deliberate)."""
    assert {r.id for r in RULES if r.needs_facts} == {
        "leak-advisory",
        "exhaustion-advisory",
        "known-leak",
        "companion-drift",
        "runtime-growth",
        "stale",
        "far-behind",
        "not-in-registry",
        "archived",
        "leak-issues",
    }
