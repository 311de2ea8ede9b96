"""Module specifiers as Node reads them: which package a bare specifier names. Shared by runtime
reachability (resolution) and the code rules (which package a value comes from)."""

from __future__ import annotations


def split_package(specifier: str) -> tuple[str, str] | None:
    """``@a/b/c`` -> (``@a/b``, ``./c``); ``x`` -> (``x``, ``.``); ``None`` when invalid."""
    parts = specifier.split("/")
    if specifier.startswith("@"):
        if len(parts) < 2 or not parts[1]:
            return None
        name, rest = "/".join(parts[:2]), parts[2:]
    else:
        name, rest = parts[0], parts[1:]
    if not name or name.startswith("."):
        return None
    return name, "./" + "/".join(rest) if rest else "."
