"""What yarn classic and yarn berry share: descriptors (``alias@npm:real@range``), the root
package.json's ``resolutions`` as override rules, and the types package.json declares."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from depaudit.models import Dependency, DepType
from depaudit.overrides import Override, parse_yarn_resolutions
from depaudit.sources._lockgraph import split_ident
from depaudit.sources.manifest import read_manifest

WHAT = "yarn.lock"

#: (dependency name, spec) -> the lock location it resolves to, or None
Lookup = Callable[[str, str], "str | None"]


def descriptor_name(descriptor: str) -> tuple[str, str, str | None]:
    """(real name, range, alias name or None) of ``alias@npm:real@range`` / ``a@range``."""
    name, rng = split_ident(descriptor)
    if rng.startswith("npm:") and "@" in rng[5:]:
        real, real_range = split_ident(rng[4:])
        if real and real != name:
            return real, real_range, name
    return name, rng, None


def types_from(declared: tuple[Dependency, ...] | None) -> dict[str, DepType]:
    """name -> the type package.json declares it with."""
    return {d.name: d.type for d in declared or ()}


def resolutions(path: Path) -> tuple[tuple[Override, ...], list[str]]:
    """The root package.json's ``resolutions`` beside the lockfile, as override rules."""
    manifest = read_manifest(path.parent / "package.json")
    return parse_yarn_resolutions(manifest) if manifest is not None else ((), [])
