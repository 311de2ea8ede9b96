"""unreleased-connection: a pooled connection checked out per request and not released on
every path, or a new client / pool opened per request (``UnreleasedClientCall``)."""

from __future__ import annotations

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
from depaudit.code.rules.shared import RawFinding, Rule, finally_covers, package_note, within
from depaudit.js.parser import text

if TYPE_CHECKING:
    from tree_sitter import Node


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
                f"`{what}` gives a {noun}{package_note(package)} that is never released "
                f"(no {resource}.release()/end()/quit() in this function)",
                (acquired, "released: never"),
                package,
            )
            return
        if any(finally_covers(ctx, r, scope) for r in releases):
            return
        released = f"released: `{short(releases[0])}` (line {line(releases[0])})"
        leak = self._throw_path(ctx, node, scope, releases, callback_style)
        if leak is not None:
            yield RawFinding(
                self.id,
                line(node),
                column(node),
                f"the {noun} from `{what}`{package_note(package)} is released outside `finally`: "
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
                f"the {noun} from `{what}`{package_note(package)} is not released on every path: "
                f"`{short(early, 40)}` (line {line(early)}) leaves without releasing "
                f"`{resource}`",
                (acquired, released, f"missing path: `{short(early, 40)}`"),
                package,
            )

    @staticmethod
    def _declared_at_module(ctx: FileContext, name: str, scope: Node) -> bool:
        decl = ctx.binding_nodes.get(name)
        return decl is not None and not within(decl, scope)

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
            if within(node, item):
                continue
            if ctx.innermost_function(item) != scope:
                continue
            covered = False
            parent = item.parent
            while parent is not None and parent != scope:
                if parent.type == "try_statement" and within(
                    item, parent.child_by_field_name("body")
                ):
                    handler = parent.child_by_field_name("handler")
                    if handler is not None:
                        if any(within(r, handler) for r in releases):
                            covered = True
                            break
                        leaves = any(within(e, handler) for e in ctx.exits)
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
            if not within(exit_node, scope) or exit_node.start_byte <= after:
                continue
            if exit_node.start_byte >= last_release:
                continue
            inner = ctx.innermost_function(exit_node)
            if inner is None or inner.id not in functions:
                continue
            if any(within(r, exit_node) for r in releases):
                continue
            if inner == scope and first_use is not None and exit_node.start_byte < first_use:
                continue  # the error guard of the acquisition callback: nothing was acquired
            if finally_covers(ctx, exit_node, scope):
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
