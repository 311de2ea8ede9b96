"""The packages an npm lockfile places, read before the tree is: what the registry's fetch
and the advisories start on while ``npm ls`` reads the installed tree (``app.begin_services``,
``RegistryService.begin``, ``EnrichmentService.begin``).

Where a scan reads an installed project (``node_modules`` beside an npm lockfile, npm on
PATH and allowed: ``sources.loader``), reading the tree means waiting ~1 s for ``npm ls``
(1,300 packages; 3.8 s for theia's), a process of its own, and the fetch used to wait with
it. Now it starts on the lockfile's placements and waits on the network meanwhile (theia's
layout at a 50 ms round trip: 5.4 s against 7.9 s; benchmarks/README.md).

Where the tree is an npm lockfile alone (:func:`lockfile_refs`), its reading is Python: a
fetch driven by this process would only take turns with it for the GIL (started early, it
took as long, later). So the fetch begins on the lockfile's packages only where it runs in
fetch workers (``RegistryService.begin``'s ``workers_only``: 64 names or more), whose
answers alone this process settles meanwhile. Measured on theia (2026-12-07, paired, the
code compiled): at a 50 ms round trip 3.34 s against 3.40 s; against the registry itself no
faster (1.24 s either way: its two cores are busy either way). There is no preview for any
other input.

A preview never names a package the tree will not have: it keeps exactly the placements
:mod:`~depaudit.sources.package_lock_flat` makes packages of (an entry inside
``node_modules``, not a link, with valid installed and real names and a concrete version; the
real name of an alias; ``tests/property/test_preview.py`` holds the two together), and of
those (for an installed project) only the ones whose folder is installed, as ``npm ls``
sees them: a production install (``--omit=dev``) or another platform's optional packages
cost no request. Only a lockfile
with the flat ``packages`` map (lockfileVersion 2 or 3, what npm 7 and later write) is
previewed. Where a field the preview reads is not what the reader accepts (of the wrong JSON
type), or the file cannot be read, there is no preview, and nothing is sent before the reader
says what is wrong. An error the preview does not read (a dependency map of the wrong type, a
broken package.json, npm ls failing) is found once the requests have begun: the registry's
fetch is then stopped at once, the advisories' requests are not waited for, and the error is
said as before (exit 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from depaudit.errors import DepauditError
from depaudit.sources import NPM_LOCKFILES, detect
from depaudit.sources._io import read_json_object
from depaudit.sources.npm_common import (
    is_in_node_modules,
    is_valid_name,
    looks_like_version,
    name_from_location,
)


class _NoPreview(Exception):
    """The lockfile is not one to preview (its reader will decide what it is)."""


def _string(entry: dict[str, Any], field: str) -> str | None:
    value = entry.get(field)
    if value is None or isinstance(value, str):
        return value
    raise _NoPreview


def _flag(entry: dict[str, Any], field: str) -> bool:
    value = entry.get(field)
    if value is None or isinstance(value, bool):
        return value is True
    raise _NoPreview


#: a package the lockfile places: name, version, dev only (every placement of it is dev)
Placed = tuple[str, str, bool]


def placed_refs(packages: dict[str, Any], installed: Path | None = None) -> list[Placed]:
    """The name@version of every package the flat ``packages`` map places, dev only when
    every placement of it is (as ``audit.package_refs`` makes them from the tree); with
    ``installed`` (the project folder), only placements whose folder is there.
    :class:`_NoPreview` when an entry is not what the reader accepts."""
    dev: dict[tuple[str, str], bool] = {}
    for key, entry in packages.items():
        if not isinstance(entry, dict):
            raise _NoPreview
        if key == "" or _flag(entry, "link") or not is_in_node_modules(key):
            continue
        placed = name_from_location(key) or key
        real = _string(entry, "name") or placed
        version = _string(entry, "version")
        if version is None or not looks_like_version(version):
            continue
        if not is_valid_name(placed) or not is_valid_name(real):
            continue
        if installed is not None and not (installed / key).is_dir():
            continue
        ref = (real, version)
        dev[ref] = dev.get(ref, True) and _flag(entry, "dev")
    return [(name, version, is_dev) for (name, version), is_dev in sorted(dev.items())]


def registry_preview(directory: Path, limit: int) -> list[Placed] | None:
    """The installed packages ``directory``'s npm lockfile places (read under the input
    budget ``limit``), or None where its lockfile is not a flat npm one or cannot be
    previewed. For a scan that reads the installed tree with ``npm ls`` (``app.scan`` asks
    only where ``loader.npm_ls_ahead`` started it)."""
    try:
        lockfile = detect(directory).lockfile
        if lockfile.name not in NPM_LOCKFILES:
            return None
        return _flat(lockfile, limit, directory)
    except (DepauditError, _NoPreview, OSError):
        return None


def _flat(lockfile: Path, limit: int, installed: Path | None) -> list[Placed] | None:
    """:func:`placed_refs` of ``lockfile``'s flat ``packages`` map, or None where it has none
    (lockfileVersion 1)."""
    # (kept for the tree's reader, where the tree is this lockfile alone: not parsed twice)
    data = read_json_object(lockfile, what=lockfile.name, limit=limit, keep=installed is None)
    packages = data.get("packages")
    version = data.get("lockfileVersion")
    if type(version) is not int or version not in (2, 3) or not isinstance(packages, dict):
        return None
    return placed_refs(packages, installed)


def lockfile_refs(lockfile: Path, limit: int) -> list[Placed] | None:
    """The packages of ``lockfile``, an npm lockfile a scan reads alone (the tree is its:
    ``loader.lockfile_alone``; read under the input budget ``limit``), or None where it is
    not a flat npm one or cannot be previewed. For a fetch that runs in fetch workers
    (``app.begin_services``)."""
    try:
        if lockfile.name not in NPM_LOCKFILES:
            return None
        return _flat(lockfile, limit, None)
    except (DepauditError, _NoPreview, OSError):
        return None
