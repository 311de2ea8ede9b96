"""Neutralising untrusted text (package names, registry and advisory texts) for output."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")


#: Unicode category Cf (bidi overrides, zero-width joiners and friends) as of Unicode 14 (the
#: test suite checks it against this Python's unicodedata, plus any Cf it may add): one regex
#: pass, where a per-character category lookup took seconds on a megabyte name. Compiled on
#: first use (5 ms: start-up time), and only for text that is not ASCII (Cf has no ASCII).
_FORMAT_CHARS = (
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f]"
)


@cache
def format_chars() -> re.Pattern[str]:
    """The regex of Unicode category Cf (see ``_FORMAT_CHARS``)."""
    return re.compile(_FORMAT_CHARS)


def terminal_safe(text: str) -> str:
    """Strip ANSI escapes, control and bidi formatting characters; newlines become spaces."""
    text = _ANSI.sub("", text)
    text = text.replace("\r\n", " ").replace("\n", " ").replace("\t", " ")
    text = _CONTROL.sub("", text)
    return text if text.isascii() else format_chars().sub("", text)


_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def json_text_safe(text: str) -> str:
    """JSON text (``json.dumps`` output) with C1 controls and bidi marks written as ``\\uXXXX``
    escapes: the same data once parsed, nothing a terminal or a viewer acts on."""
    if text.isascii() and "\x7f" not in text:  # DEL is the one unsafe ASCII character
        return text
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def split_name_spec(text: str) -> tuple[str, str]:
    """``name@spec`` split once, the same everywhere: ``@scope/name@^1 || 2`` ->
    (``@scope/name``, ``^1 || 2``); without a spec the second part is empty."""
    at = text.find("@", 1)
    if at < 0:
        return text, ""
    return text[:at], text[at + 1 :]


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def valid_unicode(text: str) -> str:
    """``text`` with every lone surrogate (``\\ud800`` in a JSON input decodes to one) replaced
    by U+FFFD: a report must encode as UTF-8 whatever its inputs held."""
    if text.isascii():  # constant time in CPython (the string's kind)
        return text
    try:
        text.encode("utf-8")  # C speed; fails only on a surrogate
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


#: the longest package name npm accepts: a longer name (a hostile lockfile's) is shown cut,
#: with an ellipsis, in the human formats (table, markdown); JSON and SARIF carry it whole
NAME_SHOWN = 214
#: the most the human formats show of a version, a range or a version list
VERSION_SHOWN = 128
#: the most the human formats show of one path or message cell
TEXT_SHOWN = 1024


def shown(text: str, limit: int = NAME_SHOWN) -> str:
    """``text`` cut to ``limit`` characters, the last an ellipsis: a 30 KB name repeated in
    every problem row made the human reports grow (and cost) rows x name length."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def shown_path(names: Iterable[str], limit: int = TEXT_SHOWN) -> str:
    """A path (``a > b > c``) as the human formats show it: every name :func:`shown`, the
    whole cut at ``limit``; joins no more names than fit."""
    parts: list[str] = []
    size = 0
    for name in names:
        if size > limit + 3:  # the joined text is already over the limit: shown() cuts it
            break
        part = shown(name)
        parts.append(part)
        size += len(part) + 3
    return shown(" > ".join(parts), limit)
