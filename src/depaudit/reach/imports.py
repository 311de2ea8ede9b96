"""What one JavaScript/TypeScript file loads: its ``require``, ``import``, ``export … from`` and
``import()`` specifiers, read with tree-sitter (:mod:`depaudit.js.parser`), each marked ``lazy``
when it runs only if some path runs (inside a function, a guarded branch, a loop or a ``try``).

Facts are cached by path, modification time and size (:class:`FactCache`); the syntax tree is
never kept.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

from depaudit.js.parser import Grammar, grammar_for, parse, string_value, text
from depaudit.slots import dataclass

if TYPE_CHECKING:
    from tree_sitter import Node, Query


Kind = Literal["require", "import", "dynamic"]


@dataclass(frozen=True, slots=True)
class ImportFact:
    """One load of another module. ``specifier`` is ``None`` when it is computed (not a
    literal): the file may load something nobody can name statically."""

    specifier: str | None
    lazy: bool
    kind: Kind
    line: int  # 1-based

    def to_json(self) -> list[Any]:
        return [self.specifier, self.lazy, self.kind, self.line]

    @classmethod
    def from_json(cls, raw: list[Any]) -> ImportFact:
        spec, lazy, kind, line = raw
        return cls(spec, bool(lazy), kind, int(line))


_QUERY = """
(call_expression function: [(identifier) (import)] @fn arguments: (arguments) @args)
(import_statement) @stmt
(export_statement source: (_)) @stmt
"""

_queries: dict[Grammar, Query] = {}
_lock = threading.Lock()

#: nodes whose body runs only when called
_FUNCTIONS = frozenset(
    {
        "function_declaration",
        "function_expression",
        "function",
        "arrow_function",
        "method_definition",
        "generator_function",
        "generator_function_declaration",
        "class_static_block",
    }
)
#: nodes whose children (other than the named field) run only on some paths
_GUARDS: dict[str, str | None] = {
    "if_statement": "condition",  # the condition always runs, the branches may not
    "ternary_expression": "condition",
    "switch_case": None,
    "switch_default": None,
    "try_statement": None,
    "catch_clause": None,
    "finally_clause": None,
    "for_statement": None,
    "for_in_statement": "right",
    "while_statement": "condition",
    "do_statement": None,
}


def _query(grammar: Grammar) -> Query:
    with _lock:
        query = _queries.get(grammar)
        if query is None:
            from tree_sitter import Query

            from depaudit.js.parser import language

            query = Query(language(grammar), _QUERY)
            _queries[grammar] = query
        return query


def _immediately_invoked(fn: Node) -> bool:
    """``(function () { ... })()``, ``(() => ...)()``, ``(function () {}).call(this)``."""
    node = fn
    parent = node.parent
    while parent is not None and parent.type == "parenthesized_expression":
        node, parent = parent, parent.parent
    if parent is None:
        return False
    if parent.type == "member_expression":
        prop = parent.child_by_field_name("property")
        if prop is None or text(prop) not in ("call", "apply"):
            return False
        node, parent = parent, parent.parent
        if parent is None:
            return False
    return parent.type == "call_expression" and parent.child_by_field_name("function") == node


def is_lazy(node: Node) -> bool:
    """Does ``node`` run only on some paths of the module's top-level evaluation?"""
    child = node
    parent = node.parent
    while parent is not None:
        kind = parent.type
        if kind in _FUNCTIONS:
            if not _immediately_invoked(parent):
                return True
        elif kind in _GUARDS:
            always = _GUARDS[kind]
            if always is None or parent.child_by_field_name(always) != child:
                return True
        elif kind == "binary_expression":
            op = parent.child_by_field_name("operator")
            if (
                op is not None
                and text(op) in ("&&", "||", "??")
                and parent.child_by_field_name("right") == child
            ):
                return True
        elif kind == "optional_chain":
            return True
        child, parent = parent, parent.parent
    return False


def _type_only(stmt: Node) -> bool:
    """TypeScript ``import type``, ``export type … from`` or every named import a type."""
    if any(c.type == "type" for c in stmt.children):
        return True
    clause = next((c for c in stmt.named_children if c.type == "import_clause"), None)
    if clause is None:
        return False
    named = list(clause.named_children)
    if len(named) != 1 or named[0].type != "named_imports":
        return False  # a default or namespace import is a value
    specs = [c for c in named[0].named_children if c.type == "import_specifier"]
    return bool(specs) and all(any(t.type == "type" for t in s.children) for s in specs)


def extract(source: bytes, grammar: Grammar) -> tuple[ImportFact, ...]:
    """Every load in ``source``, in source order."""
    if b"require" not in source and b"import" not in source and b"export" not in source:
        return ()
    from tree_sitter import QueryCursor

    tree = parse(source, grammar)
    found: list[ImportFact] = []
    seen: set[tuple[int, int]] = set()
    for _, match in QueryCursor(_query(grammar)).matches(tree.root_node):
        if "stmt" in match:
            stmt = match["stmt"][0]
            if _type_only(stmt):
                continue
            src = stmt.child_by_field_name("source")
            kind: Kind = "import"
            if src is None:  # import x = require('y') (TypeScript)
                req = next(
                    (c for c in stmt.named_children if c.type == "import_require_clause"), None
                )
                src = req.child_by_field_name("source") if req is not None else None
                kind = "require"
            if src is None:
                continue
            key = (src.start_byte, src.end_byte)
            if key in seen:
                continue
            seen.add(key)
            found.append(ImportFact(string_value(src), False, kind, src.start_point[0] + 1))
            continue
        fn = match["fn"][0]
        is_import = fn.type == "import"
        if not is_import and text(fn) != "require":
            continue
        args = match["args"][0]
        first = args.named_children[0] if args.named_children else None
        if first is None or first.type == "comment":
            continue
        call = fn.parent
        assert call is not None
        key = (first.start_byte, first.end_byte)
        if key in seen:
            continue
        seen.add(key)
        found.append(
            ImportFact(
                string_value(first),
                is_lazy(call),
                "dynamic" if is_import else "require",
                call.start_point[0] + 1,
            )
        )
    found.sort(key=lambda f: f.line)
    return tuple(found)


class FactCache:
    """Import facts by file path, valid while the file's mtime and size are unchanged.

    ``dump()``/``load()`` turn it into JSON-able data for a disk cache; threads may share it.
    """

    def __init__(self) -> None:
        self._facts: dict[str, tuple[int, int, tuple[ImportFact, ...]]] = {}
        self._lock = threading.Lock()
        self.parsed = 0  # files parsed (cache misses) since creation
        self.changed = False

    def facts(self, path: str) -> tuple[ImportFact, ...]:
        """The imports of the file at ``path`` (empty for a file that cannot be read)."""
        grammar = grammar_for(path)
        if grammar is None or path.endswith(".d.ts"):
            return ()
        try:
            st = os.stat(path)
        except OSError:
            return ()
        known = self._facts.get(path)
        if known is not None and known[0] == st.st_mtime_ns and known[1] == st.st_size:
            return known[2]
        try:
            with open(path, "rb") as handle:
                source = handle.read()
        except OSError:
            return ()
        found = extract(source, grammar)
        with self._lock:
            self._facts[path] = (st.st_mtime_ns, st.st_size, found)
            self.parsed += 1
            self.changed = True
        return found

    def dump(self) -> dict[str, list[Any]]:
        return {
            path: [mtime, size, [f.to_json() for f in facts]]
            for path, (mtime, size, facts) in self._facts.items()
        }

    @classmethod
    def load(cls, data: object) -> FactCache:
        """A cache from :meth:`dump` output; anything malformed is dropped, never trusted."""
        cache = cls()
        if not isinstance(data, Mapping):
            return cache
        for path, entry in data.items():
            try:
                mtime, size, raw = entry
                facts = tuple(ImportFact.from_json(f) for f in raw)
            except (TypeError, ValueError):
                continue
            cache._facts[str(path)] = (int(mtime), int(size), facts)
        return cache

    def __iter__(self) -> Iterator[str]:
        return iter(self._facts)
