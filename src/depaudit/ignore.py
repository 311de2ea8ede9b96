"""The ignore file: ``[[ignore]]`` entries of ``.depaudit.toml``.

Each entry names a ``package`` (with an optional npm ``range``) or an ``advisory`` id (or
alias), gives a ``reason`` (required) and optionally an ``until`` date. A package entry drops
the suspect; an advisory entry drops the signals resting on that advisory and the suspect is
scored again. Expired entries stop applying; they and entries that match nothing are reported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from depaudit.errors import ConfigError
from depaudit.models import Report, Suspect
from depaudit.ranges import RangeError, validate_npm_range
from depaudit.scoring.rank import rank, rescore
from depaudit.scoring.rules import Weights, covers
from depaudit.slots import dataclass

KEYS = frozenset({"package", "range", "advisory", "reason", "until"})


@dataclass(frozen=True, slots=True)
class IgnoreEntry:
    reason: str
    package: str | None = None
    range: str | None = None
    advisory: str | None = None
    until: date | None = None

    def describe(self) -> str:
        if self.package:
            what = self.package + (f" {self.range}" if self.range else "")
        else:
            what = f"advisory {self.advisory}"
        until = f" until {self.until.isoformat()}" if self.until else ""
        return f"{what}{until} ({self.reason})"

    def expired(self, today: date) -> bool:
        return self.until is not None and today > self.until

    def matches_package(self, suspect: Suspect) -> bool:
        if self.package is None or self.package != suspect.name:
            return False
        return self.range is None or covers(suspect.version, self.range) is True


def _date(value: Any, where: str, origin: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(f"{origin}: {where}: until must be a date (YYYY-MM-DD)", "until = 2027-01-31")


def parse_ignores(config: Mapping[str, Any], origin: str) -> list[IgnoreEntry]:
    """The ``[[ignore]]`` entries of a parsed config file; a bad one is a ConfigError."""
    raw = config.get("ignore", [])
    if not isinstance(raw, list):
        raise ConfigError(f"{origin}: ignore must be an array of tables", "use [[ignore]]")
    entries = []
    for index, item in enumerate(raw, 1):
        where = f"ignore entry {index}"
        if not isinstance(item, dict):
            raise ConfigError(f"{origin}: {where} is not a table", "use [[ignore]]")
        unknown = sorted(set(item) - KEYS)
        if unknown:
            raise ConfigError(
                f"{origin}: {where}: unknown key {', '.join(unknown)}",
                "keys: package, range, advisory, reason, until",
            )
        package, advisory, range_ = item.get("package"), item.get("advisory"), item.get("range")
        if (package is None) == (advisory is None):
            raise ConfigError(
                f"{origin}: {where}: name exactly one of package or advisory",
                'package = "request" or advisory = "GHSA-xxxx-xxxx-xxxx"',
            )
        for key, value in (("package", package), ("advisory", advisory), ("range", range_)):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ConfigError(f"{origin}: {where}: {key} must be a non-empty string")
        if range_ is not None:
            if advisory is not None:
                raise ConfigError(f"{origin}: {where}: range only goes with package")
            try:
                validate_npm_range(range_)
            except RangeError as exc:
                raise ConfigError(f"{origin}: {where}: {exc}") from None
        reason = item.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(
                f"{origin}: {where}: reason is required", 'reason = "why this is acceptable"'
            )
        entries.append(
            IgnoreEntry(
                reason=reason.strip(),
                package=package,
                range=range_,
                advisory=advisory,
                until=_date(item.get("until"), where, origin),
            )
        )
    return entries


def _drop_advisory(suspect: Suspect, advisory: str) -> tuple[Suspect, bool]:
    wanted = advisory.lower()
    kept = tuple(s for s in suspect.signals if wanted not in (i.lower() for i in s.ids))
    return replace(suspect, signals=kept), len(kept) < len(suspect.signals)


def apply_ignores(
    report: Report,
    entries: Sequence[IgnoreEntry],
    today: date,
    weights: Weights | None = None,
    origin: str = ".depaudit.toml",
) -> Report:
    """``report`` without what the live entries ignore, and notes on every entry's fate."""
    if not entries:
        return report
    weights = weights or Weights.bundled()
    notes: list[str] = []
    warnings: list[str] = []
    suspects = list(report.suspects)
    for entry in entries:
        if entry.expired(today):
            text = f"{origin}: expired, no longer applied: {entry.describe()}"
            notes.append(text)
            warnings.append(text)
            continue
        matched: list[str] = []
        kept: list[Suspect] = []
        for suspect in suspects:
            if entry.matches_package(suspect):
                matched.append(suspect.key)
                continue
            if entry.advisory:
                changed, hit = _drop_advisory(suspect, entry.advisory)
                if hit:
                    matched.append(suspect.key)
                    rescored = rescore(changed, changed.signals, weights)
                    if rescored is not None:
                        kept.append(rescored)
                    continue
            kept.append(suspect)
        suspects = kept
        if matched:
            notes.append(f"{origin}: ignored {', '.join(matched)}: {entry.describe()}")
        else:
            text = f"{origin}: matched nothing: {entry.describe()}"
            notes.append(text)
            warnings.append(text)
    return replace(
        report,
        suspects=tuple(rank(suspects)),
        ignored=report.ignored + tuple(notes),
        warnings=report.warnings + tuple(warnings),
    )


def today_from(clock: Callable[[], datetime]) -> date:
    return clock().date()
