"""Weights that follow evidence (issue 18): runtime status, deprecation wording, high tier."""

from __future__ import annotations

from dataclasses import replace

from synthetic import bug, clock, facts, pkg, tree

from depaudit.models import PlacementRuntime, Runtime, Tier
from depaudit.scoring import Knowledge, LeakScorer
from depaudit.scoring.rules_upkeep import read_deprecation

KNOWLEDGE = Knowledge(categories={"debug": "emitters", "lru-cache": "caches"})
LOADED = PlacementRuntime(Runtime.LOADED, "reached through module-scope loads", ("s.js",))
LAZY = PlacementRuntime(Runtime.LAZY, "reached through a lazy load")
GYP = PlacementRuntime(Runtime.NOT_LOADED, "only reached through node-gyp, which x never requires")


def _score(packages, statuses, fact_list=()):
    t = replace(tree(*packages), runtime=statuses)
    scorer = LeakScorer(knowledge=KNOWLEDGE, clock=clock)
    by_key = {f.key: f for f in fact_list}
    every = {s.key: (s, r) for n in t.names() for s, r in scorer.explain(t, (), by_key, n)}
    return every, scorer(t, (), by_key)


LEAKS = facts("inflight", "1.0.6", deprecated="This module is not supported, and leaks memory.")


def test_not_loaded_weighs_less_than_dev_and_says_why() -> None:
    p = pkg("inflight", "1.0.6")
    every, _ = _score([p], {p.location: GYP}, [LEAKS])
    suspect, _ = every["inflight@1.0.6"]
    (signal,) = suspect.signals
    assert signal.points == 7.0  # 35 x 0.2
    assert "x0.2: not loaded: only reached through node-gyp" in signal.evidence
    assert suspect.runtime == GYP


def test_leak_deprecation_on_a_loaded_package_is_high_and_lazy_is_not() -> None:
    p = pkg("inflight", "1.0.6")
    f = replace(LEAKS, known_leaks=(bug("inflight", affected="*", fixed=None),))
    every, _ = _score([p], {p.location: LOADED}, [replace(f, known_leaks=(bug("inflight"),))])
    suspect, _ = every["inflight@1.0.6"]
    assert suspect.score >= 60 and suspect.tier is Tier.HIGH
    assert any(s.leak for s in suspect.signals)
    every, _ = _score([p], {p.location: LAZY}, [replace(f, known_leaks=(bug("inflight"),))])
    assert every["inflight@1.0.6"][0].tier is Tier.MEDIUM  # runs only if that path runs


def test_types_packages_are_never_suspects() -> None:
    p = pkg("@types/node", "20.0.0")
    f = facts("@types/node", "20.0.0", deprecated="no longer supported, use node's own types")
    _, suspects = _score([p], {}, [f])
    assert suspects == []


def test_duplicate_stateful_once_per_tree_and_only_loaded_copies() -> None:
    copies = [
        pkg("lru-cache", v, path=(a, "lru-cache"))
        for v, a in (("5.1.1", "a"), ("6.0.0", "b"), ("7.18.3", "c"), ("10.2.0", "d"))
    ]
    statuses = {
        copies[0].location: GYP,
        copies[1].location: LOADED,
        copies[2].location: LOADED,
        copies[3].location: GYP,
    }
    every, _ = _score(copies, statuses)
    dup = {k: [s for s in v[0].signals if s.rule == "duplicate-stateful"] for k, v in every.items()}
    assert [k for k, v in dup.items() if v] == ["lru-cache@7.18.3"]  # newest loaded copy
    assert dup["lru-cache@7.18.3"][0].evidence == "2 versions of lru-cache running: 6.0.0, 7.18.3"


def test_deprecation_wording() -> None:
    assert read_deprecation("This module is not supported, and leaks memory.") == (True, None)
    assert read_deprecation("Package no longer supported. Contact Support") == (False, None)
    assert read_deprecation("this package has been renamed to @scope/new-name") == (
        False,
        "@scope/new-name",
    )
    assert read_deprecation("Please use `node-fetch` instead") == (False, "node-fetch")
    assert read_deprecation("uuid@9 is no longer supported; upgrade to uuid@10") == (False, None)
