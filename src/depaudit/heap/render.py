"""The ``depaudit heap`` report: table (default), JSON, markdown."""

from __future__ import annotations

from typing import Any

import orjson

from depaudit.heap.analysis import HeapResult, Owner
from depaudit.text import json_text_safe, terminal_safe

FORMATS = ("table", "json", "markdown")


def human_bytes(value: int) -> str:
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(size) < 1024 or unit == "GiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{value} B"  # pragma: no cover


def owner_json(owner: Owner) -> dict[str, Any]:
    return {
        "kind": owner.kind,
        "name": owner.name,
        "version": owner.version,
        "path": owner.path,
        "file": owner.file,
        "line": owner.line,
        "growth_bytes": owner.growth_bytes,
        "retained_bytes": owner.retained_bytes,
        "growth_objects": owner.growth_objects,
        "constructor": owner.constructor,
        "retainer_path": owner.retainer_path,
    }


def _headline(result: HeapResult) -> str:
    count = len(result.snapshots)
    if result.mode == "profile":
        return (
            f"Sampled live allocations per owner in one heap profile: "
            f"{human_bytes(result.total_bytes)} in {result.total_objects:,} samples."
        )
    if result.mode == "size":
        return (
            f"Retained size per owner in one snapshot: {human_bytes(result.total_bytes)} in "
            f"{result.total_objects:,} objects."
        )
    what = (
        "allocated after the first and kept in every later one"
        if count > 2
        else ("allocated after the first and still there in the last")
    )
    return (
        f"Heap growth over {count} snapshots of one process ({what}): "
        f"{human_bytes(result.total_bytes)} in {result.total_objects:,} objects."
    )


def _floor(result: HeapResult) -> str:
    shown = len(result.owners)
    word = "owner" if shown == 1 else "owners"
    text = f"{shown} {word}"
    if result.min_bytes:
        text += f" at or above {human_bytes(result.min_bytes)}"
    if result.below_floor:
        text += f" ({result.below_floor} below, left out as noise)"
    return text + "."


def render_table(result: HeapResult) -> str:
    lines = [_headline(result), _floor(result), ""]
    if not result.owners:
        lines.append("No owner grew above the noise floor.")
    for rank, owner in enumerate(result.owners, 1):
        amount = owner.growth_bytes if result.mode == "growth" else owner.retained_bytes
        verb = {"growth": "grew", "size": "retains"}.get(result.mode, "holds")
        lines.append(
            f"{rank}. {owner.label} ({owner.kind}) {verb} {human_bytes(amount)}: "
            + (
                f"{owner.growth_objects:,} samples"
                if result.mode == "profile"
                else f"{owner.growth_objects:,} objects, mostly {owner.constructor}; "
                f"retained {human_bytes(owner.retained_bytes)}"
            )
        )
        if owner.path:
            lines.append(f"   at {owner.path}")
        if owner.retainer_path:
            where = "stack" if result.mode == "profile" else "path"
            lines.append(f"   {where}: {owner.retainer_path}")
    lines.extend(f"warning: {warning}" for warning in result.warnings)
    return "\n".join(terminal_safe(line) for line in lines) + "\n"


def render_json(result: HeapResult) -> str:
    document = {
        "mode": result.mode,
        "snapshots": list(result.snapshots),
        "total_bytes": result.total_bytes,
        "total_objects": result.total_objects,
        "min_bytes": result.min_bytes,
        "below_floor": result.below_floor,
        "owners": [owner_json(o) for o in result.owners],
        "warnings": list(result.warnings),
    }
    return json_text_safe(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()) + "\n"


def _cell(text: str) -> str:
    return terminal_safe(text).replace("|", "\\|").replace("`", "'")


def render_markdown(result: HeapResult, heading: str = "##") -> str:
    lines = [f"{heading} Measured heap growth", "", _headline(result) + " " + _floor(result), ""]
    if result.owners:
        lines += [
            "| # | owner | kind | grew | retained | objects | mostly | retainer path |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for rank, owner in enumerate(result.owners, 1):
            lines.append(
                f"| {rank} | `{_cell(owner.label)}` | {owner.kind} | "
                f"{human_bytes(owner.growth_bytes)} | {human_bytes(owner.retained_bytes)} | "
                f"{owner.growth_objects:,} | {_cell(owner.constructor)} | "
                f"`{_cell(owner.retainer_path)}` |"
            )
    else:
        lines.append("No owner grew above the noise floor.")
    for warning in result.warnings:
        lines += ["", f"> warning: {_cell(warning)}"]
    return "\n".join(lines) + "\n"


def render(result: HeapResult, fmt: str) -> str:
    if fmt == "json":
        return render_json(result)
    if fmt == "markdown":
        return render_markdown(result)
    return render_table(result)
