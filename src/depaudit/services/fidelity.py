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
    for key, fact in sorted(facts.items()):
        if not fact.deprecation_known or fact.deprecated is not None:
            continue
        if fact.package_deprecated:
            continue
        if any(
            entry.kind is KnownLeakKind.DEPRECATION and "deprecated" in entry.summary.lower()
            for entry in fact.known_leaks
        ):
            found.append(key)
    return found


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


def check(facts: Mapping[str, PackageFacts]) -> tuple[dict[str, PackageFacts], list[str]]:
    """The facts with unreliable registry fields made unknown, and one warning per finding."""
    out = dict(facts)
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
        for key, fact in out.items():
            if fact.deprecation_known and fact.deprecated is None:
                out[key] = fact.evolve(deprecation_known=False, package_deprecated=None)
    squeezed, several = ingest_times(facts)
    if several >= MIN_PACKAGES and squeezed * 2 > several:
        warnings.append(
            f"the registry's publish times look like mirror ingest times ({squeezed} of "
            f"{several} packages with several releases have them all within "
            f"{INGEST_WINDOW // 60} minutes): release dates, ages and libyears are treated as "
            "unknown"
        )
        for key, fact in out.items():
            out[key] = fact.evolve(
                installed_published=None,
                latest_published=None,
                last_release=None,
                created=None,
                libyears=None,
                age_days=None,
                days_since_release=None,
            )
    return out, warnings
