"""Sampling heap profiles (``.heapprofile``: ``node --heap-prof``, Chrome's allocation
sampling): the sampled bytes still live when the profile was written, per owner.

Each node of the profile's call tree is a function (``callFrame.url``, ``lineNumber``) with
the bytes sampled while it was on top of the stack (``selfSize``). The owner of those bytes is
the nearest frame, from the allocating one towards the root, whose script is a package or the
app: a builtin or node core frame allocates on behalf of its caller, as in heap snapshots.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from depaudit.errors import InputError
from depaudit.heap.analysis import (
    HeapResult,
    Owner,
    Versions,
    _Files,
    is_app_file,
    is_node_core,
    placement_of,
    printable,
    project_root_of,
)

PATH_FRAMES = 6


@dataclass
class _Acc:
    kind: str
    name: str
    path: str | None
    file: str | None
    line: int | None
    bytes: int = 0
    samples: int = 0
    best: int = -1
    best_stack: list[str] = field(default_factory=list)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(path, f"cannot read ({error.strerror or error})") from None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            raise InputError(path, "not a readable gzip file") from None
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        if data.lstrip()[:1] == b"{" and b'"callFrame"' in data[:4096]:
            raise InputError(path, "truncated heap profile (not complete JSON)") from None
        raise InputError(path, "not a heap profile (not JSON)") from None
    if isinstance(document, dict) and "snapshot" in document and "nodes" in document:
        raise InputError(path, "is a heap snapshot, not a sampling heap profile")
    if not (
        isinstance(document, dict)
        and isinstance(document.get("head"), dict)
        and isinstance(document["head"].get("callFrame"), dict)
    ):
        raise InputError(path, "not a sampling heap profile (no head call frame)")
    return document


def _frame(node: dict[str, Any]) -> tuple[str, str, int]:
    frame = node.get("callFrame") or {}
    url = str(frame.get("url") or "")
    name = str(frame.get("functionName") or "(anonymous)")
    try:
        line = int(frame.get("lineNumber", -1))
    except (TypeError, ValueError):
        line = -1
    return url, name, line


def analyze_profile(
    path: str | os.PathLike[str], tree: Path | None = None, min_bytes: int | None = None
) -> HeapResult:
    file = Path(path)
    document = _read(file)
    samples_per_node: dict[int, int] = defaultdict(int)
    for sample in document.get("samples") or []:
        if isinstance(sample, dict) and isinstance(sample.get("nodeId"), int):
            samples_per_node[sample["nodeId"]] += 1
    urls: set[str] = set()
    # first pass: collect urls for the project roots
    pending = [document["head"]]
    while pending:
        node = pending.pop()
        urls.add(_frame(node)[0])
        children = node.get("children") or []
        pending.extend(c for c in children if isinstance(c, dict))
    files = _Files(tree, {r for u in urls if (r := project_root_of(u)) is not None})
    versions = Versions(tree)
    accs: dict[tuple[str, str, int | None], _Acc] = {}
    owner_of_key: dict[tuple[str, int], tuple[str, str, int | None]] = {}

    def key_for(url: str, line: int) -> tuple[str, str, int | None] | None:
        cached = owner_of_key.get((url, line))
        if cached is not None:
            return cached
        placement = placement_of(url) if url else None
        fields: tuple[str, str, str | None, str | None, int | None]
        if placement is not None:
            key: tuple[str, str, int | None] = ("package", placement[1], None)
            fields = ("package", placement[0], placement[1], None, None)
        elif url and is_app_file(url):
            rel, _ = files.relative(url)
            key = ("app", rel, line + 1 if line >= 0 else None)
            fields = ("app", rel, None, rel, key[2])
        else:
            return None
        if key not in accs:
            accs[key] = _Acc(*fields)
        owner_of_key[(url, line)] = key
        return key

    total = 0
    total_samples = 0
    unknown = _Acc("unknown", "(unknown)", None, None, None)
    node_core: dict[str, _Acc] = {}
    # each entry: node, the owner key inherited from the callers, the call stack so far
    inherited: list[tuple[dict[str, Any], tuple[str, str, int | None] | None, list[str]]] = [
        (document["head"], None, [])
    ]
    while inherited:
        node, above, stack = inherited.pop()
        url, name, line = _frame(node)
        own = key_for(url, line) if url and not is_node_core(url) else None
        owner = own or above
        where = f"{name} ({_short(url)}:{line + 1})" if url else name
        here = [*stack, where] if name != "(root)" else stack
        size = node.get("selfSize") or 0
        size = int(size) if isinstance(size, int | float) else 0
        count = samples_per_node.get(int(node.get("id") or -1), 0)
        if size:
            total += size
            total_samples += count
            if owner is not None:
                acc = accs[owner]
            elif url and is_node_core(url):
                acc = node_core.setdefault(url, _Acc("node", url, None, url, None))
            else:
                acc = unknown
            acc.bytes += size
            acc.samples += count
            if size > acc.best:
                acc.best = size
                acc.best_stack = here
        inherited.extend(
            (child, owner, here) for child in node.get("children") or [] if isinstance(child, dict)
        )
    floor = 0 if min_bytes is None else min_bytes
    owners: list[Owner] = []
    below = 0
    for acc in [*accs.values(), *node_core.values(), unknown]:
        if acc.bytes == 0:
            continue
        if acc.bytes < floor:
            below += 1
            continue
        frames = acc.best_stack
        if len(frames) > PATH_FRAMES:
            frames = [frames[0], "…", *frames[-(PATH_FRAMES - 1) :]]
        owners.append(
            Owner(
                kind=acc.kind,
                name=printable(acc.name),
                version=versions.version(acc.name, acc.path) if acc.path else None,
                path=acc.path,
                file=printable(acc.file) if acc.file else None,
                line=acc.line,
                growth_bytes=acc.bytes,
                retained_bytes=acc.bytes,
                growth_objects=acc.samples,
                constructor="(sampled allocations)",
                retainer_path=printable(" → ".join(frames)),
            )
        )
    owners.sort(key=lambda o: (-o.growth_bytes, o.kind, o.name))
    return HeapResult(
        mode="profile",
        snapshots=(str(file),),
        owners=tuple(owners),
        total_bytes=total,
        total_objects=total_samples,
        min_bytes=floor,
        below_floor=below,
    )


def _short(url: str) -> str:
    placement = placement_of(url)
    if placement is not None:
        return url[url.rfind("node_modules/") :]
    return url.rsplit("/", 1)[-1]
