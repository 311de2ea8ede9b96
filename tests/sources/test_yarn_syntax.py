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


def _inside_reference(body: str) -> bool:
    inside = escaped = False
    for char in body:
        if escaped:
            escaped = False
        elif inside and char == "\\":
            escaped = True
        elif char == '"':
            inside = not inside
    return inside


@given(st.text(alphabet=st.sampled_from('ab:" \\\t\x7fé')))
def test_a_header_ends_inside_a_string_as_the_character_walk_says(body: str) -> None:
    from depaudit.sources.yarn_syntax import _ends_inside_string

    assert _ends_inside_string(body) == _inside_reference(body)


@given(st.text())
def test_a_quoted_token_is_what_json_reads(value: str) -> None:
    """The fast path (plain printable ASCII) and json.loads give the same string."""
    from depaudit.sources.yarn_syntax import _token

    quoted = json.dumps(value)
    assert _token(quoted + " rest", 0, "yarn.lock", 1) == (value, len(quoted))
    raw = f'"{value}"'  # unescaped: control characters, quotes and backslashes as they are
    try:
        expected: tuple[str, int] | None = (json.loads(raw), len(raw))
    except ValueError:
        expected = None
    try:
        got: tuple[str, int] | None = _token(raw, 0, "yarn.lock", 1)
    except InputError:
        got = None
    if expected is not None and '"' not in value:
        assert got == expected
