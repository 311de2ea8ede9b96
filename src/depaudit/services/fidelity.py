"""Registry fidelity: is what the registry said about deprecation and publish times real?

Some registries (mirrors, proxies) strip ``deprecated`` from their documents or serve the
time they ingested each version instead of its publish time. Their facts would read as "not
deprecated" and "released yesterday": reassurance nobody earned. Two checks, on the facts of
the whole tree, each warned about once:

* **deprecation stripped**: a package the bundled knowledge base knows as deprecated (a
  ``deprecation`` entry covering the installed version, quoted from the registry's own
  message) comes back from the registry without any deprecation;
* **ingest times**: among packages with several releases, most have every release
  (``created`` to the last release) within minutes of each other.

When a check fires, those facts become unknown for every package (``None``), so no rule
scores them and ``explain`` lists them as unknown.
"""

from __future__ import annotations

from collections.abc import Mapping

from depaudit.models import KnownLeakKind, PackageFacts

#: every release inside this many seconds: one ingest, not a release history
INGEST_WINDOW = 15 * 60
#: at least this many multi-release packages before the time check speaks
MIN_PACKAGES = 5


def stripped_deprecations(facts: Mapping[str, PackageFacts]) -> list[str]:
    """name@version the knowledge base calls deprecated and the registry says is not."""
    found = []
    for key, fact in facts.items():  # (sorted below: the few found, not every fact)
        if not fact.known_leaks or not fact.deprecation_known or fact.deprecated is not None:
            continue
        if fact.package_deprecated:
            continue
        if any(
            entry.kind is KnownLeakKind.DEPRECATION and "deprecated" in entry.summary.lower()
            for entry in fact.known_leaks
        ):
            found.append(key)
    return sorted(found)


def ingest_times(facts: Mapping[str, PackageFacts]) -> tuple[int, int]:
    """(packages whose releases all fall in one ingest window, packages with several
    releases and known times)."""
    several = squeezed = 0
    for fact in facts.values():
        if fact.created is None or fact.last_release is None:
            continue
        if not fact.versions_behind and fact.latest in (None, fact.version):
            continue  # one release is not a history
        several += 1
        if abs((fact.last_release - fact.created).total_seconds()) <= INGEST_WINDOW:
            squeezed += 1
    return squeezed, several


#: what each finding makes unknown
_NO_DEPRECATION = {"deprecation_known": False, "package_deprecated": None}
_NO_TIMES = dict.fromkeys(
    (
        "installed_published",
        "latest_published",
        "last_release",
        "created",
        "libyears",
        "age_days",
        "days_since_release",
    )
)


def check(facts: Mapping[str, PackageFacts]) -> tuple[dict[str, PackageFacts], list[str]]:
    """The facts with unreliable registry fields made unknown, and one warning per finding.
    Both checks read the facts as given; each fact is rewritten once, whatever both found."""
    warnings: list[str] = []
    stripped = stripped_deprecations(facts)
    if stripped:
        shown = ", ".join(stripped[:3]) + (
            f" and {len(stripped) - 3} more" if len(stripped) > 3 else ""
        )
        warnings.append(
            f"the registry shows {shown} without the deprecation the bundled knowledge base "
            "records: it seems to strip `deprecated`; deprecation is treated as unknown for "
            "every package (not as 'not deprecated')"
        )
    squeezed, several = ingest_times(facts)
    times = several >= MIN_PACKAGES and squeezed * 2 > several
    if times:
        warnings.append(
            f"the registry's publish times look like mirror ingest times ({squeezed} of "
            f"{several} packages with several releases have them all within "
            f"{INGEST_WINDOW // 60} minutes): release dates, ages and libyears are treated as "
            "unknown"
        )
    out = dict(facts)
    if not (stripped or times):
        return out, warnings
    # the changes a fact may get, made once (not merged again for each of its facts)
    dated = _NO_TIMES if times else {}
    both = {**(_NO_DEPRECATION if stripped else {}), **dated}
    for key, fact in facts.items():
        if stripped and fact.deprecation_known and fact.deprecated is None:
            out[key] = fact.evolve(**both)
        elif dated:
            out[key] = fact.evolve(**dated)
    return out, warnings
