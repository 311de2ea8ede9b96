"""The five leak rules over a :class:`~depaudit.code.analysis.FileContext`, one module each:

* :mod:`.unreleased_connection` (and the client-per-request variant ``UnreleasedClientCall``),
* :mod:`.listener_leak`,
* :mod:`.growing_collection` (with the scan of module-level collections it shares with
  :mod:`.unbounded_cache`),
* :mod:`.uncleared_timer`,
* :mod:`.unbounded_cache`;

:mod:`.shared` holds the finding before it has its file (``RawFinding``), the ``Rule``
interface and the syntax helpers more than one rule uses. :func:`run_rules` runs them all.

Every rule is written for precision: when a value escapes (returned, stored, exported, handed
to a function the rule cannot see), when a removal or release exists on some path the rule
cannot prove wrong, or when the code is not per-request, the rule stays silent.
"""

from __future__ import annotations

from depaudit.code.analysis import FileContext
from depaudit.code.rules.growing_collection import GrowingCollection
from depaudit.code.rules.listener_leak import ListenerLeak
from depaudit.code.rules.shared import RawFinding, Rule
from depaudit.code.rules.unbounded_cache import UnboundedCache
from depaudit.code.rules.uncleared_timer import UnclearedTimer
from depaudit.code.rules.unreleased_connection import UnreleasedClientCall, UnreleasedConnection

__all__ = ["RULE_CLASSES", "RawFinding", "Rule", "run_rules"]


RULE_CLASSES: tuple[Rule, ...] = (
    UnreleasedConnection(),
    UnreleasedClientCall(),
    ListenerLeak(),
    GrowingCollection(),
    UnclearedTimer(),
    UnboundedCache(),
)


def run_rules(ctx: FileContext) -> list[RawFinding]:
    seen: set[tuple[str, int, int]] = set()
    out: list[RawFinding] = []
    for rule in RULE_CLASSES:
        for finding in rule.check(ctx):
            key = (finding.rule, finding.line, finding.column)
            if key not in seen:
                seen.add(key)
                out.append(finding)
    out.sort(key=lambda f: (f.line, f.column, f.rule))
    return out
