"""What ``depaudit code`` finds: one :class:`Finding` per leak site, gathered in a
:class:`CodeReport`. Frozen and JSON-able (the per-file cache stores findings as dicts)."""

from __future__ import annotations

from dataclasses import field
from typing import Any

from depaudit.models import CodeFinding, Tier
from depaudit.slots import dataclass


@dataclass(frozen=True, slots=True)
class RuleInfo:
    id: str
    title: str
    tier: Tier
    description: str


#: The five rules, in the order the README documents them. The tier says how a finding counts
#: for ``--fail-on`` (the same tiers as a suspect's): a checked-out connection that is not
#: returned or a timer per connection takes a service down (high); listeners and growing
#: collections leak memory slowly (medium); an unbounded cache may have a bounded key space
#: that depaudit cannot see (low).
RULES: tuple[RuleInfo, ...] = (
    RuleInfo(
        "unreleased-connection",
        "Connection or client not released on every path",
        Tier.HIGH,
        "A pooled connection is checked out (getConnection, pool.connect, acquire) or a client "
        "is created per request (new Client, createConnection, new Redis, createClient) and is "
        "not released on every path: never released, released outside `finally` so a throwing "
        "query skips it, or an early return before the release.",
    ),
    RuleInfo(
        "listener-leak",
        "Listener added to a long-lived emitter per request",
        Tier.MEDIUM,
        "Per-request or per-connection code adds a listener (on/addListener) to an emitter that "
        "outlives the request (process, a module-level client or server, the keep-alive socket) "
        "and never removes that same function (off/removeListener), keeps no disposer and uses "
        "no `once` or AbortSignal.",
    ),
    RuleInfo(
        "growing-collection",
        "Module-level collection grows per request and is never shrunk",
        Tier.MEDIUM,
        "A module-level array, Map, Set or object used as a map grows (push, set, add, "
        "obj[key] = ...) in per-request or per-event code and nothing in the module ever "
        "removes from it (delete, splice, shift, clear, reassignment) or checks its size.",
    ),
    RuleInfo(
        "uncleared-timer",
        "Timer per request or connection never cleared",
        Tier.HIGH,
        "setInterval (or a setTimeout that re-arms itself) is started per request or "
        "connection and no clearInterval/clearTimeout in the module clears its handle, so the "
        "timer and everything its callback closes over live forever.",
    ),
    RuleInfo(
        "unbounded-cache",
        "Memoization or cache without a bound",
        Tier.LOW,
        "A cache filled per request has no bound: a module-level Map or object used as a "
        "cache with no eviction, memoizee/lodash memoize without `max`, an LRU constructed "
        "without max/maxSize, or an LRU written around (lru[key] = value) instead of through "
        "its set().",
    ),
)
RULE_IDS = frozenset(rule.id for rule in RULES)
RULE_BY_ID = {rule.id: rule for rule in RULES}


Finding = CodeFinding


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "file": finding.file,
        "line": finding.line,
        "column": finding.column,
        "tier": finding.tier.value,
        "message": finding.message,
        "evidence": list(finding.evidence),
        "package": finding.package,
    }


def finding_from_cached(data: dict[str, Any], file: str) -> Finding:
    rule = str(data["rule"])
    return Finding(
        rule=rule,
        file=file,
        line=int(data["line"]),
        column=int(data["column"]),
        message=str(data["message"]),
        evidence=tuple(str(e) for e in data.get("evidence", ())),
        package=data.get("package"),
        tier=RULE_BY_ID[rule].tier if rule in RULE_BY_ID else Tier.MEDIUM,
    )


@dataclass(frozen=True, slots=True)
class SkippedFile:
    file: str
    reason: str


@dataclass(frozen=True, slots=True)
class CodeReport:
    root: str
    files: int
    findings: tuple[Finding, ...]
    suppressed: int = 0
    skipped: tuple[SkippedFile, ...] = ()
    warnings: tuple[str, ...] = ()
    cached: int = 0  # files whose findings came from the cache
    by_rule: dict[str, int] = field(default_factory=dict)
