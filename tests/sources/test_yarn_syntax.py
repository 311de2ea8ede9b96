"""yarn classic's text format: quoting, several descriptors, and a property test that what
is written in the format is read back."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from depaudit.errors import InputError
from depaudit.sources.yarn_syntax import parse_classic


def test_classic_parser_quoting_and_several_descriptors() -> None:
    data = parse_classic(
        '"a@^1", a@^1.2:\n  version "1.2.3"\n  resolved "x:y#z"\n  dependencies:\n'
        '    "@s/b" "npm:c@^2"\n',
        "t",
    )
    assert data["a@^1"] is data["a@^1.2"]
    assert data["a@^1"]["dependencies"] == {"@s/b": "npm:c@^2"}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('a@^1:\n  version "1\n', "unterminated string"),
        ("a@^1:\n   version 1\n", "bad indentation"),
        ('a@^1:\n  version "1" x\n', "text after a string"),
        ("a@^1:\n  version\n", "expected `key value`"),
        ("a@^1:\n\tversion 1\n", "tab indentation"),
    ],
)
def test_malformed_text_names_the_line(text: str, problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        parse_classic(text, "t")


_WORD = st.text(
    st.characters(codec="utf-8", exclude_characters="\r\n\x85\u2028\u2029"), min_size=1, max_size=12
)


#: a field key ending in ``:`` loses it (``key: value`` is accepted, also quoted); kept as is
_FIELD = _WORD.filter(lambda key: not key.endswith(":"))


@given(st.dictionaries(_WORD, st.dictionaries(_FIELD, _WORD, min_size=1, max_size=4), max_size=5))
def test_quoted_entries_are_read_back(entries: dict[str, dict[str, str]]) -> None:
    lines = []
    for key, fields in entries.items():
        lines.append(f"{json.dumps(key)}:")
        lines.extend(f"  {json.dumps(k)} {json.dumps(v)}" for k, v in fields.items())
    assert parse_classic("\n".join(lines) + "\n", "t") == entries
