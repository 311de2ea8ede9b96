"""The numbers of ``data/scoring.yaml`` (:class:`Weights`), validated once."""

from __future__ import annotations

from collections.abc import Mapping

from depaudit.bundled import load_bundled_yaml
from depaudit.errors import ConfigError
from depaudit.slots import dataclass

DAYS_PER_YEAR = 365.25
WEIGHTS_RESOURCE = "scoring.yaml"


@dataclass(frozen=True, slots=True)
class Weights:
    """The numbers of ``data/scoring.yaml``, validated once."""

    tiers: Mapping[str, float]
    dev_factor: float
    leak_prone_factor: float
    rules: Mapping[str, Mapping[str, float]]
    severities: Mapping[str, str]
    #: multiplier for packages no placement of which the production process loads
    not_loaded_factor: float = 0.25

    def rule(self, rule_id: str) -> Mapping[str, float]:
        return self.rules[rule_id]

    @classmethod
    def from_mapping(cls, data: object, origin: str = WEIGHTS_RESOURCE) -> Weights:
        def fail(problem: str) -> ConfigError:
            return ConfigError(f"{origin}: {problem}", "compare with the bundled scoring.yaml")

        if not isinstance(data, dict):
            raise fail("not a mapping")
        tiers = data.get("tiers")
        if not isinstance(tiers, dict) or set(tiers) != {"high", "medium", "low"}:
            raise fail("tiers must name high, medium and low")
        if not all(isinstance(v, int | float) for v in tiers.values()):
            raise fail("tier thresholds must be numbers")
        if not tiers["high"] > tiers["medium"] > tiers["low"] > 0:
            raise fail("tier thresholds must satisfy high > medium > low > 0")
        factors = {}
        for key in ("dev_factor", "leak_prone_factor"):
            value = data.get(key)
            if not isinstance(value, int | float) or value <= 0:
                raise fail(f"{key} must be a positive number")
            factors[key] = float(value)
        raw_rules = data.get("rules")
        if not isinstance(raw_rules, dict):
            raise fail("rules must be a mapping")
        rules: dict[str, dict[str, float]] = {}
        severities: dict[str, str] = {}
        for rule_id, body in raw_rules.items():
            if not isinstance(body, dict):
                raise fail(f"rules.{rule_id} must be a mapping")
            severity = body.get("severity")
            try:
                ok = isinstance(severity, str) and 0.1 <= float(severity) <= 10.0
            except ValueError:
                ok = False
            if not ok:
                raise fail(f'rules.{rule_id}.severity must be a string "0.1".."10.0"')
            severities[rule_id] = str(severity)
            numbers = {k: v for k, v in body.items() if k != "severity"}
            if not all(isinstance(v, int | float) and v >= 0 for v in numbers.values()):
                raise fail(f"rules.{rule_id}: weights must be non-negative numbers")
            rules[rule_id] = {k: float(v) for k, v in numbers.items()}
        not_loaded = data.get("not_loaded_factor", factors["dev_factor"])
        if not isinstance(not_loaded, int | float) or not 0 < not_loaded <= factors["dev_factor"]:
            raise fail("not_loaded_factor must be a positive number no larger than dev_factor")
        return cls(
            not_loaded_factor=float(not_loaded),
            tiers={k: float(v) for k, v in tiers.items()},
            dev_factor=factors["dev_factor"],
            leak_prone_factor=factors["leak_prone_factor"],
            rules=rules,
            severities=severities,
        )

    @classmethod
    def bundled(cls) -> Weights:
        return cls.from_mapping(load_bundled_yaml(WEIGHTS_RESOURCE))
