"""The shared tree-sitter front end: grammar by extension, literal strings, error tolerance."""

from __future__ import annotations

import pytest

from depaudit.js.parser import grammar_for, parse, string_value


@pytest.mark.parametrize(
    ("name", "grammar"),
    [
        ("a.js", "javascript"),
        ("a.MJS", "javascript"),
        ("a.cjs", "javascript"),
        ("a.jsx", "javascript"),
        ("a.ts", "typescript"),
        ("a.d.ts", "typescript"),
        ("a.tsx", "tsx"),
        ("a.json", None),
        ("Makefile", None),
    ],
)
def test_grammar_by_extension(name: str, grammar: str | None) -> None:
    assert grammar_for(name) == grammar


def _strings(source: bytes, grammar: str) -> list[str | None]:
    found: list[str | None] = []
    stack = [parse(source, grammar).root_node]  # type: ignore[arg-type]
    while stack:
        node = stack.pop()
        if node.type in ("string", "template_string"):
            found.append(string_value(node))
        stack.extend(reversed(node.children))
    return found


def test_literal_specifiers_and_templates() -> None:
    assert _strings(b"require('a'); require(`b`); require(`c${x}`); require('')", "javascript") == [
        "a",
        "b",
        None,
        "",
    ]


def test_typescript_cast_is_not_jsx() -> None:
    tree = parse(b"const x = <number>y; import z from 'z';", "typescript")
    assert not tree.root_node.has_error
    assert _strings(b"import z from 'z';", "tsx") == ["z"]


def test_syntax_errors_still_yield_a_tree() -> None:
    tree = parse(b"const = ; import q from 'q'", "javascript")
    assert tree.root_node.has_error
    assert "q" in _strings(b"const = ; import q from 'q'", "javascript")
