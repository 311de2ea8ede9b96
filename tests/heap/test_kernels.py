"""The compiled graph loops against plain definitions on small random graphs."""

from __future__ import annotations

from collections import deque

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from depaudit.heap import _kernels

WEAK = 6


def _arrays(n: int, edges: list[tuple[int, int, bool]]):  # type: ignore[no-untyped-def]
    edges = sorted(edges, key=lambda e: e[0])
    counts = np.zeros(n, np.uint32)
    for source, _, _ in edges:
        counts[source] += 1
    first = _kernels.edge_offsets(counts)
    etype = np.array([WEAK if weak else 2 for _, _, weak in edges], np.uint32)
    eto = np.array([target for _, target, _ in edges], np.uint32)
    return first, etype, eto, edges


def _reachable(n: int, edges, removed: int = -1) -> set[int]:  # type: ignore[no-untyped-def]
    seen = {0} if removed != 0 else set()
    todo = deque(seen)
    while todo:
        v = todo.popleft()
        for source, target, weak in edges:
            if source == v and not weak and target != removed and target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


random_graphs = st.integers(min_value=1, max_value=14).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.booleans()),
            max_size=4 * n,
        ),
    )
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph=random_graphs)
def test_dominators_and_retained_sizes_match_their_definition(graph) -> None:  # type: ignore[no-untyped-def]
    n, raw = graph
    first, etype, eto, edges = _arrays(n, raw)
    post = _kernels.postorder(first, etype, eto, WEAK, 0)
    idom = _kernels.dominators(first, etype, eto, WEAK, post)
    reach = _reachable(n, edges)
    assert set(post.tolist()) == reach
    # d dominates v  <=>  v is unreachable once d is removed
    dominators = {v: {d for d in reach if v not in _reachable(n, edges, d)} for v in reach}
    for v in reach:
        if v == 0:
            assert idom[v] == 0
            continue
        strict = dominators[v] - {v}
        # the immediate dominator is the strict dominator every other one dominates
        expected = next(d for d in strict if all(o in dominators[d] for o in strict))
        assert idom[v] == expected
    for v in range(n):
        if v not in reach:
            assert idom[v] == -1
    sizes = np.arange(1, n + 1, dtype=np.uint32) * 10
    retained = _kernels.retained_sizes(post, idom, sizes)
    for v in reach:
        held = {w for w in reach if v in dominators[w]}
        assert retained[v] == sum(int(sizes[w]) for w in held)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph=random_graphs)
def test_the_bfs_tree_gives_shortest_retainer_paths(graph) -> None:  # type: ignore[no-untyped-def]
    n, raw = graph
    first, etype, eto, edges = _arrays(n, raw)
    parent, parent_edge, order = _kernels.bfs_tree(first, etype, eto, WEAK, 0)
    distance = {0: 0}
    todo = deque([0])
    while todo:
        v = todo.popleft()
        for source, target, weak in edges:
            if source == v and not weak and target not in distance:
                distance[target] = distance[v] + 1
                todo.append(target)
    assert set(order.tolist()) == set(distance)
    for v, d in distance.items():
        hops = 0
        w = v
        while parent[w] >= 0:
            assert eto[parent_edge[w]] == w and etype[parent_edge[w]] != WEAK
            w = parent[w]
            hops += 1
        assert w == 0 and hops == d


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(numbers=st.lists(st.integers(0, 2**32 - 1), max_size=50), cut=st.integers(0, 400))
def test_integers_parse_across_any_chunk_boundary(numbers: list[int], cut: int) -> None:
    text = ("\n,".join(map(str, numbers)) + "]tail").encode()
    cut = min(cut, len(text))
    out = np.zeros(len(numbers), np.uint32)
    end, pos, cur, inside, closed, bad = _kernels.parse_ints(
        np.frombuffer(text[:cut], np.uint8), 0, out, 0, 0, False
    )
    if not closed:
        end, pos, cur, inside, closed, bad = _kernels.parse_ints(
            np.frombuffer(text[cut:], np.uint8), 0, out, pos, cur, inside
        )
        end += cut
    assert closed and bad == -1 and pos == len(numbers)
    assert out.tolist() == numbers
    assert text[end:] == b"tail"
