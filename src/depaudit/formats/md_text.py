"""Markdown text helpers shared by every markdown writer (the report, the diff, the code
findings): untrusted text made inert, links checked, code spans that cannot break a table."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from depaudit.models import Suspect
from depaudit.text import terminal_safe

MARKER = "<!-- depaudit -->"
ZWSP = "\u200b"  # breaks @mentions and autolinks without changing what a reader sees

#: untrusted text is always placed mid-line (table cells, after a prefix), so only inline
#: syntax needs escaping: line-start syntax (#, -, +, 1.) cannot form there
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()|~])")
_WWW = re.compile(r"(?i)\b(www)\.")


def escape(text: str) -> str:
    """Untrusted text as inert markdown, on one line.

    Control and bidi characters go; ``@``, ``://`` and ``www.`` are broken with a zero-width
    space so that no mention or autolink can form; ``& < > " '`` become entities; inline
    markdown punctuation is backslash-escaped.
    """
    text = terminal_safe(text)
    text = text.replace("@", "@" + ZWSP).replace("://", ":" + ZWSP + "//")
    text = _WWW.sub(lambda m: m[1] + ZWSP + ".", text)
    text = (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )
    return _MD_SPECIAL.sub(r"\\\1", text)


def safe_url(url: str | None) -> str | None:
    """An http(s) URL fit for ``[text](<url>)``, or ``None``."""
    if not url:
        return None
    url = terminal_safe(url).strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return quote(url, safe=":/?#&=%+,;@!$*~.-_")


def link(label: str, url: str | None) -> str:
    target = safe_url(url)
    return f"[{label}]({target})" if target else ""


def code(text: str) -> str:
    """Text inside a code span: backticks and pipes cannot close it or break the table."""
    return terminal_safe(text).replace("`", "'").replace("|", "/")


def signal_reasons(suspect: Suspect, limit: int | None = None, max_chars: int = 600) -> str:
    """The suspect's strongest signals as escaped markdown, each cut at ``max_chars`` with an
    ellipsis, and how many more there are."""
    parts = []
    for signal in suspect.signals[:limit]:
        evidence = signal.evidence
        if len(evidence) > max_chars:
            evidence = evidence[: max_chars - 1] + "…"
        ref = link("ref", signal.url)
        points = f"{signal.points:g}"
        parts.append(
            f"**{escape(signal.rule)}** (+{points}): {escape(evidence)}"
            + (f" {ref}" if ref else "")
        )
    hidden = len(suspect.signals) - len(parts)
    if hidden > 0:
        parts.append(f"+{hidden} more")
    return "<br>".join(parts)
