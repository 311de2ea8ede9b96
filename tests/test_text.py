"""depaudit.text: the fast paths (ASCII, valid UTF-8) give what the full regex pass gives."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from depaudit.text import json_text_safe, valid_unicode

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")

#: text with lone surrogates, C1 controls and bidi marks mixed into ASCII and other scripts
_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec=None),
        st.sampled_from("\ud800\udfff\x7f\x85\x9f\u200e\u202e\u2066\u2069é\u4e2d"),
    )
)


@given(_TEXT)
def test_valid_unicode_replaces_exactly_the_lone_surrogates(text: str) -> None:
    out = valid_unicode(text)
    assert out == _SURROGATE.sub("\ufffd", text)
    out.encode("utf-8")


@given(_TEXT)
def test_json_text_safe_escapes_exactly_the_unsafe_characters(text: str) -> None:
    expected = _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    assert json_text_safe(text) == expected


def test_the_fast_paths_return_the_same_text() -> None:
    for text in ("plain ascii", "caf\u00e9 \u4e2d"):
        assert valid_unicode(text) is text
    assert valid_unicode("a\ud800b") == "a\ufffdb"
    assert json_text_safe("plain") == "plain"
    assert json_text_safe("a\x85b\u202e") == "a\\u0085b\\u202e"


def test_shown_cuts_with_an_ellipsis_and_keeps_short_text() -> None:
    from depaudit.text import NAME_SHOWN, shown, shown_path

    assert shown("express") == "express"
    assert shown("x" * NAME_SHOWN) == "x" * NAME_SHOWN
    assert shown("x" * (NAME_SHOWN + 1)) == "x" * (NAME_SHOWN - 1) + "…"
    assert shown_path(["a", "b"]) == "a > b"
    long = shown_path(["y" * 1000] * 10_000, limit=1024)
    assert len(long) == 1024 and long.endswith("…")
    assert long.startswith("y" * (NAME_SHOWN - 1) + "… > ")
    # dropping names must still show the cut: 4 names of 10 fit 40 characters exactly
    assert shown_path(["abcdefg"] * 10, limit=40).endswith("…")
