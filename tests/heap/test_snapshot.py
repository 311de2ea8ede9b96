from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from depaudit.errors import InputError
from depaudit.heap.snapshot import read_snapshot

from .conftest import snapshots
from .synthetic import EDGE_TYPES, NODE_TYPES, Graph, app_graph, write

Writer = Callable[[str, bytes], str]


def test_a_real_gzipped_snapshot_reads_as_json_does() -> None:
    path = snapshots("debug-leak", 1)[0]
    document = json.loads(gzip.decompress(Path(path).read_bytes()))
    snap = read_snapshot(path)
    nf = len(document["snapshot"]["meta"]["node_fields"])
    assert snap.nodes.shape == (document["snapshot"]["node_count"], nf)
    assert np.array_equal(snap.nodes.ravel(), np.array(document["nodes"], np.uint32))
    edges = np.array(document["edges"], np.uint32).reshape(-1, 3)
    edges[:, 2] //= nf
    assert np.array_equal(snap.edges, edges)
    assert snap.strings == document["strings"]
    assert np.array_equal(snap.locations.ravel(), np.array(document["locations"], np.uint32))


graphs = st.integers(min_value=2, max_value=24).flatmap(
    lambda n: st.tuples(
        st.lists(
            st.tuples(
                st.sampled_from(NODE_TYPES),
                st.text(max_size=8),
                st.integers(0, 2**32 - 1),
            ),
            min_size=n,
            max_size=n,
        ),
        st.lists(
            st.tuples(
                st.integers(0, n - 1),
                st.sampled_from(EDGE_TYPES),
                st.one_of(st.text(max_size=6), st.integers(0, 1000)),
                st.integers(0, n - 1),
            ),
            max_size=3 * n,
        ),
    )
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=graphs, nf=st.sampled_from([6, 7]), gz=st.booleans())
def test_any_snapshot_reads_back_exactly(
    write_file: Writer, spec: tuple[list, list], nf: int, gz: bool
) -> None:
    nodes, edges = spec
    g = Graph()
    for k, (kind, name, size) in enumerate(nodes):
        g.node(kind, name, size, id=2 * k + 1)
    for source, kind, name, target in edges:
        g.edge(source, kind, name, target)
    data = write(g, nf)
    path = write_file("s.heapsnapshot" + (".gz" if gz else ""), gzip.compress(data) if gz else data)
    snap = read_snapshot(path)
    assert snap.node_count == len(nodes)
    names = [snap.strings[i] for i in snap.node_field("name")]
    assert names == [name for _, name, _ in nodes]
    assert snap.node_field("self_size").tolist() == [size for _, _, size in nodes]
    ordered = sorted(range(len(edges)), key=lambda k: edges[k][0])  # grouped by source, stable
    assert snap.edge_field("to_node").tolist() == [edges[k][3] for k in ordered]


def test_lone_surrogates_are_kept(write_file: Writer) -> None:
    g = app_graph(2)
    g.node("string", "half \ud800 pair", 24)
    g.node("string", "emoji \U0001f600 and \udfff", 24)
    snap = read_snapshot(write_file("s.heapsnapshot", write(g)))
    assert "half \ud800 pair" in snap.strings
    assert "emoji \U0001f600 and \udfff" in snap.strings


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cut=st.floats(min_value=0.0, max_value=0.999))
def test_a_cut_snapshot_is_an_input_error_naming_the_file(write_file: Writer, cut: float) -> None:
    data = write(app_graph(30))
    path = write_file("cut.heapsnapshot", data[: int(len(data) * cut)])
    with pytest.raises(InputError) as error:
        read_snapshot(path)
    assert str(error.value).startswith(path)


def test_truncated_gzip(write_file: Writer) -> None:
    data = gzip.compress(write(app_graph(300)))
    path = write_file("cut.heapsnapshot.gz", data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated"):
        read_snapshot(path)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x1f\x8bnot gzip at all", "gzip"),
        (b"", "not a heap snapshot"),
        (b"[1,2,3]", "not a heap snapshot"),
        (b'{"name": "app", "version": "1.0.0"}', "not a heap snapshot"),
        (
            b'{"head":{"callFrame":{"functionName":"(root)","url":""},"selfSize":0,"id":1,'
            b'"children":[]},"samples":[]}',
            "sampling heap profile",
        ),
        (b'{"snapshot":{"meta":{}},\n"nodes":[1,2]', "meta"),
    ],
)
def test_other_files_are_refused(write_file: Writer, data: bytes, message: str) -> None:
    path = write_file("x.heapsnapshot", data)
    with pytest.raises(InputError, match=message):
        read_snapshot(path)


def test_counts_that_disagree_with_the_header(write_file: Writer) -> None:
    data = write(app_graph(3)).replace(b'"node_count":11', b'"node_count":12', 1)
    with pytest.raises(InputError, match="nodes has"):
        read_snapshot(write_file("x.heapsnapshot", data))
