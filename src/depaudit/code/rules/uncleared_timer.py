"""uncleared-timer: an interval (or a re-armed timeout) started per request and never
cleared."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from depaudit.code.analysis import (
    FUNCTION_TYPES,
    FileContext,
    call_args,
    callee_parts,
    column,
    function_name,
    line,
    root_name,
    short,
    unwrap,
)
from depaudit.code.rules.shared import RawFinding, Rule
from depaudit.js.parser import text

if TYPE_CHECKING:
    from tree_sitter import Node


CLEARERS = frozenset({"clearInterval", "clearTimeout"})


class UnclearedTimer(Rule):
    id = "uncleared-timer"

    def check(self, ctx: FileContext) -> Iterator[RawFinding]:
        if ctx.imports.get("setInterval", ("", None))[0] == "timers/promises":
            return
        clears = [
            text(a)
            for call in ctx.calls
            if callee_parts(call)[0] is None and callee_parts(call)[1] in CLEARERS
            for a in call_args(call)[:1]
        ]
        for call in ctx.calls:
            receiver, method = callee_parts(call)
            if method not in ("setInterval", "setTimeout"):
                continue
            if receiver is not None and text(receiver) not in ("global", "globalThis", "window"):
                continue
            args = call_args(call)
            if not args:
                continue
            found = ctx.context(call)
            if found is None:
                continue
            if method == "setTimeout" and not self._rearms(ctx, call, args[0]):
                continue
            key, stored = self._handle(call)
            if key is None and stored:
                continue  # returned or handed over: the caller owns it
            if key is not None and any(re.search(rf"\b{re.escape(key)}\b", c) for c in clears):
                continue
            reason, _ = found
            kind = "setInterval" if method == "setInterval" else "a re-arming setTimeout"
            handle = (
                f"stored in `{key}`, never passed to clearInterval/clearTimeout"
                if key
                else "its handle is not even kept"
            )
            yield RawFinding(
                self.id,
                line(call),
                column(call),
                f"{reason.split(' (')[0]} starts {kind} on every call that is never cleared "
                f"({handle})",
                (
                    f"started in: {reason}",
                    f"timer: `{short(call, 50)}` (line {line(call)})",
                    "cleared: never (clear it on the close/disconnect/finish path)",
                ),
            )

    @staticmethod
    def _handle(call: Node) -> tuple[str | None, bool]:
        """(key, stored): the name the handle is kept under, and whether it is kept at all."""
        node = call
        parent = node.parent
        while parent is not None and parent.type in ("parenthesized_expression", "as_expression"):
            node, parent = parent, parent.parent
        if parent is None:
            return None, False
        if parent.type == "variable_declarator":
            name = parent.child_by_field_name("name")
            return (text(name) if name is not None else None), True
        if parent.type == "assignment_expression":
            left = parent.child_by_field_name("left")
            if left is None:
                return None, True
            if left.type == "member_expression":
                prop = left.child_by_field_name("property")
                return (text(prop) if prop is not None else None), True
            if left.type == "subscript_expression":
                return root_name(left), True
            return text(left), True
        if parent.type == "arguments":
            holder = parent.parent
            if holder is not None and holder.type == "call_expression":
                receiver, method = callee_parts(holder)
                if method in ("set", "push", "add") and receiver is not None:
                    return root_name(receiver), True
            return None, True
        if parent.type == "pair":
            key = parent.child_by_field_name("key")
            return (text(key) if key is not None else None), True
        if parent.type in ("return_statement", "array"):
            return None, True
        if parent.type == "arrow_function" and parent.child_by_field_name("body") == node:
            return None, True
        return None, False

    @staticmethod
    def _rearms(ctx: FileContext, call: Node, callback: Node) -> bool:
        """setTimeout(tick) inside tick, not behind a condition: a timer loop."""
        names = {function_name(fn) for fn in ctx.enclosing_functions(call)} - {None}
        callback = unwrap(callback)
        target: str | None = None
        if callback.type == "identifier":
            target = text(callback)
        elif callback.type in FUNCTION_TYPES:
            body = callback.child_by_field_name("body")
            if body is not None:
                for inner in ctx.calls_within(body):
                    _, name = callee_parts(inner)
                    if name in names and callee_parts(inner)[0] is None:
                        target = name
                        break
        if target is None or target not in names:
            return False
        parent = call.parent
        while parent is not None:
            if parent.type in FUNCTION_TYPES and function_name(parent) == target:
                return True
            if parent.type in (
                "if_statement",
                "ternary_expression",
                "switch_case",
                "binary_expression",
            ):
                return False
            parent = parent.parent
        return False
