"""What the rules need to know about one file, computed once: its imports (local name ->
package), its module-level bindings, its functions, and which functions run per request,
per connection or per event.

Per-request code is found in the file itself:

* route handlers and middleware registered on express/koa/fastify/hapi-style routers
  (``app.get('/path', fn)``, ``router.use(fn)``, ``fastify.route({handler})``,
  ``server.route({handler})``, ``addHook('onRequest', fn)``);
* connection and request handlers (``io.on('connection', fn)``, ``wss.on('connection', fn)``,
  ``server.on('request', fn)``, ``http.createServer(fn)``);
* functions whose parameters say they are handlers: ``(req, res)``, ``(req, res, next)``,
  ``(err, req, res, next)``, ``(ctx, next)``, ``(request, reply)``, ``(request, h)``;
* every function nested in one of those, and every function of the same file called (or
  passed by name) from one of them, transitively.

What is not seen: a handler registered in another file whose parameters have other names, and
a helper in another module called from a handler (the rules never follow imports).

Why this module is over ~400 lines: it is the one per-file phase every rule reads (imports,
bindings, functions, per-request reachability); the rules themselves are in :mod:`.rules`.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from depaudit.js.parser import Grammar, parse, string_value, text
from depaudit.js.specifiers import split_package

if TYPE_CHECKING:
    from tree_sitter import Node, Query

FUNCTION_TYPES = frozenset(
    {
        "function_declaration",
        "function_expression",
        "arrow_function",
        "method_definition",
        "generator_function",
        "generator_function_declaration",
    }
)
WRAPPERS = frozenset(
    {
        "await_expression",
        "parenthesized_expression",
        "as_expression",
        "non_null_expression",
        "satisfies_expression",
        "type_assertion",
    }
)
HTTP_VERBS = frozenset(
    {"get", "post", "put", "delete", "del", "patch", "all", "head", "options", "any"}
)
ROUTER_NAMES = frozenset({"app", "router", "server", "api", "routes", "route", "r", "fastify"})
#: packages whose objects register per-request middleware with .use(fn)
FRAMEWORKS = frozenset(
    {
        "express",
        "koa",
        "@koa/router",
        "koa-router",
        "connect",
        "fastify",
        "restify",
        "@hapi/hapi",
        "hapi",
        "polka",
        "socket.io",
        "router",
        "express-promise-router",
        "hono",
    }
)
#: events that fire once per connection or request on a server
CONNECTION_EVENTS = frozenset({"connection", "request", "upgrade", "secureConnection", "stream"})
#: events that fire once (or once per process): their listeners are not per-event code
ONE_SHOT_EVENTS = frozenset(
    {
        "listening",
        "ready",
        "close",
        "exit",
        "beforeExit",
        "end",
        "finish",
        "open",
        "SIGINT",
        "SIGTERM",
        "SIGHUP",
        "SIGUSR2",
        "uncaughtException",
        "unhandledRejection",
        "warning",
        "error",
        "disconnect",
        "online",
    }
)
FASTIFY_HOOKS = frozenset(
    {
        "onRequest",
        "preParsing",
        "preValidation",
        "preHandler",
        "preSerialization",
        "onSend",
        "onResponse",
        "onError",
        "onTimeout",
        "onRequestAbort",
    }
)
HAPI_EXTENSIONS = frozenset(
    {"onRequest", "onPreAuth", "onCredentials", "onPostAuth", "onPreHandler", "onPostHandler"}
)
HANDLER_SIGNATURES: tuple[tuple[str, ...], ...] = (
    ("req", "res"),
    ("request", "response"),
    ("request", "reply"),
    ("request", "h"),
    ("ctx", "next"),
    ("err", "req", "res"),
    ("error", "req", "res"),
)

_QUERY_SOURCE = """
(call_expression) @call
(new_expression) @new
(assignment_expression) @assign
(unary_expression) @unary
(return_statement) @exit
(throw_statement) @exit
(function_declaration) @func
(function_expression) @func
(arrow_function) @func
(method_definition) @func
(generator_function) @func
(generator_function_declaration) @func
"""
_queries: dict[Grammar, Query] = {}
_query_lock = threading.Lock()


def _query(grammar: Grammar) -> Query:
    with _query_lock:
        query = _queries.get(grammar)
        if query is None:
            from tree_sitter import Query

            from depaudit.js.parser import language

            query = Query(language(grammar), _QUERY_SOURCE)
            _queries[grammar] = query
        return query


def package_name(specifier: str) -> str | None:
    """``lodash/fp`` -> ``lodash``, ``@scope/x/y`` -> ``@scope/x``, ``node:events`` ->
    ``events``; None for relative or absolute paths."""
    spec = specifier.strip()
    if spec.startswith("node:"):
        spec = spec[5:]
    if spec.startswith("/") or "\\" in spec:
        return None
    split = split_package(spec)
    return split[0] if split is not None else None


def unwrap(node: Node) -> Node:
    while node.type in WRAPPERS and node.named_child_count:
        inner = node.named_children[-1] if node.type == "await_expression" else None
        if inner is None:
            inner = node.named_children[0]
        node = inner
    return node


_memo = threading.local()


def _memos() -> tuple[dict[int, tuple[Node | None, str | None]], dict[int, list[Node]]]:
    """Per-thread memos of callee_parts and call_args for the file being analysed (node ids
    are unique within one tree; FileContext clears them for each file)."""
    memos = getattr(_memo, "tables", None)
    if memos is None:
        memos = ({}, {})
        _memo.tables = memos
    return memos


def callee_parts(call: Node) -> tuple[Node | None, str | None]:
    """For ``a.b.c(...)``: (the node ``a.b``, ``c``); for ``f(...)``: (None, ``f``)."""
    table = _memos()[0]
    found = table.get(call.id)
    if found is None:
        found = _callee_parts(call)
        table[call.id] = found
    return found


def _callee_parts(call: Node) -> tuple[Node | None, str | None]:
    fn = call.child_by_field_name("function")
    if fn is None:
        return None, None
    fn = unwrap(fn)
    if fn.type == "member_expression":
        prop = fn.child_by_field_name("property")
        return fn.child_by_field_name("object"), text(prop) if prop is not None else None
    if fn.type == "identifier":
        return None, text(fn)
    return None, None


def call_args(call: Node) -> list[Node]:
    table = _memos()[1]
    found = table.get(call.id)
    if found is None:
        found = _call_args(call)
        table[call.id] = found
    return found


def _call_args(call: Node) -> list[Node]:
    args = call.child_by_field_name("arguments")
    if args is None or args.type != "arguments":
        return []
    return [a for a in args.named_children if a.type != "comment"]


def root_name(node: Node | None) -> str | None:
    """The identifier an expression hangs from: ``a`` for ``a.b[c].d()``; ``this``."""
    while node is not None:
        node = unwrap(node)
        if node.type in ("identifier", "this"):
            return text(node)
        if node.type in ("member_expression", "subscript_expression"):
            node = node.child_by_field_name("object")
        elif node.type == "call_expression":
            node = node.child_by_field_name("function")
        else:
            return None
    return None


def params(fn: Node) -> list[str]:
    node = fn.child_by_field_name("parameters")
    if node is None:
        single = fn.child_by_field_name("parameter")
        return [text(single)] if single is not None else []
    names: list[str] = []
    for child in node.named_children:
        inner = child
        if inner.type in ("required_parameter", "optional_parameter"):
            pattern = inner.child_by_field_name("pattern")
            inner = pattern if pattern is not None else inner
        if inner.type == "assignment_pattern":
            left = inner.child_by_field_name("left")
            inner = left if left is not None else inner
        names.append(text(inner) if inner.type == "identifier" else "")
    return names


def function_name(fn: Node) -> str | None:
    name = fn.child_by_field_name("name")
    if name is not None:
        return text(name)
    parent = fn.parent
    if parent is not None and parent.type == "variable_declarator":
        left = parent.child_by_field_name("name")
        if left is not None and left.type == "identifier":
            return text(left)
    if parent is not None and parent.type == "pair":
        key = parent.child_by_field_name("key")
        return text(key) if key is not None else None
    return None


def line(node: Node) -> int:
    return node.start_point[0] + 1


def column(node: Node) -> int:
    return node.start_point[1] + 1


def short(node: Node, limit: int = 60) -> str:
    value = " ".join(text(node).split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def is_comparison(node: Node) -> bool:
    operator = node.child_by_field_name("operator")
    return (
        node.type == "binary_expression"
        and operator is not None
        and text(operator)
        in (
            "<",
            "<=",
            ">",
            ">=",
            "===",
            "==",
            "!==",
            "!=",
        )
    )


class FileContext:
    """Everything the rules read, computed once per file."""

    def __init__(self, source: bytes, grammar: Grammar) -> None:
        from tree_sitter import QueryCursor

        for table in _memos():
            table.clear()
        self.source = source
        self.tree = parse(source, grammar)
        self.root = self.tree.root_node
        captures = QueryCursor(_query(grammar)).captures(self.root)

        def ordered(name: str) -> list[Node]:
            return sorted(captures.get(name, []), key=lambda n: n.start_byte)

        self.calls = ordered("call")
        self.call_starts = [c.start_byte for c in self.calls]
        self.news = ordered("new")
        self.assigns = ordered("assign")
        self.unaries = ordered("unary")
        self.exits = ordered("exit")
        self.functions = ordered("func")
        self.functions_by_name: dict[str, list[Node]] = {}
        for fn in self.functions:
            name = function_name(fn)
            if name:
                self.functions_by_name.setdefault(name, []).append(fn)
        self.imports: dict[str, tuple[str, str | None]] = {}  # local -> (package, imported)
        self.bindings: dict[str, Node | None] = {}  # module-level name -> value (or None)
        self.binding_nodes: dict[str, Node] = {}  # module-level name -> its declarator
        self.exported: set[str] = set()
        self._read_module_level()
        self.request_reason: dict[int, str] = {}
        self.event_reason: dict[int, str] = {}
        self._mark_handlers()

    # -- module level ------------------------------------------------------------------------
    def _statements(self) -> Iterator[Node]:
        for child in self.root.named_children:
            if child.type == "export_statement":
                declaration = child.child_by_field_name("declaration")
                if declaration is not None:
                    yield declaration
                    for name in self._declared_names(declaration):
                        self.exported.add(name)
                else:
                    for spec in child.named_children:
                        if spec.type == "export_clause":
                            for item in spec.named_children:
                                exported = item.child_by_field_name("name")
                                if exported is not None:
                                    self.exported.add(text(exported))
                        elif spec.type == "identifier":
                            self.exported.add(text(spec))
                continue
            yield child

    @staticmethod
    def _declared_names(node: Node) -> list[str]:
        if node.type in ("lexical_declaration", "variable_declaration"):
            out = []
            for decl in node.named_children:
                name = decl.child_by_field_name("name")
                if decl.type == "variable_declarator" and name is not None:
                    out.append(text(name))
            return out
        name = node.child_by_field_name("name")
        return [text(name)] if name is not None else []

    def _read_module_level(self) -> None:
        for statement in self._statements():
            kind = statement.type
            if kind == "import_statement":
                self._read_import(statement)
            elif kind in ("lexical_declaration", "variable_declaration"):
                for decl in statement.named_children:
                    if decl.type == "variable_declarator":
                        self._read_declarator(decl)
            elif kind in (
                "function_declaration",
                "class_declaration",
                "generator_function_declaration",
            ):
                name = statement.child_by_field_name("name")
                if name is not None:
                    self.bindings[text(name)] = statement
                    self.binding_nodes[text(name)] = statement
            elif kind == "expression_statement" and statement.named_child_count:
                expr = statement.named_children[0]
                if expr.type == "assignment_expression":
                    self._read_export_assignment(expr)

    def _read_import(self, statement: Node) -> None:
        source = statement.child_by_field_name("source")
        value = string_value(source) if source is not None else None
        package = package_name(value) if value else None
        if package is None:
            return
        for clause in statement.named_children:
            if clause.type != "import_clause":
                continue
            for part in clause.named_children:
                if part.type == "identifier":
                    self.imports[text(part)] = (package, None)
                elif part.type == "namespace_import":
                    for ident in part.named_children:
                        if ident.type == "identifier":
                            self.imports[text(ident)] = (package, None)
                elif part.type == "named_imports":
                    for spec in part.named_children:
                        if spec.type != "import_specifier":
                            continue
                        name = spec.child_by_field_name("name")
                        alias = spec.child_by_field_name("alias") or name
                        if name is not None and alias is not None:
                            self.imports[text(alias)] = (package, text(name))

    def required_package(self, node: Node | None) -> str | None:
        """The package of ``require('x')``, ``require('x').y``, ``require('x')(...)``."""
        while node is not None:
            node = unwrap(node)
            if node.type == "call_expression":
                fn = node.child_by_field_name("function")
                if fn is not None and fn.type == "identifier" and text(fn) == "require":
                    args = call_args(node)
                    value = string_value(args[0]) if args else None
                    return package_name(value) if value else None
                node = fn
            elif node.type == "member_expression":
                node = node.child_by_field_name("object")
            else:
                return None
        return None

    def _read_declarator(self, decl: Node) -> None:
        name = decl.child_by_field_name("name")
        value = decl.child_by_field_name("value")
        if name is None:
            return
        package = self.required_package(value) if value is not None else None
        if name.type == "identifier":
            self.bindings[text(name)] = value
            self.binding_nodes[text(name)] = decl
            if package is not None:
                member = None
                if value is not None and unwrap(value).type == "member_expression":
                    prop = unwrap(value).child_by_field_name("property")
                    member = text(prop) if prop is not None else None
                self.imports[text(name)] = (package, member)
        elif name.type == "object_pattern":
            for part in name.named_children:
                local = imported = None
                if part.type == "shorthand_property_identifier_pattern":
                    local = imported = text(part)
                elif part.type == "pair_pattern":
                    key = part.child_by_field_name("key")
                    val = part.child_by_field_name("value")
                    if key is not None and val is not None and val.type == "identifier":
                        local, imported = text(val), text(key)
                if local is None:
                    continue
                self.bindings[local] = None
                self.binding_nodes[local] = decl
                if package is not None:
                    self.imports[local] = (package, imported)

    def _read_export_assignment(self, expr: Node) -> None:
        left = expr.child_by_field_name("left")
        right = expr.child_by_field_name("right")
        if left is None or right is None:
            return
        target = text(left)
        if not (target.startswith("module.exports") or target.startswith("exports.")):
            return
        right = unwrap(right)
        if right.type == "identifier":
            self.exported.add(text(right))
        elif right.type == "object":
            for prop in right.named_children:
                if prop.type == "shorthand_property_identifier":
                    self.exported.add(text(prop))
                elif prop.type == "pair":
                    value = prop.child_by_field_name("value")
                    if value is not None and value.type == "identifier":
                        self.exported.add(text(value))

    # -- where does a value come from --------------------------------------------------------
    def origin(self, node: Node | None, depth: int = 0) -> str | None:
        """The package an expression's value comes from, following module-level bindings."""
        if node is None or depth > 6:
            return None
        node = unwrap(node)
        package = self.required_package(node)
        if package is not None:
            return package
        if node.type == "call_expression":
            return self.origin(node.child_by_field_name("function"), depth + 1)
        if node.type == "new_expression":
            return self.origin(node.child_by_field_name("constructor"), depth + 1)
        if node.type in ("member_expression", "subscript_expression"):
            return self.origin(node.child_by_field_name("object"), depth + 1)
        if node.type == "identifier":
            name = text(node)
            if name in self.imports:
                return self.imports[name][0]
            value = self.bindings.get(name)
            if value is not None and value.type not in FUNCTION_TYPES:
                return self.origin(value, depth + 1)
        return None

    def imported_name(self, node: Node) -> tuple[str | None, str | None]:
        """(package, the name used from it) for a callee or constructor: ``new pg.Client``
        and ``new Client`` (from ``{ Client } = require('pg')``) are both ('pg', 'Client')."""
        node = unwrap(node)
        if node.type == "identifier":
            name = text(node)
            if name in self.imports:
                package, imported = self.imports[name]
                return package, imported or name
            return self.origin(node), name
        if node.type == "member_expression":
            prop = node.child_by_field_name("property")
            return self.origin(node.child_by_field_name("object")), (
                text(prop) if prop is not None else None
            )
        return self.origin(node), None

    def is_module_binding(self, name: str | None) -> bool:
        return name is not None and (name in self.bindings or name in self.imports)

    # -- functions and contexts --------------------------------------------------------------
    def enclosing_functions(self, node: Node) -> list[Node]:
        out = []
        parent = node.parent
        while parent is not None:
            if parent.type in FUNCTION_TYPES:
                out.append(parent)
            parent = parent.parent
        return out

    def innermost_function(self, node: Node) -> Node | None:
        parent = node.parent
        while parent is not None:
            if parent.type in FUNCTION_TYPES:
                return parent
            parent = parent.parent
        return None

    def calls_within(self, node: Node) -> list[Node]:
        lo = bisect.bisect_left(self.call_starts, node.start_byte)
        hi = bisect.bisect_left(self.call_starts, node.end_byte)
        return [c for c in self.calls[lo:hi] if c.end_byte <= node.end_byte]

    def context(self, node: Node, *, events: bool = False) -> tuple[str, Node] | None:
        """(reason, handler) when ``node`` runs per request or connection (or, with
        ``events``, per event): the innermost such function and why it is one."""
        for fn in self.enclosing_functions(node):
            reason = self.request_reason.get(fn.id)
            if reason is not None:
                return reason, fn
            if events:
                reason = self.event_reason.get(fn.id)
                if reason is not None:
                    return reason, fn
        return None

    def _mark(self, fn: Node, reason: str, table: dict[int, str] | None = None) -> bool:
        table = self.request_reason if table is None else table
        if fn.id in table:
            return False
        table[fn.id] = reason
        return True

    def _mark_arg(self, arg: Node, reason: str, table: dict[int, str] | None = None) -> None:
        arg = unwrap(arg)
        if arg.type in FUNCTION_TYPES:
            self._mark(arg, reason, table)
        elif arg.type == "identifier":
            for fn in self.functions_by_name.get(text(arg), []):
                self._mark(fn, f"{text(arg)}(), {reason}", table)
        elif arg.type == "call_expression":  # wrap(handler), asyncHandler(async (req, res) =>)
            for inner in call_args(arg):
                self._mark_arg(inner, reason, table)
        elif arg.type == "array":
            for inner in arg.named_children:
                self._mark_arg(inner, reason, table)

    @staticmethod
    def _path_of(node: Node) -> str | None:
        node = unwrap(node)
        if node.type in ("string", "template_string"):
            value = string_value(node) if node.type == "string" else text(node)[1:-1]
            if value is not None and (value.startswith("/") or value in ("*", "")):
                return value or "/"
        if node.type == "regex":
            return text(node)
        if node.type == "array" and node.named_child_count:
            return FileContext._path_of(node.named_children[0])
        return None

    def _is_router(self, receiver: Node | None) -> bool:
        if receiver is None:
            return False
        name = root_name(receiver)
        if name in ROUTER_NAMES:
            return True
        return self.origin(receiver) in FRAMEWORKS

    def _mark_handlers(self) -> None:
        for call in self.calls:
            receiver, method = callee_parts(call)
            if method is None:
                continue
            args = call_args(call)
            where = f"line {line(call)}"
            if method in HTTP_VERBS or method == "use":
                path = self._path_of(args[0]) if args else None
                if path is None and receiver is not None:
                    inner = unwrap(receiver)
                    if inner.type == "call_expression" and callee_parts(inner)[1] == "route":
                        route_args = call_args(inner)
                        path = self._path_of(route_args[0]) if route_args else None
                if path is not None and len(args) >= (
                    1 if receiver is not None and unwrap(receiver).type == "call_expression" else 2
                ):
                    verb = "middleware" if method == "use" else method.upper()
                    reason = f"the {verb} {path} handler ({where})"
                    for arg in args[1:] if self._path_of(args[0]) is not None else args:
                        self._mark_arg(arg, reason)
                elif method == "use" and args and self._is_router(receiver):
                    for arg in args:
                        self._mark_arg(arg, f"middleware registered with .use ({where})")
            elif method == "route" and args:
                for obj in args[0].named_children if args[0].type == "array" else [args[0]]:
                    self._mark_route_object(obj, where)
            elif method == "addHook" and len(args) >= 2:
                hook = string_value(args[0])
                if hook in FASTIFY_HOOKS:
                    self._mark_arg(args[1], f"the {hook} hook ({where})")
            elif method == "ext" and len(args) >= 2:
                ext = string_value(args[0])
                if ext in HAPI_EXTENSIONS:
                    self._mark_arg(args[1], f"the {ext} extension ({where})")
            elif method in ("on", "addListener", "prependListener") and len(args) >= 2:
                event = string_value(args[0])
                target = short(receiver, 30) if receiver is not None else "?"
                if event in CONNECTION_EVENTS:
                    self._mark_arg(args[1], f"the '{event}' handler of {target} ({where})")
                elif event is not None and event not in ONE_SHOT_EVENTS:
                    self._mark_arg(
                        args[1], f"the '{event}' listener on {target} ({where})", self.event_reason
                    )
            elif method == "createServer" and args:
                for arg in args:
                    if unwrap(arg).type in FUNCTION_TYPES or unwrap(arg).type == "identifier":
                        self._mark_arg(arg, f"the request handler of createServer ({where})")
            elif method in ("setInterval",) and args and receiver is None:
                self._mark_arg(args[0], f"the setInterval callback ({where})", self.event_reason)
        for fn in self.functions:
            names = params(fn)
            for signature in HANDLER_SIGNATURES:
                if tuple(names[: len(signature)]) == signature:
                    label = function_name(fn) or "function"
                    self._mark(
                        fn,
                        f"{label}({', '.join(n for n in names if n)}), a request handler by "
                        f"its parameters (line {line(fn)})",
                    )
                    break
        self._propagate()

    def _mark_route_object(self, obj: Node, where: str) -> None:
        if obj.type != "object":
            return
        keys: dict[str, Node] = {}
        for pair in obj.named_children:
            if pair.type == "pair":
                key = pair.child_by_field_name("key")
                value = pair.child_by_field_name("value")
                if key is not None and value is not None:
                    keys[text(key).strip("'\"")] = value
            elif pair.type == "method_definition":
                name = pair.child_by_field_name("name")
                if name is not None:
                    keys[text(name)] = pair
        path_node = keys.get("path") or keys.get("url")
        path = self._path_of(path_node) if path_node is not None else None
        if path is None:
            return
        method = keys.get("method")
        verb = (string_value(method) or "ROUTE").upper() if method is not None else "ROUTE"
        reason = f"the {verb} {path} handler ({where})"
        for hook in ("handler", "preHandler", "onRequest", "preValidation", "onSend"):
            if hook in keys:
                self._mark_arg(keys[hook], reason)
        for holder in ("options", "config"):
            inner = keys.get(holder)
            if inner is not None and inner.type == "object":
                for pair in inner.named_children:
                    k = pair.child_by_field_name("key") if pair.type == "pair" else None
                    if k is not None and text(k) in ("handler", "pre"):
                        value = pair.child_by_field_name("value")
                        if value is not None:
                            self._mark_arg(value, reason)

    def _propagate(self) -> None:
        """Functions of this file called (or passed by name) from per-request code are
        per-request too, transitively."""
        changed = True
        while changed:
            changed = False
            for call in self.calls:
                receiver, name = callee_parts(call)
                targets: list[str] = []
                if receiver is None and name in self.functions_by_name:
                    targets.append(name)
                targets.extend(
                    text(arg)
                    for arg in call_args(call)
                    if arg.type == "identifier" and text(arg) in self.functions_by_name
                )
                if not targets:
                    continue
                found = self.context(call)
                if found is None:
                    continue
                reason, _ = found
                for target in targets:
                    for fn in self.functions_by_name[target]:
                        if fn.id in self.request_reason:
                            continue
                        if any(f.id == fn.id for f in self.enclosing_functions(call)):
                            continue  # recursion
                        base = reason.split(", called from ")[-1]
                        self.request_reason[fn.id] = (
                            f"{target}(), called from {base.split(', ', 1)[-1]}"
                            if "(), " in base
                            else f"{target}(), called from {base}"
                        )
                        changed = True

    # -- small queries the rules share -------------------------------------------------------
    def subtree(self, node: Node) -> Iterator[Node]:
        cursor = node.walk()
        visited_children = False
        while True:
            if not visited_children:
                yield cursor.node  # type: ignore[misc]
                if cursor.goto_first_child():
                    continue
            if cursor.goto_next_sibling():
                visited_children = False
                continue
            if not cursor.goto_parent():
                return
            if cursor.node == node:
                return
            visited_children = True


IGNORE_COMMENT = re.compile(rb"//\s*depaudit-ignore-next-line\s+([a-z-]+)(?:[ \t]+(\S[^\r\n]*))?")


def suppressions(source: bytes) -> dict[int, set[str]]:
    """Line (1-based) of the code each ``// depaudit-ignore-next-line RULE reason`` covers,
    to the rules it suppresses there."""
    if b"depaudit-ignore" not in source:
        return {}
    out: dict[int, set[str]] = {}
    for number, raw in enumerate(source.split(b"\n"), start=1):
        match = IGNORE_COMMENT.search(raw)
        if match:
            out.setdefault(number + 1, set()).add(match.group(1).decode("ascii"))
    return out
