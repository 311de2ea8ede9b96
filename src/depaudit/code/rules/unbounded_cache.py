"""unbounded-cache: a hand-written cache (a collection read back by key, or named cache /
memo) or an unbounded memoizer, filled per request and never bounded."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

from depaudit.code.analysis import (
    FileContext,
    call_args,
    callee_parts,
    column,
    line,
    short,
    unwrap,
)
from depaudit.code.rules.growing_collection import Collection, GrowingCollection
from depaudit.code.rules.shared import RawFinding
from depaudit.js.parser import text

if TYPE_CHECKING:
    from tree_sitter import Node


class UnboundedCache(GrowingCollection):
    id = "unbounded-cache"
    cache_rule = True

    MEMOIZERS: ClassVar[dict[str, tuple[str, ...]]] = {
        # package -> option names that bound it
        "memoizee": ("max", "maxAge"),
        "lodash": (),
        "lodash.memoize": (),
        "lodash-es": (),
        "underscore": (),
        "fast-memoize": ("cache",),
        "mem": ("maxAge", "cache"),
        "memoize": ("maxAge", "cache"),
        "p-memoize": ("cache",),
    }
    LRUS: ClassVar[dict[str, tuple[str, ...]]] = {
        "lru-cache": ("max", "maxSize", "ttl", "maxAge", "length"),
        "lru": ("max",),
        "node-cache": ("maxKeys", "stdTTL"),
        "tiny-lru": (),
        "mnemonist": (),
    }

    def _finding(self, item: Collection, grow: Node, reason: str) -> RawFinding:
        how = short(grow, 50)
        return RawFinding(
            self.id,
            line(grow),
            column(grow),
            f"`{item.name}` is a cache ({item.kind}) filled in {reason.split(' (')[0]} "
            f"(`{how}`) with no bound and no eviction",
            (
                f"cache: `{item.name}` ({item.kind}, line {line(item.decl)})",
                f"fills: `{how}` (line {line(grow)}) in {reason}",
                "bound: none (use an LRU with max, or delete entries)",
            ),
        )

    def check(self, ctx: FileContext) -> Iterator[RawFinding]:
        yield from super().check(ctx)
        yield from self._memoizers(ctx)
        yield from self._lrus(ctx)

    def _memoizers(self, ctx: FileContext) -> Iterator[RawFinding]:
        for name, value in ctx.bindings.items():
            if value is None or unwrap(value).type != "call_expression":
                continue
            call = unwrap(value)
            fn = call.child_by_field_name("function")
            if fn is None:
                continue
            package, imported = ctx.imported_name(fn)
            if package not in self.MEMOIZERS:
                continue
            if package in ("lodash", "lodash-es", "underscore") and imported != "memoize":
                continue
            args = call_args(call)
            if not args:
                continue
            options = args[1] if len(args) > 1 else None
            bounds = self.MEMOIZERS[package]
            if options is not None and any(re.search(rf"\b{b}\b", text(options)) for b in bounds):
                continue
            if re.search(rb"\b" + re.escape(name.encode()) + rb"\.cache\s*=", ctx.source):
                continue  # _.memoize's cache replaced (by a bounded one)
            use = self._used_per_request(ctx, name)
            if use is None:
                continue
            site, reason = use
            yield RawFinding(
                self.id,
                line(call),
                column(call),
                f"`{name}` memoizes with {package} without a bound and is called with "
                f"per-request arguments in {reason.split(' (')[0]}: every distinct argument "
                "stays cached",
                (
                    f"cache: `{short(call, 50)}` (line {line(call)})",
                    f"fills: `{short(site, 50)}` (line {line(site)}) in {reason}",
                    "bound: none (memoizee: { max }, or an LRU)",
                ),
                package,
            )

    def _lrus(self, ctx: FileContext) -> Iterator[RawFinding]:
        for name, value in ctx.bindings.items():
            if value is None or unwrap(value).type != "new_expression":
                continue
            new = unwrap(value)
            constructor = new.child_by_field_name("constructor")
            if constructor is None:
                continue
            package = ctx.origin(constructor)
            if package not in self.LRUS:
                continue
            for assign in ctx.assigns:
                left = assign.child_by_field_name("left")
                if (
                    left is not None
                    and left.type == "subscript_expression"
                    and text(left.child_by_field_name("object") or left) == name
                ):
                    yield RawFinding(
                        self.id,
                        line(assign),
                        column(assign),
                        f"`{short(assign, 40)}` writes around the {package} cache `{name}`: "
                        "entries stored as properties are never evicted",
                        (
                            f"cache: `{name}` ({package}, line {line(new)})",
                            f"written around: `{short(assign, 50)}` (line {line(assign)})",
                            f"bound: bypassed (use {name}.set(key, value))",
                        ),
                        package,
                    )
                    break
            args = call_args(new)
            bounds = self.LRUS[package]
            if args and (
                unwrap(args[0]).type == "number"
                or any(re.search(rf"\b{b}\b", text(args[0])) for b in bounds)
                or unwrap(args[0]).type not in ("object",)
            ):
                continue
            if not bounds:
                continue
            use = self._set_per_request(ctx, name)
            if use is None:
                continue
            site, reason = use
            yield RawFinding(
                self.id,
                line(new),
                column(new),
                f"`{name}` is a {package} cache without max/maxSize filled in "
                f"{reason.split(' (')[0]}: it never evicts",
                (
                    f"cache: `{short(new, 50)}` (line {line(new)})",
                    f"fills: `{short(site, 50)}` (line {line(site)}) in {reason}",
                    f"bound: none (give it {bounds[0]})",
                ),
                package,
            )

    @staticmethod
    def _used_per_request(ctx: FileContext, name: str) -> tuple[Node, str] | None:
        for call in ctx.calls:
            fn = call.child_by_field_name("function")
            if fn is None or fn.type != "identifier" or text(fn) != name:
                continue
            if not call_args(call):
                continue
            found = ctx.context(call, events=True)
            if found is not None:
                return call, found[0]
        return None

    @staticmethod
    def _set_per_request(ctx: FileContext, name: str) -> tuple[Node, str] | None:
        for call in ctx.calls:
            receiver, method = callee_parts(call)
            if method != "set" or receiver is None or text(unwrap(receiver)) != name:
                continue
            found = ctx.context(call, events=True)
            if found is not None:
                return call, found[0]
        return None
