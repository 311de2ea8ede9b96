"""growing-collection: a module-level array, Map, Set or object that grows per request and
that nothing shrinks or bounds. The scan of module-level collections here is shared with
unbounded-cache (:mod:`depaudit.code.rules.unbounded_cache`), which judges the same
collections when they are used as a cache."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from depaudit.code.analysis import (
    FileContext,
    call_args,
    callee_parts,
    column,
    is_comparison,
    line,
    root_name,
    short,
    unwrap,
)
from depaudit.code.rules.shared import RawFinding, Rule, within
from depaudit.js.parser import text

if TYPE_CHECKING:
    from tree_sitter import Node


GROW_METHODS = frozenset({"push", "unshift", "set", "add"})
SHRINK_METHODS = frozenset({"delete", "clear", "splice", "shift", "pop", "prune", "purge"})
CACHE_NAME = re.compile(r"cache|memo", re.I)


@dataclass(slots=True)
class Collection:
    name: str
    kind: str  # array, Map, Set, object
    decl: Node
    grows: list[Node]
    reads: list[Node]
    shrunk: bool = False
    escaped: bool = False


def _collection_kind(value: Node | None) -> str | None:
    if value is None:
        return None
    value = unwrap(value)
    if value.type == "array":
        return "array"
    if value.type == "object" and value.named_child_count == 0:
        return "object"
    if value.type == "new_expression":
        constructor = value.child_by_field_name("constructor")
        name = text(constructor) if constructor is not None else ""
        if name in ("Map", "Set"):
            return name
    if value.type == "call_expression" and text(value).replace(" ", "") == "Object.create(null)":
        return "object"
    return None


def _is_literal(node: Node) -> bool:
    return unwrap(node).type in ("string", "number", "true", "false", "null")


class CollectionScan:
    """Module-level collections with their growth, reads and shrinks (shared by the
    growing-collection and unbounded-cache rules)."""

    def __init__(self, ctx: FileContext) -> None:
        self.items: dict[str, Collection] = {}
        for name, value in ctx.bindings.items():
            kind = _collection_kind(value)
            if kind is None or name in ctx.exported:
                continue
            self.items[name] = Collection(name, kind, ctx.binding_nodes[name], [], [])
        if not self.items:
            return
        for call in ctx.calls:
            receiver, method = callee_parts(call)
            if receiver is None:
                continue
            target = unwrap(receiver)
            if target.type != "identifier" or text(target) not in self.items:
                continue
            item = self.items[text(target)]
            args = call_args(call)
            if method in GROW_METHODS:
                if method in ("set", "add") and args and _is_literal(args[0]):
                    continue
                item.grows.append(call)
            elif method in SHRINK_METHODS:
                item.shrunk = True
            elif method in ("get", "has"):
                item.reads.append(call)
        for assign in ctx.assigns:
            left = assign.child_by_field_name("left")
            right = assign.child_by_field_name("right")
            if left is None:
                continue
            if left.type == "identifier" and text(left) in self.items:
                self.items[text(left)].shrunk = True  # reassigned (reset, filtered, sliced)
            elif left.type == "subscript_expression":
                obj = left.child_by_field_name("object")
                index = left.child_by_field_name("index")
                if (
                    obj is not None
                    and obj.type == "identifier"
                    and text(obj) in self.items
                    and index is not None
                    and not _is_literal(index)
                ):
                    self.items[text(obj)].grows.append(assign)
            elif left.type == "member_expression":
                obj = left.child_by_field_name("object")
                prop = left.child_by_field_name("property")
                if (
                    obj is not None
                    and obj.type == "identifier"
                    and text(obj) in self.items
                    and prop is not None
                    and text(prop) == "length"
                ):
                    self.items[text(obj)].shrunk = True
            if right is not None and unwrap(right).type == "identifier":
                used = text(unwrap(right))
                if used in self.items and not (left.type == "identifier" and text(left) == used):
                    self.items[used].escaped = True
        for unary in ctx.unaries:
            if text(unary).startswith("delete"):
                deleted = root_name(unary.child_by_field_name("argument"))
                if deleted is not None and deleted in self.items:
                    self.items[deleted].shrunk = True
        # a bound: the size or length compared with something
        for name, item in self.items.items():
            if item.shrunk:
                continue
            pattern = re.compile(rb"\b" + re.escape(name.encode()) + rb"\s*\.\s*(size|length)\b")
            for match in pattern.finditer(ctx.source):
                node = ctx.root.descendant_for_byte_range(match.start(), match.end())
                while node is not None and node.type not in (
                    "binary_expression",
                    "statement_block",
                    "program",
                ):
                    node = node.parent
                if node is not None and is_comparison(node):
                    item.shrunk = True
                    break
            if not item.shrunk and re.search(
                rb"Object\.keys\(\s*" + re.escape(name.encode()) + rb"\s*\)\.length\s*[<>=]",
                ctx.source,
            ):
                item.shrunk = True
        # reads by subscript (cache lookups obj[key])
        for name, item in self.items.items():
            if item.kind == "object" and re.search(
                rb"[^.\w]" + re.escape(name.encode()) + rb"\[[^\]]+\](?!\s*=[^=])", ctx.source
            ):
                item.reads.append(item.decl)

    def is_cache(self, ctx: FileContext, item: Collection, grow: Node) -> bool:
        if CACHE_NAME.search(item.name):
            return True
        fn = ctx.innermost_function(grow)
        if fn is None:
            return False
        return any(within(read, fn) for read in item.reads if read != item.decl)


def collections_of(ctx: FileContext) -> CollectionScan:
    cached = getattr(ctx, "_collection_scan", None)
    if cached is None:
        cached = CollectionScan(ctx)
        ctx._collection_scan = cached  # type: ignore[attr-defined]
    return cached


class GrowingCollection(Rule):
    id = "growing-collection"
    cache_rule: ClassVar[bool] = False

    def check(self, ctx: FileContext) -> Iterator[RawFinding]:
        scan = collections_of(ctx)
        for item in scan.items.values():
            if item.shrunk or item.escaped or not item.grows:
                continue
            for grow in item.grows:
                found = ctx.context(grow, events=True)
                if found is None:
                    continue
                if scan.is_cache(ctx, item, grow) != self.cache_rule:
                    break
                reason, _ = found
                yield self._finding(item, grow, reason)
                break

    def _finding(self, item: Collection, grow: Node, reason: str) -> RawFinding:
        how = short(grow, 50)
        return RawFinding(
            self.id,
            line(grow),
            column(grow),
            f"module-level {item.kind} `{item.name}` grows in {reason.split(' (')[0]} "
            f"(`{how}`) and nothing ever removes from it or bounds it",
            (
                f"collection: `{item.name}` ({item.kind}, line {line(item.decl)})",
                f"grows: `{how}` (line {line(grow)}) in {reason}",
                "shrinks: never (no delete/splice/shift/clear/reassignment, no size check)",
            ),
        )
