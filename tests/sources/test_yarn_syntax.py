"""yarn classic's text format: quoting, several descriptors, and a property test that what
is written in the format is read back."""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given, settings
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


# -- the one-match paths for common lines ----------------------------------------------------

#: yarn classic lines built from the shapes of keys, separators and values, the tricky ones
#: included: quotes, escapes, colons, commas, tabs, non-ASCII and Unicode whitespace,
#: comments, control characters
_WORDS = st.sampled_from(
    ["a", "b:", ":", "::", "#c", "@s/p@^1", "npm:c@^2", "1.2.3", "x,y", 'a"b', "é", "\x7f"]
)
_QUOTED_WORDS = st.sampled_from(
    [
        '"x y"',
        '"a:"',
        '""',
        '":"',
        '"a, b"',
        '"\\"',
        '"\\u00e9"',
        '"é"',
        '"\x01"',
        '"\t"',
        '"a#"',
        '"q\\"x"',
    ]
)
_KEY = st.one_of(_WORDS, _QUOTED_WORDS)
_GAP = st.sampled_from([" ", "  ", "\t", ": ", ", ", ",", "\u00a0", "", " \t "])
_END = st.sampled_from(["", " ", "\t", ":", " :", "\u3000", '"', "\\"])
_LINES = st.one_of(
    st.tuples(st.integers(0, 6), _KEY, _GAP, _KEY, _END).map(lambda t: " " * t[0] + "".join(t[1:])),
    st.tuples(st.integers(0, 4), st.lists(st.tuples(_KEY, _GAP), min_size=1, max_size=4), _END).map(
        lambda t: " " * t[0] + "".join(k + g for k, g in t[1]).rstrip(", ") + ":" + t[2]
    ),
    st.text(max_size=20),
)


def _general(raw: str) -> tuple[str, object] | None:
    """What the general path of parse_classic makes of one line: ("value", (indent, key,
    value)), ("header", (indent, keys)), None for a blank or comment line, or ("error", ...)."""
    from depaudit.sources.yarn_syntax import _ends_inside_string, _header_keys, _key_value

    stripped = raw.strip()
    if not stripped or stripped.startswith("#"):
        return None
    body = raw.lstrip(" ")
    if body.startswith("\t"):
        return ("error", "tab")
    indent = len(raw) - len(body)
    body = body.rstrip()
    try:
        if body.endswith(":") and not _ends_inside_string(body):
            return ("header", (indent, _header_keys(body[:-1], "t", 1)))
        return ("value", (indent, *_key_value(body, "t", 1)))
    except InputError as exc:
        return ("error", str(exc))


@settings(max_examples=400)
@given(_LINES)
@example('"a, b", c:')  # a comma inside a quoted key is not a separator
@example("0 :")  # a value line that ends with ":" is a header
@example('  "a:" x')  # a quoted key loses its closing ":" too
def test_a_common_line_read_in_one_match_is_read_as_the_general_path_reads_it(raw: str) -> None:
    from depaudit.sources.yarn_syntax import plain_header, plain_line

    value, header = plain_line(raw), plain_header(raw)
    assert value is None or header is None
    if value is not None:
        assert _general(raw) == ("value", value)
    if header is not None:
        assert _general(raw) == ("header", header)


@pytest.mark.parametrize("project", ["yarn-v1-prettier", "yarn-v1-vue-core-workspaces"])
def test_most_lines_of_a_real_lockfile_take_one_match(project: str) -> None:
    """The one-match paths fire on real lockfiles (the cost of a 50,000-entry one depends
    on it), and read them as the general path does."""
    from pathlib import Path

    from depaudit.sources.yarn_syntax import plain_header, plain_line

    text = (Path(__file__).parents[1] / "corpus" / "real" / project / "yarn.lock").read_text()
    lines = [raw for raw in text.splitlines() if raw and not raw.startswith("#")]
    fast = 0
    for raw in lines:
        value, header = plain_line(raw), plain_header(raw)
        if value is not None:
            assert _general(raw) == ("value", value)
        elif header is not None:
            assert _general(raw) == ("header", header)
        fast += value is not None or header is not None
    assert fast >= 0.95 * len(lines)
