"""Import extraction: literal specifiers, lazy positions, type-only imports."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from depaudit.reach.imports import FactCache, ImportFact, extract

SOURCE = b"""
import a from 'a'; import type {T} from 't'; import {type U} from 'u'; import {type V, W} from 'v';
export * from 'e'; export {x} from "ex"; export type {Y} from 'y';
const b = require('b'); function f(){ require('c') } try { require('d') } catch(e){}
(function(){ require('iife') })();
(function(){ require('iife2') }).call(this);
import('dyn'); require(name); if (y) require('g'); else { require('h') }
import fs = require('fs2'); const z = cond ? require('t1') : null; const q = w || require('w2');
module.exports = require('bindings')('x.node');
class A { m() { require('meth') } }
const arrow = () => require('arrow');
"""


def _by_spec(grammar: str) -> dict[str | None, ImportFact]:
    return {f.specifier: f for f in extract(SOURCE, grammar)}  # type: ignore[arg-type]


def test_eager_and_lazy_loads() -> None:
    found = _by_spec("typescript")
    eager = {s for s, f in found.items() if not f.lazy}
    lazy = {s for s, f in found.items() if f.lazy}
    assert eager == {"a", "v", "e", "ex", "b", "iife", "iife2", "dyn", None, "fs2", "bindings"}
    assert lazy == {"c", "d", "g", "h", "t1", "w2", "meth", "arrow"}
    assert "t" not in found and "u" not in found and "y" not in found  # types only
    assert found[None].kind == "require" and found[None].line == 7
    assert found["dyn"].kind == "dynamic" and found["a"].kind == "import"


def test_javascript_grammar_reads_commonjs() -> None:
    found = extract(b"var x = require('x');\nif (a) { require('y') }\n", "javascript")
    assert [(f.specifier, f.lazy, f.line) for f in found] == [("x", False, 1), ("y", True, 2)]


def test_require_resolve_and_other_calls_are_not_loads() -> None:
    found = extract(b"require.resolve('x'); load('y'); obj.require('z');", "javascript")
    assert found == ()


def test_cache_round_trip_drops_malformed_entries() -> None:
    cache = FactCache.load({"/a.js": [1, 2, [["x", False, "require", 3]]], "/b.js": "junk"})
    assert list(cache) == ["/a.js"]
    assert cache.dump() == {"/a.js": [1, 2, [["x", False, "require", 3]]]}


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["javascript", "typescript", "tsx"]))
def test_any_bytes_parse_without_error(source: bytes, grammar: str) -> None:
    for fact in extract(b"require('a');" + source, grammar):  # type: ignore[arg-type]
        assert fact.line >= 1
        assert fact.kind in ("require", "import", "dynamic")
