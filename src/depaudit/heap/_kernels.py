"""Compiled loops over the flat arrays of a heap snapshot (numba, compiled on first use and
cached). Everything here is linear in the size of the graph, except the dominator fixpoint,
which is the iterative algorithm of Cooper, Harvey and Kennedy ("A Simple, Fast Dominance
Algorithm", 2001): linear per pass, and heap graphs settle in a few passes.

Arrays, as the rest of the package uses them: ``first[n]..first[n+1]`` are node ``n``'s edges;
``eto[e]`` is the node ordinal an edge points to; ``etype[e]`` its type code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np

F = TypeVar("F", bound=Callable[..., Any])

NO_NODE = -1


def _jit(fn: F) -> F:
    return cast(F, numba.njit(cache=True, nogil=True)(fn))


@_jit
def parse_ints(buf: Any, start: int, out: Any, pos: int, cur: int, inside: bool) -> Any:
    """Reads comma separated non-negative integers from ``buf[start:]`` into ``out[pos:]``.

    ``cur``/``inside`` carry a number cut by the end of the previous chunk. Stops at ``]``.
    Returns (index after the ``]`` or len(buf), pos, cur, inside, closed, bad) where bad is
    the index of a byte that has no place in an integer array (or -1); values above 2**32-1
    saturate, and numbers beyond ``out`` are counted but not stored.
    """
    n = buf.shape[0]
    cap = out.shape[0]
    i = start
    limit = 4294967295
    while i < n:
        c = buf[i]
        if 48 <= c <= 57:
            if cur <= limit:
                cur = cur * 10 + (c - 48)
            inside = True
        elif c == 44 or c == 10 or c == 13 or c == 32 or c == 9 or c == 93:
            if inside:
                if pos < cap:
                    out[pos] = cur if cur <= limit else limit
                pos += 1
                cur = 0
                inside = False
            if c == 93:
                return i + 1, pos, cur, inside, True, -1
        else:
            return i, pos, cur, inside, False, i
        i += 1
    return i, pos, cur, inside, False, -1


@_jit
def edge_offsets(edge_count: Any) -> Any:
    n = edge_count.shape[0]
    first = np.empty(n + 1, np.int64)
    total = 0
    for i in range(n):
        first[i] = total
        total += edge_count[i]
    first[n] = total
    return first


@_jit
def follow(first: Any, etype: Any, ename: Any, eto: Any, node: int, kind: int, name: int) -> int:
    """The node the first edge of ``node`` with this type code and name string points to."""
    if node < 0 or name < 0:
        return -1
    for e in range(first[node], first[node + 1]):
        if etype[e] == kind and ename[e] == name:
            return int(eto[e])
    return -1


@_jit
def bfs_tree(first: Any, etype: Any, eto: Any, weak: int, root: int) -> Any:
    """Breadth-first tree from ``root`` over every edge but weak ones: the shortest retainer
    path of each node (``parent``, ``parent_edge``) and the order nodes were reached."""
    n = first.shape[0] - 1
    parent = np.full(n, -1, np.int32)
    parent_edge = np.full(n, -1, np.int32)
    order = np.empty(n, np.int32)
    seen = np.zeros(n, np.bool_)
    seen[root] = True
    order[0] = root
    head = 0
    tail = 1
    while head < tail:
        v = order[head]
        head += 1
        for e in range(first[v], first[v + 1]):
            if etype[e] == weak:
                continue
            w = eto[e]
            if not seen[w]:
                seen[w] = True
                parent[w] = v
                parent_edge[w] = e
                order[tail] = w
                tail += 1
    return parent, parent_edge, order[:tail].copy()


@_jit
def postorder(first: Any, etype: Any, eto: Any, weak: int, root: int) -> Any:
    """Depth-first postorder from ``root`` over non-weak edges (iterative)."""
    n = first.shape[0] - 1
    post = np.empty(n, np.int32)
    seen = np.zeros(n, np.bool_)
    stack_node = np.empty(n, np.int32)
    stack_edge = np.empty(n, np.int64)
    top = 0
    stack_node[0] = root
    stack_edge[0] = first[root]
    seen[root] = True
    count = 0
    while top >= 0:
        v = stack_node[top]
        e = stack_edge[top]
        end = first[v + 1]
        pushed = False
        while e < end:
            w = eto[e]
            e += 1
            if etype[e - 1] != weak and not seen[w]:
                seen[w] = True
                stack_edge[top] = e
                top += 1
                stack_node[top] = w
                stack_edge[top] = first[w]
                pushed = True
                break
        if not pushed:
            post[count] = v
            count += 1
            top -= 1
    return post[:count].copy()


@_jit
def dominators(first: Any, etype: Any, eto: Any, weak: int, post: Any) -> Any:
    """Immediate dominator of each reachable node (the root's is itself; unreachable: -1),
    by Cooper-Harvey-Kennedy over the predecessor lists, in reverse postorder."""
    n = first.shape[0] - 1
    m = post.shape[0]
    root = post[m - 1]
    rank = np.full(n, -1, np.int32)  # postorder number
    for i in range(m):
        rank[post[i]] = i
    # predecessors (reachable, non-weak edges) as a compressed array
    pcount = np.zeros(n + 1, np.int64)
    for v in range(n):
        if rank[v] < 0:
            continue
        for e in range(first[v], first[v + 1]):
            if etype[e] != weak:
                pcount[eto[e] + 1] += 1
    for v in range(n):
        pcount[v + 1] += pcount[v]
    preds = np.empty(pcount[n], np.int32)
    fill = pcount[:n].copy()
    for v in range(n):
        if rank[v] < 0:
            continue
        for e in range(first[v], first[v + 1]):
            if etype[e] != weak:
                w = eto[e]
                preds[fill[w]] = v
                fill[w] += 1
    # idom in postorder numbers
    idom = np.full(m, -1, np.int32)
    idom[m - 1] = m - 1
    changed = True
    while changed:
        changed = False
        for k in range(m - 2, -1, -1):
            b = post[k]
            new = -1
            for j in range(pcount[b], pcount[b + 1]):
                p = rank[preds[j]]
                if idom[p] < 0:
                    continue
                if new < 0:
                    new = p
                else:
                    a = p
                    c = new
                    while a != c:
                        while a < c:
                            a = idom[a]
                        while c < a:
                            c = idom[c]
                    new = a
            if new >= 0 and idom[k] != new:
                idom[k] = new
                changed = True
    result = np.full(n, -1, np.int32)
    for k in range(m):
        result[post[k]] = post[idom[k]]
    result[root] = root
    return result


@_jit
def retained_sizes(post: Any, idom: Any, size: Any) -> Any:
    """Retained size of every node: its own size and that of all it dominates."""
    n = idom.shape[0]
    retained = np.zeros(n, np.int64)
    for i in range(post.shape[0]):
        v = post[i]
        retained[v] += size[v]
        d = idom[v]
        if d != v and d >= 0:
            retained[d] += retained[v]
    return retained


@_jit
def own_scripts(
    first: Any,
    etype: Any,
    ename: Any,
    eto: Any,
    ntype: Any,
    closure_type: int,
    object_type: int,
    internal: int,
    context_kind: int,
    s_shared: int,
    s_script: int,
    s_map: int,
    s_constructor: int,
    s_context: int,
) -> Any:
    """The script node behind each node that is code of a script: a closure (closure →
    shared function info → script), an object made by a constructor of a script (map →
    constructor), a context that closures of a script close over. Also the closure that
    stands for it (for its source location). -1 where there is none."""
    n = ntype.shape[0]
    script = np.full(n, -1, np.int32)
    via = np.full(n, -1, np.int32)
    for v in range(n):
        if ntype[v] == closure_type:
            sfi = follow(first, etype, ename, eto, v, internal, s_shared)
            s = follow(first, etype, ename, eto, sfi, internal, s_script)
            if s >= 0:
                script[v] = s
                via[v] = v
    for v in range(n):
        if ntype[v] == closure_type and script[v] >= 0:
            ctx = follow(first, etype, ename, eto, v, internal, s_context)
            if ctx >= 0 and script[ctx] < 0 and ntype[ctx] != closure_type:
                script[ctx] = script[v]
                via[ctx] = v
    for v in range(n):
        if ntype[v] == object_type and script[v] < 0:
            mp = follow(first, etype, ename, eto, v, internal, s_map)
            c = follow(first, etype, ename, eto, mp, internal, s_constructor)
            if c >= 0 and ntype[c] == closure_type and script[c] >= 0:
                script[v] = script[c]
                via[v] = c
    return script, via


@_jit
def propagate_owner(order: Any, parent: Any, script: Any, transparent: Any) -> Any:
    """Owner of each node: the nearest node on its shortest retainer path (itself included)
    that is code of a script; scripts marked ``transparent`` (node core) own only when
    nothing above them does. Returns the owning node (-1: none)."""
    n = parent.shape[0]
    owner = np.full(n, -1, np.int32)
    for i in range(order.shape[0]):
        v = order[i]
        p = parent[v]
        above = owner[p] if p >= 0 else -1
        s = script[v]
        if s >= 0 and not transparent[s]:
            owner[v] = v
        elif above >= 0 and not transparent[script[above]]:
            owner[v] = above
        elif s >= 0:
            owner[v] = v
        else:
            owner[v] = above
    return owner


@_jit
def owner_edges(order: Any, parent: Any, parent_edge: Any, owner: Any) -> Any:
    """For each node, the edge that leaves its owner on the way to it (-1 for the owner
    itself): for an owner that is a context, the name of the variable that holds it."""
    n = parent.shape[0]
    out = np.full(n, -1, np.int32)
    for i in range(order.shape[0]):
        v = order[i]
        p = parent[v]
        if p < 0 or owner[v] == v or owner[v] < 0:
            continue
        if owner[p] == owner[v] and p != owner[v]:
            out[v] = out[p]
        else:
            out[v] = parent_edge[v]
    return out
