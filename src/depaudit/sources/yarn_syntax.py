"""yarn classic's own text format (yarn.lock v1) -> nested dicts: the syntax phase of the
classic reader (:mod:`depaudit.sources.yarn_classic` builds the graph from its result; berry's
YAML is read by :mod:`depaudit.sources.yaml_loader`).

Every step is linear in the text: keys and values are one regular-expression match each (a
possessive one for quoted strings), and the closing ``:`` of a header is checked in one pass.
"""

from __future__ import annotations

import json
import re
from typing import Any

from depaudit.errors import InputError
from depaudit.sources._io import without_lone_surrogates
from depaudit.sources._yarn_shared import WHAT

_BARE = re.compile(r"[^ \t,]*")  # a bare word: one C-speed match, not a loop per character
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*+"')  # possessive: no backtracking
#: the common line, ``  key value`` or ``  "key" "value"``: a bare key (its one closing
#: ``:`` dropped) or a quoted one of printable ASCII without escapes, spaces or tabs, then a
#: quoted value of the same kind or a bare value whose last character is not ``:`` (that line
#: is a header). One match gives what :func:`_key_value` gives (a property test holds it to
#: that); every other line takes the general path.
_PLAIN_LINE = re.compile(
    r'( *)(?:"([ !#-\[\]-~]*)"|([^\s,":#][^\s,":]*):?)[ \t]+'
    r'(?:"([ !#-\[\]-~]*)"[ \t]*|([^\s":]|[^\s"].*[^\s:])\s*)'
)
#: the common header, ``"a@^1", a@^2:``: keys, quoted (printable ASCII without escapes or
#: commas) or bare, one ``, `` between them (:func:`plain_header`)
_HEADER_KEY = r'(?:"[ !#-+\--\[\]-~]*"|[^\s,"#][^\s,"]*)'
_PLAIN_HEADER = re.compile(rf"( *)({_HEADER_KEY}(?:, {_HEADER_KEY})*):[ \t]*")


def _token(text: str, pos: int, path: object, lineno: int) -> tuple[str, int]:
    """One key or value at ``pos``: a JSON-quoted string or a bare word."""
    if pos < len(text) and text[pos] == '"':
        match = _QUOTED.match(text, pos)
        if match is None:
            raise InputError(path, f"line {lineno}: unterminated string", f"expected a {WHAT}")
        inner = text[pos + 1 : match.end() - 1]
        if "\\" not in inner and inner.isascii() and inner.isprintable():
            return inner, match.end()  # what json.loads gives, without its call per string
        try:
            value = without_lone_surrogates(json.loads(match.group(0)), match.group(0))
        except ValueError:
            raise InputError(
                path, f"line {lineno}: bad string escape", f"expected a {WHAT}"
            ) from None
        return str(value), match.end()
    end = _BARE.match(text, pos).end()  # type: ignore[union-attr]  # matches "" at least
    return text[pos:end], end


def _header_keys(text: str, path: object, lineno: int) -> list[str]:
    """``"a@^1", a@^2`` -> ["a@^1", "a@^2"]."""
    keys, pos = [], 0
    while pos < len(text):
        while pos < len(text) and text[pos] in " \t,":  # a tab too: _token stops at it
            pos += 1
        if pos >= len(text):
            break
        key, pos = _token(text, pos, path, lineno)
        if key:
            keys.append(key)
    if not keys:
        raise InputError(path, f"line {lineno}: empty key", f"expected a {WHAT}")
    return keys


def parse_classic(text: str, path: object) -> dict[str, Any]:
    """Parse yarn classic's format into nested dicts; a top-level key with several
    descriptors is stored once per descriptor (same object), as @yarnpkg/lockfile does."""
    root: dict[str, Any] = {}
    stack: list[tuple[int, dict[str, Any]]] = [(-2, root)]
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if not raw:
            continue
        # the common lines in one match each; the others by the general path
        plain = plain_line(raw)
        header = plain_header(raw) if plain is None else None
        body = ""
        if plain is not None:
            indent = plain[0]
        elif header is not None:
            indent = header[0]
        else:
            stripped = raw.strip()
            if not stripped or stripped.startswith("#"):
                continue
            body = raw.lstrip(" ")
            if body.startswith("\t"):
                raise InputError(path, f"line {lineno}: tab indentation", f"expected a {WHAT}")
            indent = len(raw) - len(body)
            body = body.rstrip()
        while indent <= stack[-1][0]:
            stack.pop()
        if indent != stack[-1][0] + 2:
            raise InputError(path, f"line {lineno}: bad indentation", f"expected a {WHAT}")
        parent = stack[-1][1]
        if plain is not None:
            parent[plain[1]] = plain[2]
            continue
        if header is None and body.endswith(":") and not _ends_inside_string(body):
            header = (indent, _header_keys(body[:-1], path, lineno))
        if header is not None:
            child: dict[str, Any] = {}
            for key in header[1]:
                parent[key] = child
            stack.append((indent, child))
            continue
        key, value = _key_value(body, path, lineno)
        parent[key] = value
    return root


def plain_line(raw: str) -> tuple[int, str, str] | None:
    """(indent, key, value) of a common ``key value`` line in one match (~1/3 of the general
    path's cost, on the 300,000 lines of a 50,000-entry lockfile), or None: any other line."""
    match = _PLAIN_LINE.fullmatch(raw)
    if match is None:
        return None
    quoted_key = match[2]
    key = match[3] if quoted_key is None else quoted_key.removesuffix(":")
    if not key:
        return None  # (an empty key: the general path says what is wrong)
    value = match[4]
    return match.end(1), key, match[5] if value is None else value


def plain_header(raw: str) -> tuple[int, list[str]] | None:
    """(indent, keys) of a common header line in one match, or None: any other line (what
    :func:`_header_keys` gives, held to it by a property test)."""
    match = _PLAIN_HEADER.fullmatch(raw)
    if match is None:
        return None
    keys = [k[1:-1] if k[0] == '"' else k for k in match[2].split(", ")]
    keys = [k for k in keys if k]
    return (match.end(1), keys) if keys else None


def _key_value(body: str, path: object, lineno: int) -> tuple[str, str]:
    """``key value`` (or ``key: value``); a quoted value must end the line."""
    key, pos = _token(body, 0, path, lineno)
    if key.endswith(":"):  # "key: value" is accepted too
        key = key[:-1]
    rest = body[pos:].strip()
    if not key or not rest:
        raise InputError(path, f"line {lineno}: expected `key value`", f"expected a {WHAT}")
    if not rest.startswith('"'):
        return key, rest
    value, end = _token(rest, 0, path, lineno)
    if rest[end:].strip():
        raise InputError(path, f"line {lineno}: text after a string", f"expected a {WHAT}")
    return key, value


def _ends_inside_string(body: str) -> bool:
    """True when the final ``:`` belongs to a quoted string (``a "b:"``): one pass, linear
    (a regular expression substitution was quadratic on many escaped quotes)."""
    if "\\" not in body:  # no escapes: inside a string after an odd number of quotes
        return body.count('"') % 2 == 1
    inside = escaped = False
    for char in body:
        if escaped:
            escaped = False
        elif inside and char == "\\":
            escaped = True
        elif char == '"':
            inside = not inside
    return inside
