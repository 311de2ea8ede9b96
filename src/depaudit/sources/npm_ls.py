"""Saved ``npm ls --json`` output (npm 6 to 11), and running ``npm ls`` in a project.

The shapes are those captured in ``shared/api-notes.md`` §5. What this reader does with them:

* Every node with a version becomes a :class:`Package` *placement* with a unique location:
  its folder relative to the root with ``--long`` (``node_modules/debug/node_modules/ms``,
  as package-lock names it), else a synthetic one (``npm-ls:debug/ms``: the chain of keys in
  the JSON); and its path from the root, the shortest one as every lockfile reader gives it
  (``sources/_paths.py``), so a scan names the same path with or without node_modules.
* npm's JSON has no deduped marker. A copy that npm >= 7 prints as ``{"version": ...}`` only
  (no ``resolved``, ``overridden`` or children) is an edge to the full node of the same
  ``name@version``; npm 6 repeats deduped nodes in full, so a node whose ``name@version`` and
  children equal an earlier node's is taken for the same placement. With ``--long`` the
  ``path`` field says exactly which folder a node is.
* Missing nodes (``missing: true``), ``invalid`` (a string ``"<spec>" from <location>`` since
  npm 7, ``true`` in npm 6), ``extraneous`` and npm 6 ``peerMissing`` become
  ``reported_problems`` with the path from the root and the evidence.
* Workspaces (``resolved: file:../packages/a`` at the top level) become :class:`Importer` s.
* An empty object (npm >= 7's ``UNMET OPTIONAL DEPENDENCY``) is an optional edge to nothing,
  which is not a problem, as in npm.
* An ``error`` object (inside stdout since npm 9, a second JSON document on stderr for npm
  7/8 when both were saved together) is kept as a warning, unless it is all there is.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from depaudit.budget import INPUT_BYTES, PATH_DEPTH
from depaudit.errors import InputError
from depaudit.models import (
    DependencyTree,
    SourceInfo,
)
from depaudit.sources._io import (
    decode_text,
    json_problem,
    read_capped,
    read_text,
    without_lone_surrogates,
)
from depaudit.sources.interface import DependencySource
from depaudit.sources.npm_ls_graph import (
    HINT,
    STDIN_LABEL,
    WHAT,
    _Builder,
    parse_invalid,
)
from depaudit.text import split_name_spec

__all__ = ["NpmLsSource", "parse_invalid", "parse_npm_ls", "read_input", "split_name_spec"]


def _json_documents(text: str, label: str) -> list[Any]:
    """Every JSON value in ``text``: npm 7/8 print a second ``{"error": ...}`` document on
    stderr, which ends up after the tree when both streams were saved together. Lines of
    npm's own log (``npm ERR! ...``, ``npm warn ...``) between them are ignored."""
    decoder = json.JSONDecoder()
    docs: list[Any] = []
    pos = 0
    n = len(text)
    while pos < n:
        while pos < n and text[pos].isspace():
            pos += 1
        if pos >= n:
            break
        if text.startswith("npm ", pos) and docs:
            end = text.find("\n", pos)
            pos = n if end < 0 else end + 1
            continue
        if text.startswith("npm ", pos) and not docs:
            brace = text.find("\n{", pos)
            if brace < 0:
                break
            pos = brace + 1
            continue
        try:
            value, pos = decoder.raw_decode(text, pos)
        except ValueError as exc:  # JSONDecodeError, or an integer over the digit limit
            if docs:
                break  # trailing garbage after a complete tree: keep what was read
            raise InputError(label, json_problem(exc, text), f"expected {WHAT}; {HINT}") from None
        except RecursionError:
            raise InputError(label, "JSON is nested too deeply", f"expected {WHAT}") from None
        docs.append(without_lone_surrogates(value, text))
    if not docs:
        raise InputError(label, "holds no JSON", f"expected {WHAT}; {HINT}")
    return docs


def parse_npm_ls(
    text: str, label: str, *, kind: str = "npm-ls", max_depth: int = PATH_DEPTH
) -> DependencyTree:
    """Parse ``npm ls --json`` output (a whole file's text) into a tree, its paths at most
    ``max_depth`` names."""
    docs = _json_documents(text, label)
    tree_doc: Mapping[str, Any] | None = None
    extra_error: object = None
    for doc in docs:
        if not isinstance(doc, Mapping):
            if tree_doc is None:
                raise InputError(
                    label,
                    f"top level is a JSON {type(doc).__name__}, not an object",
                    f"expected {WHAT}",
                )
            continue
        if tree_doc is None and (set(doc) & {"name", "version", "dependencies", "problems"}):
            tree_doc = doc
        elif "error" in doc:
            extra_error = doc["error"]
    if tree_doc is None:
        if isinstance(extra_error, Mapping):
            summary = str(extra_error.get("summary") or "").strip().splitlines()
            raise InputError(
                label,
                f"npm ls failed with {extra_error.get('code') or 'an error'}"
                + (f": {summary[0]}" if summary else ""),
                "fix the project so that `npm ls` can read it, then save the output again",
            )
        raise InputError(
            label,
            "does not look like `npm ls --json` output (no name, version or dependencies)",
            HINT,
        )
    for key in ("name", "version"):
        if key in tree_doc and not isinstance(tree_doc[key], str):
            raise InputError(label, f"`{key}` is a {type(tree_doc[key]).__name__}, not a string")
    builder = _Builder(tree_doc, label, max_depth)
    return builder.build(SourceInfo(kind=kind, path=label), extra_error)


def read_input(path_or_dash: str, limit: int = INPUT_BYTES) -> tuple[str, str]:
    """The text of a file, or of stdin for ``-`` (at most ``limit`` bytes); returns (text,
    label)."""
    if path_or_dash == "-":
        try:
            raw = read_capped(sys.stdin.buffer, STDIN_LABEL, what=WHAT, limit=limit)
        except (OSError, ValueError, AttributeError) as exc:
            raise InputError(STDIN_LABEL, f"cannot be read ({exc})") from None
        return decode_text(raw, STDIN_LABEL, what=WHAT), STDIN_LABEL
    return read_text(Path(path_or_dash), what=WHAT, limit=limit), path_or_dash


class NpmLsSource(DependencySource):
    kind = "npm-ls"
    filenames = ()

    def load(self, path: Path) -> DependencyTree:
        return self.load_input(str(path))

    def load_input(self, path_or_dash: str) -> DependencyTree:
        text, label = read_input(path_or_dash, self.budget.input_bytes)
        return parse_npm_ls(text, label, max_depth=self.budget.path_depth)
