"""Sort an advisory into ``leak``, ``exhaustion`` or ``other`` (rules in data/leak-cwes.yaml).

``leak``: memory or a resource is not released (CWE-401, 772, 775, 404, 459, or a text that
says so). ``exhaustion``: unbounded allocation (CWE-400, 770, 789) when the text is about
memory, heap or allocation. ReDoS (CWE-1333) and everything else: ``other``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from depaudit.bundled import load_bundled_yaml
from depaudit.errors import ConfigError
from depaudit.models import LeakClass
from depaudit.slots import dataclass

RULES_FILE = "leak-cwes.yaml"
_CWE = re.compile(r"^(?:CWE-?)?(\d+)$", re.IGNORECASE)


def normalize_cwe(value: str) -> str | None:
    """``"CWE-401"``, ``"cwe-401"`` and ``"401"`` all become ``"CWE-401"``."""
    match = _CWE.match(value.strip())
    return f"CWE-{int(match.group(1))}" if match else None


@dataclass(frozen=True, slots=True)
class LeakRules:
    leak_cwes: frozenset[str]
    leak_patterns: tuple[re.Pattern[str], ...]
    other_cwes: frozenset[str]
    other_patterns: tuple[re.Pattern[str], ...]
    exhaustion_always: frozenset[str]
    exhaustion_cwes: frozenset[str]
    exhaustion_topics: tuple[re.Pattern[str], ...]

    def classify(self, cwes: Iterable[str], *texts: str | None) -> LeakClass:
        ids = {c for c in (normalize_cwe(x) for x in cwes) if c}
        text = "\n".join(t for t in texts if t)
        if ids & self.leak_cwes or _any(self.leak_patterns, text):
            return LeakClass.LEAK
        if ids & self.other_cwes or _any(self.other_patterns, text):
            return LeakClass.OTHER
        if ids & self.exhaustion_always:
            return LeakClass.EXHAUSTION
        if ids & self.exhaustion_cwes and _any(self.exhaustion_topics, text):
            return LeakClass.EXHAUSTION
        return LeakClass.OTHER


def _any(patterns: Iterable[re.Pattern[str]], text: str) -> bool:
    return any(p.search(text) for p in patterns)


def _cwe_set(raw: Any, where: str) -> frozenset[str]:
    if not isinstance(raw, list):
        raise ConfigError(f"{RULES_FILE}: {where} must be a list of CWE ids")
    out = set()
    for item in raw:
        cwe = normalize_cwe(str(item))
        if cwe is None:
            raise ConfigError(f"{RULES_FILE}: {where}: {item!r} is not a CWE id")
        out.add(cwe)
    return frozenset(out)


def _patterns(raw: Any, where: str) -> tuple[re.Pattern[str], ...]:
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise ConfigError(f"{RULES_FILE}: {where} must be a list of regular expressions")
    try:
        return tuple(re.compile(p, re.IGNORECASE) for p in raw)
    except re.error as exc:
        raise ConfigError(f"{RULES_FILE}: {where}: bad regular expression ({exc})") from None


def _section(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    section = data.get(name)
    if not isinstance(section, dict):
        raise ConfigError(f"{RULES_FILE}: section {name!r} is missing")
    return section


def parse_rules(data: Any) -> LeakRules:
    """Validate the parsed YAML document; a bad file raises :class:`ConfigError`."""
    if not isinstance(data, dict) or data.get("version") != 1:
        raise ConfigError(f"{RULES_FILE}: expected a mapping with version: 1")
    leak = _section(data, "leak")
    other = _section(data, "other")
    exhaustion = _section(data, "exhaustion")
    return LeakRules(
        leak_cwes=_cwe_set(leak.get("cwes"), "leak.cwes"),
        leak_patterns=_patterns(leak.get("patterns", []), "leak.patterns"),
        other_cwes=_cwe_set(other.get("cwes", []), "other.cwes"),
        other_patterns=_patterns(other.get("patterns", []), "other.patterns"),
        exhaustion_always=_cwe_set(exhaustion.get("always", []), "exhaustion.always"),
        exhaustion_cwes=_cwe_set(exhaustion.get("cwes"), "exhaustion.cwes"),
        exhaustion_topics=_patterns(exhaustion.get("topic_patterns"), "exhaustion.topic_patterns"),
    )


@lru_cache(maxsize=1)
def default_rules() -> LeakRules:
    return parse_rules(load_bundled_yaml(RULES_FILE))


def classify(cwes: Iterable[str], *texts: str | None) -> LeakClass:
    """The leak class of an advisory with these CWE ids and texts (title, summary ...)."""
    return default_rules().classify(cwes, *texts)
