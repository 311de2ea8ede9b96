"""The five leak rules, one class each, over a :class:`FileContext`.

Every rule is written for precision: when a value escapes (returned, stored, exported, handed
to a function the rule cannot see), when a removal or release exists on some path the rule
cannot prove wrong, or when the code is not per-request, the rule stays silent.

Why this module is over ~400 lines: the rules build on each other (UnreleasedClientCall extends
UnreleasedConnection, UnboundedCache extends GrowingCollection over one shared collection scan)
and share the scope helpers at the top; each rule is one class. Splitting it is the next step
if a rule grows further (noted in docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from depaudit.code.analysis import (
    FUNCTION_TYPES,
    FileContext,
    call_args,
    callee_parts,
    column,
    function_name,
    is_comparison,
    line,
    root_name,
    short,
    unwrap,
)
from depaudit.js.parser import string_value, text

if TYPE_CHECKING:
    from tree_sitter import Node


@dataclass(frozen=True, slots=True)
class RawFinding:
    """A finding before it is given its file: what the cache stores."""

    rule: str
    line: int
    column: int
    message: str
    evidence: tuple[str, ...]
    package: str | None = None


def _pkg(package: str | None) -> str:
    return f" ({package})" if package else ""


class Rule(ABC):
    id: ClassVar[str]

    @abstractmethod
    def check(self, ctx: FileContext) -> Iterator[RawFinding]:
        """The findings of this rule in one file."""


# -- 1. unreleased connection ---------------------------------------------------------------

RELEASE_METHODS = frozenset({"release", "end", "destroy", "close", "quit", "disconnect", "done"})
POOL_RELEASE_METHODS = frozenset({"release", "releaseConnection", "destroy"})
POOL_PACKAGES = frozenset({"pg", "pg-pool", "generic-pool", "tarn", "mysql", "mysql2", "mariadb"})
#: (package, name) of calls and constructors that open a new client or pool per call
CLIENT_FACTORIES: dict[str, frozenset[str]] = {
    "pg": frozenset({"Client", "Pool"}),
    "pg-pool": frozenset({"Pool"}),
    "mysql": frozenset({"createConnection", "createPool"}),
    "mysql2": frozenset({"createConnection", "createPool"}),
    "mariadb": frozenset({"createConnection", "createPool"}),
    "ioredis": frozenset({"Redis", "Cluster", "default"}),
    "redis": frozenset({"createClient", "createCluster"}),
    "mongodb": frozenset({"MongoClient", "connect"}),
    "amqplib": frozenset({"connect"}),
    "knex": frozenset({"knex", "default", "Knex"}),
    "sequelize": frozenset({"Sequelize"}),
}

FACTORY_NAMES = frozenset(name for names in CLIENT_FACTORIES.values() for name in names)


def _finally_covers(ctx: FileContext, node: Node, scope: Node) -> bool:
    """``node`` sits in a ``finally`` block (or a ``.finally(cb)`` callback) within scope."""
    parent = node.parent
    while parent is not None and parent != scope:
        if parent.type == "finally_clause":
            return True
        if parent.type in FUNCTION_TYPES:
            holder = parent.parent
            if holder is not None and holder.type == "arguments" and holder.parent is not None:
                _, method = callee_parts(holder.parent)
                if method == "finally":
                    return True
        parent = parent.parent
    return False


def _ancestor(node: Node, kind: str, stop: Node) -> Node | None:
    parent = node.parent
    while parent is not None and parent != stop:
        if parent.type == kind:
            return parent
        parent = parent.parent
    return None


def _within(node: Node, outer: Node | None) -> bool:
    return (
        outer is not None
        and outer.start_byte <= node.start_byte
        and node.end_byte <= outer.end_byte
    )


class UnreleasedConnection(Rule):
    id = "unreleased-connection"

    def check(self, ctx: FileContext) -> Iterator[RawFinding]:
        for call in ctx.calls:
            found = self._acquisition(ctx, call)
            if found is not None:
                yield from self._judge(ctx, call, *found)
        for new in ctx.news:
            found = self._creation(ctx, new)
            if found is not None:
                yield from self._judge(ctx, new, *found)

    # what is acquired ---------------------------------------------------------------------
    def _acquisition(
        self, ctx: FileContext, call: Node
    ) -> tuple[str, str | None, str, Node, str | None] | None:
        """(kind, package, what, scope, release-callback name) for a checkout."""
        receiver, method = callee_parts(call)
        if receiver is None or method not in ("getConnection", "connect", "acquire"):
            return None
        if ctx.innermost_function(call) is None:
            return None
        package = ctx.origin(receiver)
        name = (root_name(receiver) or "").lower()
        poolish = "pool" in name or package in POOL_PACKAGES and method != "connect"
        if method == "connect":
            value = ctx.bindings.get(root_name(receiver) or "")
            made_pool = value is not None and "Pool" in text(value)[:60]
            if not (made_pool or "pool" in name):
                return None
        elif method == "acquire" and not poolish:
            return None
        return (
            "checkout",
            package,
            f"{short(call.child_by_field_name('function') or call)}()",
            call,
            None,
        )

    def _creation(
        self, ctx: FileContext, node: Node
    ) -> tuple[str, str | None, str, Node, str | None] | None:
        constructor = node.child_by_field_name("constructor")
        if constructor is None:
            return None
        package, name = ctx.imported_name(constructor)
        factories = CLIENT_FACTORIES.get(package or "")
        if not factories:
            return None
        default_import = (
            unwrap(constructor).type == "identifier"
            and ctx.imports.get(text(unwrap(constructor)), ("", "x"))[1] is None
        )
        if name not in factories and not default_import:
            return None
        if ctx.context(node, events=True) is None:
            return None
        return "client", package, f"new {short(constructor)}()", node, None

    def _factory_call(self, ctx: FileContext, call: Node) -> tuple[str | None, str] | None:
        receiver, called = callee_parts(call)
        if called not in FACTORY_NAMES and not (
            receiver is None
            and called in ctx.imports
            and ctx.imports[called][0] in CLIENT_FACTORIES
        ):
            return None
        fn = call.child_by_field_name("function")
        if fn is None:
            return None
        package, name = ctx.imported_name(fn)
        if package is None or name not in CLIENT_FACTORIES.get(package, frozenset()):
            return None
        if name in ("connect",) and package == "mongodb" and "MongoClient" not in text(fn):
            return None
        return package, f"{short(fn)}()"

    # the verdict --------------------------------------------------------------------------
    def _judge(
        self,
        ctx: FileContext,
        node: Node,
        kind: str,
        package: str | None,
        what: str,
        _scope: Node,
        _done: str | None,
    ) -> Iterator[RawFinding]:
        resource, scope, done, callback_style = self._resource(ctx, node)
        if resource is None or scope is None:
            return
        if (
            resource in ctx.bindings
            and ctx.innermost_function(node) is not None
            and self._declared_at_module(ctx, resource, scope)
        ):
            return  # a lazily created singleton
        releases = self._releases(ctx, scope, resource, done)
        if self._escapes(ctx, scope, resource, releases, node):
            return
        noun = "connection" if kind == "checkout" else "client"
        acquired = f"acquired: `{short(node)}` (line {line(node)})"
        if not releases:
            yield RawFinding(
                self.id,
                line(node),
                column(node),
                f"`{what}` gives a {noun}{_pkg(package)} that is never released "
                f"(no {resource}.release()/end()/quit() in this function)",
                (acquired, "released: never"),
                package,
            )
            return
        if any(_finally_covers(ctx, r, scope) for r in releases):
            return
        released = f"released: `{short(releases[0])}` (line {line(releases[0])})"
        leak = self._throw_path(ctx, node, scope, releases, callback_style)
        if leak is not None:
            yield RawFinding(
                self.id,
                line(node),
                column(node),
                f"the {noun} from `{what}`{_pkg(package)} is released outside `finally`: "
                f"when `{short(leak, 40)}` (line {line(leak)}) throws, it is never released",
                (acquired, released, f"missing path: `{short(leak, 40)}` rejects"),
                package,
            )
            return
        early = self._early_exit(ctx, node, scope, releases, resource, callback_style)
        if early is not None:
            yield RawFinding(
                self.id,
                line(node),
                column(node),
                f"the {noun} from `{what}`{_pkg(package)} is not released on every path: "
                f"`{short(early, 40)}` (line {line(early)}) leaves without releasing "
                f"`{resource}`",
                (acquired, released, f"missing path: `{short(early, 40)}`"),
                package,
            )

    @staticmethod
    def _declared_at_module(ctx: FileContext, name: str, scope: Node) -> bool:
        decl = ctx.binding_nodes.get(name)
        return decl is not None and not _within(decl, scope)

    def _resource(
        self, ctx: FileContext, node: Node
    ) -> tuple[str | None, Node | None, str | None, bool]:
        """(variable, scope, done-callback, callback style) of what ``node`` produces."""
        parent = node.parent
        while parent is not None and parent.type in (
            "await_expression",
            "parenthesized_expression",
            "as_expression",
            "non_null_expression",
        ):
            parent = parent.parent
        if parent is None:
            return None, None, None, False
        if parent.type == "variable_declarator":
            name = parent.child_by_field_name("name")
            if name is not None and name.type == "identifier":
                return text(name), ctx.innermost_function(node), None, False
            return None, None, None, False
        if parent.type == "assignment_expression":
            left = parent.child_by_field_name("left")
            if left is not None and left.type == "identifier":
                return text(left), ctx.innermost_function(node), None, False
            return None, None, None, False
        if parent.type == "arguments" or node.type != "call_expression":
            return None, None, None, False
        # callback style: pool.getConnection((err, conn[, done]) => ...)
        args = call_args(node)
        if args and unwrap(args[-1]).type in FUNCTION_TYPES:
            fn = unwrap(args[-1])
            from depaudit.code.analysis import params

            names = params(fn)
            if len(names) >= 2 and names[1]:
                done = names[2] if len(names) >= 3 and names[2] else None
                return names[1], fn, done, True
        # promise style: pool.getConnection().then(conn => ...)
        if parent.type == "member_expression":
            prop = parent.child_by_field_name("property")
            holder = parent.parent
            if prop is not None and text(prop) == "then" and holder is not None:
                then_args = call_args(holder)
                if then_args and unwrap(then_args[0]).type in FUNCTION_TYPES:
                    from depaudit.code.analysis import params

                    fn = unwrap(then_args[0])
                    names = params(fn)
                    if names and names[0]:
                        return names[0], fn, None, True
        return None, None, None, False

    @staticmethod
    def _releases(ctx: FileContext, scope: Node, resource: str, done: str | None) -> list[Node]:
        out = []
        for call in ctx.calls_within(scope):
            receiver, method = callee_parts(call)
            if receiver is None:
                if done is not None and method == done:
                    out.append(call)
                continue
            if method in RELEASE_METHODS and text(unwrap(receiver)) == resource:
                out.append(call)
            elif method in POOL_RELEASE_METHODS:
                args = call_args(call)
                if args and text(args[0]) == resource:
                    out.append(call)
        return out

    @staticmethod
    def _escapes(
        ctx: FileContext, scope: Node, resource: str, releases: list[Node], node: Node
    ) -> bool:
        release_ids = {r.id for r in releases}
        for item in ctx.subtree(scope):
            if item.type == "shorthand_property_identifier" and text(item) == resource:
                return True
            if item.type != "identifier" or text(item) != resource:
                continue
            parent = item.parent
            if parent is None:
                continue
            kind = parent.type
            if kind == "member_expression":
                continue
            if kind == "arguments":
                call = parent.parent
                if call is None or call.id in release_ids:
                    continue
                fn = call.child_by_field_name("function")
                if fn is not None and text(fn).startswith("console."):
                    continue
                return True
            if kind in ("return_statement", "pair", "array", "spread_element", "yield_expression"):
                return True
            if kind == "arrow_function" and parent.child_by_field_name("body") == item:
                return True
            if kind == "variable_declarator" and parent.child_by_field_name("value") == item:
                return True
            if kind == "assignment_expression" and parent.child_by_field_name("right") == item:
                return True
        return False

    @staticmethod
    def _throw_path(
        ctx: FileContext, node: Node, scope: Node, releases: list[Node], callback_style: bool
    ) -> Node | None:
        """An ``await`` between the acquisition and the first release, in the same function,
        that no try/catch releasing the resource covers."""
        if callback_style:
            return None
        first = min(releases, key=lambda r: r.start_byte)
        if ctx.innermost_function(first) != scope:
            return None
        for item in ctx.subtree(scope):
            if item.type != "await_expression":
                continue
            if item.start_byte <= node.start_byte or item.start_byte >= first.start_byte:
                continue
            if _within(node, item):
                continue
            if ctx.innermost_function(item) != scope:
                continue
            covered = False
            parent = item.parent
            while parent is not None and parent != scope:
                if parent.type == "try_statement" and _within(
                    item, parent.child_by_field_name("body")
                ):
                    handler = parent.child_by_field_name("handler")
                    if handler is not None:
                        if any(_within(r, handler) for r in releases):
                            covered = True
                            break
                        leaves = any(_within(e, handler) for e in ctx.exits)
                        if not leaves and first.start_byte >= parent.end_byte:
                            covered = True  # the catch swallows; the release runs after
                            break
                parent = parent.parent
            if not covered:
                return item
        return None

    @staticmethod
    def _early_exit(
        ctx: FileContext,
        node: Node,
        scope: Node,
        releases: list[Node],
        resource: str,
        callback_style: bool,
    ) -> Node | None:
        first_use: int | None = None
        if callback_style:
            body = scope.child_by_field_name("body")
            if body is not None:
                for item in ctx.subtree(body):
                    if item.type == "identifier" and text(item) == resource:
                        first_use = item.start_byte
                        break
        functions = set()
        for release in releases:
            holder = ctx.innermost_function(release)
            if holder is not None:
                functions.add(holder.id)
        last_release = max(r.start_byte for r in releases)
        after = scope.start_byte if callback_style else node.end_byte
        for exit_node in ctx.exits:
            if not _within(exit_node, scope) or exit_node.start_byte <= after:
                continue
            if exit_node.start_byte >= last_release:
                continue
            inner = ctx.innermost_function(exit_node)
            if inner is None or inner.id not in functions:
                continue
            if any(_within(r, exit_node) for r in releases):
                continue
            if inner == scope and first_use is not None and exit_node.start_byte < first_use:
                continue  # the error guard of the acquisition callback: nothing was acquired
            if _finally_covers(ctx, exit_node, scope):
                continue
            block = exit_node.parent
            while block is not None and block.type not in ("statement_block", "switch_case"):
                block = block.parent
            start = block.start_byte if block is not None else scope.start_byte
            if any(start <= r.start_byte < exit_node.start_byte for r in releases):
                continue
            # a release later in this function that the exit skips
            if not any(
                r.start_byte > exit_node.end_byte and ctx.innermost_function(r) == inner
                for r in releases
            ):
                continue
            return exit_node
        return None


class UnreleasedClientCall(UnreleasedConnection):
    """``mysql.createConnection()``, ``redis.createClient()``, ``knex(config)`` per request."""

    def check(self, ctx: FileContext) -> Iterator[RawFinding]:
        for call in ctx.calls:
            found = self._factory_call(ctx, call)
            if found is None or ctx.context(call, events=True) is None:
                continue
            package, what = found
            yield from self._judge(ctx, call, "client", package, what, call, None)


# -- 2. listener leak ---------------------------------------------------------------------------

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
                f"{reason.split(' (')[0]} adds a {shown} listener to {emitter}{_pkg(package)} "
                f"on every call and never removes it ({how})",
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


# -- 3 and 5. growing collections and hand-written caches --------------------------------------

GROW_METHODS = frozenset({"push", "unshift", "set", "add"})
SHRINK_METHODS = frozenset({"delete", "clear", "splice", "shift", "pop", "prune", "purge"})
CACHE_NAME = re.compile(r"cache|memo", re.I)


@dataclass(slots=True)
class _Collection:
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


class _CollectionScan:
    """Module-level collections with their growth, reads and shrinks (shared by the
    growing-collection and unbounded-cache rules)."""

    def __init__(self, ctx: FileContext) -> None:
        self.items: dict[str, _Collection] = {}
        for name, value in ctx.bindings.items():
            kind = _collection_kind(value)
            if kind is None or name in ctx.exported:
                continue
            self.items[name] = _Collection(name, kind, ctx.binding_nodes[name], [], [])
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

    def is_cache(self, ctx: FileContext, item: _Collection, grow: Node) -> bool:
        if CACHE_NAME.search(item.name):
            return True
        fn = ctx.innermost_function(grow)
        if fn is None:
            return False
        return any(_within(read, fn) for read in item.reads if read != item.decl)


def _collections(ctx: FileContext) -> _CollectionScan:
    cached = getattr(ctx, "_collection_scan", None)
    if cached is None:
        cached = _CollectionScan(ctx)
        ctx._collection_scan = cached  # type: ignore[attr-defined]
    return cached


class GrowingCollection(Rule):
    id = "growing-collection"
    cache_rule: ClassVar[bool] = False

    def check(self, ctx: FileContext) -> Iterator[RawFinding]:
        scan = _collections(ctx)
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

    def _finding(self, item: _Collection, grow: Node, reason: str) -> RawFinding:
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

    def _finding(self, item: _Collection, grow: Node, reason: str) -> RawFinding:
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


# -- 4. uncleared timers --------------------------------------------------------------------

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


RULE_CLASSES: tuple[Rule, ...] = (
    UnreleasedConnection(),
    UnreleasedClientCall(),
    ListenerLeak(),
    GrowingCollection(),
    UnclearedTimer(),
    UnboundedCache(),
)


def run_rules(ctx: FileContext) -> list[RawFinding]:
    seen: set[tuple[str, int, int]] = set()
    out: list[RawFinding] = []
    for rule in RULE_CLASSES:
        for finding in rule.check(ctx):
            key = (finding.rule, finding.line, finding.column)
            if key not in seen:
                seen.add(key)
                out.append(finding)
    out.sort(key=lambda f: (f.line, f.column, f.rule))
    return out
