"""The code rules are total: any bytes, in any of the grammars, give findings or none, never
an exception (tree-sitter turns syntax errors into ERROR nodes; the rules must cope)."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from depaudit.code.engine import analyse_source

CORPUS = Path(__file__).parent.parent / "code" / "corpus"
SOURCES = [p.read_bytes() for p in sorted(CORPUS.rglob("*.[jt]s"))]
EXAMPLES = int(os.environ.get("DEPAUDIT_FUZZ_EXAMPLES", "120"))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    source = draw(st.sampled_from(SOURCES))
    lines = source.split(b"\n")
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["drop", "dup", "cut", "junk"]))
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if op == "drop" and lines:
            del lines[i]
        elif op == "dup" and lines:
            lines.insert(i, lines[i])
        elif op == "cut" and lines:
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        else:
            lines.insert(i, draw(st.binary(max_size=40)))
    return b"\n".join(lines)


@settings(max_examples=EXAMPLES, deadline=None)
@given(mutated(), st.sampled_from(["javascript", "typescript", "tsx"]))
def test_rules_never_raise_on_mutated_sources(source: bytes, grammar: str) -> None:
    result = analyse_source(source, grammar)  # type: ignore[arg-type]
    assert result["s"] >= 0
    for finding in result["f"]:
        assert finding["line"] >= 1 and finding["column"] >= 1


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.binary(max_size=400))
def test_rules_never_raise_on_random_bytes(source: bytes) -> None:
    assert isinstance(analyse_source(source, "javascript")["f"], list)
