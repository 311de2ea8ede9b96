"""Signals -> score, tier and order. ``LeakScorer`` is the scorer the Auditor is given."""

from depaudit.scoring.rank import LeakScorer, at_or_above, rank, rescore, tier_for
from depaudit.scoring.rules import RULES, Knowledge, Rule, Weights

__all__ = [
    "RULES",
    "Knowledge",
    "LeakScorer",
    "Rule",
    "Weights",
    "at_or_above",
    "rank",
    "rescore",
    "tier_for",
]
