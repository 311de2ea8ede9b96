"""Heap snapshots written the way V8 writes them, from a small graph given in Python."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

NODE_FIELDS = ["type", "name", "id", "self_size", "edge_count", "trace_node_id", "detachedness"]
NODE_TYPES = [
    "hidden", "array", "string", "object", "code", "closure", "regexp", "number", "native",
    "synthetic", "concatenated string", "sliced string", "symbol", "bigint", "object shape",
]  # fmt: skip
EDGE_TYPES = ["context", "element", "property", "internal", "hidden", "shortcut", "weak"]


@dataclass
class Graph:
    """Nodes as (type, name, id, size); edges as (from, type, name or index, to)."""

    nodes: list[tuple[str, str, int, int]] = field(default_factory=list)
    edges: list[tuple[int, str, str | int, int]] = field(default_factory=list)
    locations: list[tuple[int, int, int, int]] = field(
        default_factory=list
    )  # node, script, line, col

    def node(self, kind: str, name: str, size: int = 16, id: int | None = None) -> int:
        self.nodes.append((kind, name, id if id is not None else 2 * len(self.nodes) + 1, size))
        return len(self.nodes) - 1

    def edge(self, source: int, kind: str, name: str | int, target: int) -> None:
        self.edges.append((source, kind, name, target))


def write(graph: Graph, nf: int = len(NODE_FIELDS)) -> bytes:
    """The snapshot as bytes, one node and one edge a line, strings last."""
    strings: list[str] = [""]
    index: dict[str, int] = {"": 0}

    def sid(text: str) -> int:
        if text not in index:
            index[text] = len(strings)
            strings.append(text)
        return index[text]

    out_edges: list[list[tuple[int, str, str | int, int]]] = [[] for _ in graph.nodes]
    for e in graph.edges:
        out_edges[e[0]].append(e)
    fields = NODE_FIELDS[:nf]
    node_lines = []
    for n, (kind, name, ident, size) in enumerate(graph.nodes):
        row = [NODE_TYPES.index(kind), sid(name), ident, size, len(out_edges[n]), 0, 0][:nf]
        node_lines.append(",".join(map(str, row)))
    edge_lines = []
    for n in range(len(graph.nodes)):
        for _, kind, name, target in out_edges[n]:
            ref = name if isinstance(name, int) else sid(name)
            edge_lines.append(f"{EDGE_TYPES.index(kind)},{ref},{target * nf}")
    meta = {
        "node_fields": fields,
        "node_types": [NODE_TYPES, "string", "number", "number", "number", "number", "number"][:nf],
        "edge_fields": ["type", "name_or_index", "to_node"],
        "edge_types": [EDGE_TYPES, "string_or_number", "node"],
        "location_fields": ["object_index", "script_id", "line", "column"],
    }
    header = {
        "meta": meta,
        "node_count": len(graph.nodes),
        "edge_count": len(graph.edges),
        "trace_function_count": 0,
    }
    locations = [f"{n * nf},{s},{line},{col}" for n, s, line, col in graph.locations]
    parts = [
        '{"snapshot":' + json.dumps(header, separators=(",", ":")) + ",",
        '"nodes":[' + "\n,".join(node_lines) + "],",
        '"edges":[' + "\n,".join(edge_lines) + "],",
        '"trace_function_infos":[],',
        '"trace_tree":[],',
        '"samples":[],',
        '"locations":[' + "\n,".join(locations) + "],",
        '"strings":[' + "\n,".join(json.dumps(s) for s in strings) + "]}",
    ]
    return "\n".join(parts).encode("utf-8", "surrogatepass")


def app_graph(leaked: int, first_id: int = 1, script: str = "/srv/app/app.js") -> Graph:
    """A root, GC roots, a closure of ``script`` whose context holds an array ``items`` with
    ``leaked`` objects; ids from ``first_id``, the leaked objects' last."""
    g = Graph()
    ids = iter(range(first_id, first_id + 10_000_000, 2))
    root = g.node("synthetic", "", 0, next(ids))
    gc = g.node("synthetic", "(GC roots)", 0, next(ids))
    fn = g.node("closure", "handle", 64, next(ids))
    shared = g.node("code", "handle", 40, next(ids))
    src = g.node("code", script, 100, next(ids))
    ctx = g.node("object", "system / Context", 40, next(ids))
    arr = g.node("object", "Array", 32, next(ids))
    elements = g.node("array", "(object elements)", 16 + 8 * leaked, next(ids))
    g.edge(root, "element", 1, gc)
    g.edge(gc, "element", 1, fn)
    g.edge(fn, "internal", "shared", shared)
    g.edge(fn, "internal", "context", ctx)
    g.edge(shared, "internal", "script_or_debug_info", src)
    g.edge(ctx, "context", "items", arr)
    g.edge(arr, "internal", "elements", elements)
    g.locations.append((fn, 3, 9, 0))
    for k in range(leaked):
        obj = g.node("object", "Object", 56, next(ids))
        g.edge(elements, "element", k, obj)
    return g
