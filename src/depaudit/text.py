"""Neutralising untrusted text (package names, registry and advisory texts) for output."""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")


def _is_format_char(ch: str) -> bool:
    # bidi overrides, zero-width joiners and friends (Unicode category Cf)
    return unicodedata.category(ch) == "Cf"


def terminal_safe(text: str) -> str:
    """Strip ANSI escapes, control and bidi formatting characters; newlines become spaces."""
    text = _ANSI.sub("", text)
    text = text.replace("\r\n", " ").replace("\n", " ").replace("\t", " ")
    text = _CONTROL.sub("", text)
    return "".join(ch for ch in text if not _is_format_char(ch))


_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def json_text_safe(text: str) -> str:
    """JSON text (``json.dumps`` output) with C1 controls and bidi marks written as ``\\uXXXX``
    escapes: the same data once parsed, nothing a terminal or a viewer acts on."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def split_name_spec(text: str) -> tuple[str, str]:
    """``name@spec`` split once, the same everywhere: ``@scope/name@^1 || 2`` ->
    (``@scope/name``, ``^1 || 2``); without a spec the second part is empty."""
    at = text.find("@", 1)
    if at < 0:
        return text, ""
    return text[:at], text[at + 1 :]
