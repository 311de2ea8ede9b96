"""listener-leak: a listener added per request to a long-lived emitter and never removed."""

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
    line,
    root_name,
    short,
    unwrap,
)
from depaudit.code.rules.shared import RawFinding, Rule, package_note
from depaudit.js.parser import string_value, text

if TYPE_CHECKING:
    from tree_sitter import Node


ADD_METHODS = frozenset({"on", "addListener", "prependListener"})
REMOVE_METHODS = frozenset({"off", "removeListener"})
KEEPALIVE_SOCKETS = re.compile(r"^(req|request|res|response)\.(socket|connection)$")


class ListenerLeak(Rule):
    id = "listener-leak"

    def check(self, ctx: FileContext) -> Iterator[RawFinding]:
        removals: list[tuple[str | None, str, str | None]] = []  # (root, listener, event)
        remove_all: set[str | None] = set()
        for call in ctx.calls:
            receiver, method = callee_parts(call)
            if receiver is None:
                continue
            if method in REMOVE_METHODS:
                args = call_args(call)
                if len(args) >= 2:
                    removals.append((root_name(receiver), text(args[1]), string_value(args[0])))
            elif method == "removeAllListeners":
                remove_all.add(root_name(receiver))
        for call in ctx.calls:
            receiver, method = callee_parts(call)
            if receiver is None or method not in ADD_METHODS:
                continue
            args = call_args(call)
            if len(args) < 2:
                continue
            emitter = self._long_lived(ctx, receiver)
            if emitter is None:
                continue
            found = ctx.context(call)
            if found is None:
                continue
            reason, _handler = found
            root = root_name(receiver)
            listener = unwrap(args[1])
            event = string_value(args[0])
            if root in remove_all:
                continue
            if listener.type not in FUNCTION_TYPES and any(
                r_root == root and r_listener == text(listener)
                for r_root, r_listener, _ in removals
            ):
                continue
            if self._disposer_kept(call) or (len(args) >= 3 and "signal" in text(args[2])):
                continue
            if self._guarded(call, receiver):
                continue
            package = ctx.origin(receiver)
            shown = f"'{event}'" if event is not None else short(args[0], 30)
            how = (
                "an inline function that can never be removed"
                if listener.type in FUNCTION_TYPES
                else f"`{short(listener, 30)}`, never passed to off/removeListener"
            )
            yield RawFinding(
                self.id,
                line(call),
                column(call),
                f"{reason.split(' (')[0]} adds a {shown} listener to "
                f"{emitter}{package_note(package)} on every call and never removes it ({how})",
                (
                    f"added in: {reason}",
                    f"emitter: {emitter}",
                    f"listener: {how}",
                    "removal: none (use once, off/removeListener with the same function, or a "
                    "disposer on close)",
                ),
                package,
            )

    @staticmethod
    def _guarded(call: Node, receiver: Node) -> bool:
        """Added behind a condition about the emitter itself (``if (!seen.has(req.socket))``,
        ``if (!client.listenerCount('x'))``): once per emitter, not once per call."""
        target = text(unwrap(receiver))
        parent = call.parent
        while parent is not None and parent.type not in FUNCTION_TYPES:
            if parent.type == "if_statement":
                condition = parent.child_by_field_name("condition")
                if condition is not None and target in text(condition):
                    return True
            parent = parent.parent
        return False

    @staticmethod
    def _disposer_kept(call: Node) -> bool:
        parent = call.parent
        while parent is not None and parent.type in (
            "await_expression",
            "parenthesized_expression",
        ):
            parent = parent.parent
        return parent is not None and parent.type in (
            "variable_declarator",
            "assignment_expression",
            "return_statement",
            "arguments",
            "array",
            "pair",
        )

    @staticmethod
    def _long_lived(ctx: FileContext, receiver: Node) -> str | None:
        receiver = unwrap(receiver)
        shown = short(receiver, 40)
        if KEEPALIVE_SOCKETS.match(text(receiver)):
            return f"`{shown}` (the keep-alive socket every request on the connection shares)"
        root = root_name(receiver)
        if root == "process":
            return "`process`"
        if root is None or root == "this" or not ctx.is_module_binding(root):
            return None
        value = ctx.bindings.get(root)
        if value is not None and value.type in ("function_declaration", "class_declaration"):
            return None
        if value is not None and unwrap(value).type in ("array", "object", "arrow_function"):
            return None
        decl = ctx.binding_nodes.get(root)
        where = f", declared at line {line(decl)}" if decl is not None else ""
        return f"module-level `{shown}`{where}"
