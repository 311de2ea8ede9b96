"""Streaming reader of V8 heap snapshots (``.heapsnapshot``, optionally gzipped).

The document is never held whole: the header is read as JSON, the ``nodes`` and ``edges``
arrays are parsed chunk by chunk straight into flat ``uint32`` arrays (their lengths are in
the header), ``locations`` the same way, and only the ``strings`` section becomes Python
objects (one ``str`` each). V8 writes lone surrogates (``"\\ud800"``) into strings, which
orjson refuses; the standard library's parser keeps them, so it is the fallback.

Layout (V8's ``HeapSnapshotJSONSerializer``): one object whose keys come in this order:
``snapshot`` (meta and counts), ``nodes``, ``edges``, ``trace_function_infos``,
``trace_tree``, ``samples``, ``locations``, ``strings``; each key starts a line.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
import orjson

from depaudit.errors import InputError

CHUNK = 8 << 20
GZIP_MAGIC = b"\x1f\x8b"

NEEDED_NODE_FIELDS = ("type", "name", "id", "self_size", "edge_count")
NEEDED_EDGE_FIELDS = ("type", "name_or_index", "to_node")

ProgressFn = Callable[[int], None]


@dataclass(eq=False)
class HeapSnapshot:
    """One snapshot as flat arrays. Node ``n``'s fields are ``nodes[n, field]``; edge ``e``'s
    are ``edges[e, field]`` with ``to_node`` already divided into a node ordinal."""

    path: str
    nodes: np.ndarray[Any, np.dtype[np.uint32]]
    edges: np.ndarray[Any, np.dtype[np.uint32]]
    strings: list[str]
    locations: np.ndarray[Any, np.dtype[np.uint32]]
    node_fields: list[str]
    node_types: list[str]
    edge_fields: list[str]
    edge_types: list[str]
    location_fields: list[str]

    def node_field(self, name: str) -> np.ndarray[Any, np.dtype[np.uint32]]:
        return self.nodes[:, self.node_fields.index(name)]

    def edge_field(self, name: str) -> np.ndarray[Any, np.dtype[np.uint32]]:
        return self.edges[:, self.edge_fields.index(name)]

    @property
    def node_count(self) -> int:
        return int(self.nodes.shape[0])

    def node_type_code(self, name: str) -> int:
        return self.node_types.index(name) if name in self.node_types else -1

    def edge_type_code(self, name: str) -> int:
        return self.edge_types.index(name) if name in self.edge_types else -1


class _Chunks:
    """Bytes of the file in chunks, with one pending chunk that can be pushed back."""

    def __init__(self, stream: IO[bytes], path: str, progress: ProgressFn | None) -> None:
        self.stream = stream
        self.path = path
        self.progress = progress
        self.pending = b""
        self.read_bytes = 0

    def next(self) -> bytes:
        if self.pending:
            data, self.pending = self.pending, b""
            return data
        try:
            data = self.stream.read(CHUNK)
        except (gzip.BadGzipFile, zlib.error) as error:
            raise InputError(self.path, f"not a readable gzip file ({error})") from None
        except EOFError:
            raise InputError(
                self.path, "truncated: the gzip stream ends early", "take the snapshot again"
            ) from None
        self.read_bytes += len(data)
        if self.progress is not None and data:
            self.progress(self.read_bytes)
        return data

    def push_back(self, data: bytes) -> None:
        self.pending = data + self.pending


def _open(path: Path) -> IO[bytes]:
    try:
        raw = path.open("rb")
    except OSError as error:
        raise InputError(path, f"cannot read ({error.strerror or error})") from None
    magic = raw.read(2)
    raw.seek(0)
    if magic == GZIP_MAGIC:
        return cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb"))
    return raw


def _truncated(path: str, where: str) -> InputError:
    return InputError(
        path,
        f"truncated heap snapshot (the file ends inside {where})",
        "the snapshot was still being written or was cut; take it again",
    )


def _read_header(chunks: _Chunks) -> tuple[dict[str, Any], bytes]:
    """The ``snapshot`` object, and the bytes that follow ``"nodes":[``."""
    head = b""
    marker = b'"nodes":['
    while True:
        data = chunks.next()
        if not data:
            break
        head += data
        at = head.find(marker)
        if at >= 0:
            break
        if len(head) > (4 << 20):  # a header is a few hundred bytes
            at = -1
            break
    stripped = head.lstrip()
    if not stripped.startswith(b"{"):
        raise InputError(chunks.path, "not a heap snapshot (not a JSON object)")
    at = head.find(marker)
    if at < 0:
        _refuse_other_json(chunks.path, stripped)
        if b'"snapshot"' in head[:4096] and len(head) < (4 << 20):
            raise _truncated(chunks.path, "the header")
        raise InputError(chunks.path, 'not a heap snapshot (no "nodes" array)')
    prefix = head[:at].rstrip()
    if prefix.endswith(b","):
        prefix = prefix[:-1]
    try:
        header = orjson.loads(prefix + b"}")
    except orjson.JSONDecodeError:
        _refuse_other_json(chunks.path, stripped)
        raise InputError(chunks.path, "not a heap snapshot (unreadable header)") from None
    if not isinstance(header, dict) or not isinstance(header.get("snapshot"), dict):
        raise InputError(chunks.path, 'not a heap snapshot (no "snapshot" header)')
    return header["snapshot"], head[at + len(marker) :]


def _refuse_other_json(path: str, start: bytes) -> None:
    """A sampling heap profile or a CPU profile given where a snapshot is expected."""
    probe = start[:4096]
    if probe.startswith(b'{"head":') and b'"callFrame"' in probe:
        raise InputError(
            path,
            "is a sampling heap profile (.heapprofile), not a heap snapshot",
            "give it to `depaudit heap --profile` or `depaudit scan --heap-profile`",
        )
    if probe.startswith(b'{"nodes":[{') and b'"callFrame"' in probe:
        raise InputError(path, "is a CPU profile (.cpuprofile), not a heap snapshot")


def _meta(path: str, snapshot: dict[str, Any]) -> tuple[dict[str, Any], int, int]:
    meta = snapshot.get("meta")
    try:
        assert isinstance(meta, dict)
        node_count = int(snapshot["node_count"])
        edge_count = int(snapshot["edge_count"])
        node_fields = meta["node_fields"]
        edge_fields = meta["edge_fields"]
        assert all(f in node_fields for f in NEEDED_NODE_FIELDS)
        assert all(f in edge_fields for f in NEEDED_EDGE_FIELDS)
        assert isinstance(meta["node_types"][0], list)
        assert isinstance(meta["edge_types"][0], list)
        assert node_count >= 0 and edge_count >= 0
    except (AssertionError, KeyError, TypeError, ValueError, IndexError):
        raise InputError(path, "not a heap snapshot (the header has no usable meta)") from None
    return meta, node_count, edge_count


def _read_ints(chunks: _Chunks, rest: bytes, expected: int, what: str) -> np.ndarray[Any, Any]:
    """Parses a flat integer array whose ``[`` was just read: ``expected`` numbers."""
    from depaudit.heap import _kernels

    out = np.empty(expected, np.uint32)
    pos = 0
    cur = 0
    inside = False
    data = rest
    while True:
        if not data:
            data = chunks.next()
            if not data:
                raise _truncated(chunks.path, f"the {what} array")
        buf = np.frombuffer(data, np.uint8)
        end, pos, cur, inside, closed, bad = _kernels.parse_ints(buf, 0, out, pos, cur, inside)
        if bad >= 0:
            raise InputError(
                chunks.path, f"not a heap snapshot (unexpected {data[bad : bad + 1]!r} in {what})"
            )
        if closed:
            chunks.push_back(data[int(end) :])
            break
        data = b""
    if pos != expected:
        raise InputError(
            chunks.path,
            f"not a consistent heap snapshot ({what} has {pos} numbers, the header says "
            f"{expected})",
            "the file may be truncated or edited",
        )
    return out


def _read_small_ints(chunks: _Chunks, what: str) -> np.ndarray[Any, Any]:
    """An integer array of unknown length that is small next to nodes and edges."""
    parts: list[bytes] = []
    while True:
        data = chunks.next()
        if not data:
            raise _truncated(chunks.path, f"the {what} array")
        at = data.find(b"]")
        if at >= 0:
            parts.append(data[: at + 1])
            chunks.push_back(data[at + 1 :])
            break
        parts.append(data)
    body = b"".join(parts)
    count = body.count(b",") + 1 if body[:-1].strip() else 0
    chunks.push_back(body)
    return _read_ints(chunks, b"", count, what)


def _skip_to(chunks: _Chunks, key: bytes) -> bool:
    """Moves past ``\\n"key":[``; False at the end of the file."""
    marker = b'"' + key + b'":['
    tail = b""
    while True:
        data = chunks.next()
        if not data:
            return False
        window = tail + data
        at = window.find(marker)
        if at >= 0:
            chunks.push_back(window[at + len(marker) :])
            return True
        tail = window[-len(marker) :]


def _read_strings(chunks: _Chunks) -> list[str]:
    parts: list[bytes] = []
    while True:
        data = chunks.next()
        if not data:
            break
        parts.append(data)
    body = b"".join(parts).rstrip()
    parts.clear()
    if not body.endswith(b"}"):
        raise _truncated(chunks.path, "the strings")
    body = body[:-1].rstrip()
    if not body.endswith(b"]"):
        raise _truncated(chunks.path, "the strings")
    document = b"[" + body
    del body
    try:
        strings = orjson.loads(document)
    except orjson.JSONDecodeError:
        # lone surrogates: orjson refuses them, the standard library keeps them
        try:
            strings = json.loads(document.decode("utf-8", "surrogatepass"))
        except (ValueError, UnicodeDecodeError):
            raise _truncated(chunks.path, "the strings") from None
    if not isinstance(strings, list) or not all(isinstance(s, str) for s in strings[:16]):
        raise InputError(chunks.path, "not a heap snapshot (strings is not a list of strings)")
    return strings


def read_snapshot(path: str | os.PathLike[str], progress: ProgressFn | None = None) -> HeapSnapshot:
    """Reads one snapshot; raises InputError (naming the file) for anything else."""
    file = Path(path)
    with _open(file) as stream:
        chunks = _Chunks(stream, str(file), progress)
        snapshot, rest = _read_header(chunks)
        meta, node_count, edge_count = _meta(str(file), snapshot)
        node_fields = list(meta["node_fields"])
        edge_fields = list(meta["edge_fields"])
        nf = len(node_fields)
        ef = len(edge_fields)
        nodes = _read_ints(chunks, rest, node_count * nf, "nodes").reshape(node_count, nf)
        if not _skip_to(chunks, b"edges"):
            raise _truncated(str(file), "the nodes")
        edges = _read_ints(chunks, b"", edge_count * ef, "edges").reshape(edge_count, ef)
        to = edge_fields.index("to_node")
        if edge_count and int(edges[:, to].max()) >= node_count * nf:
            raise InputError(str(file), "not a consistent heap snapshot (edge to no node)")
        edges[:, to] //= nf
        location_fields = list(meta.get("location_fields") or [])
        locations = np.empty((0, max(len(location_fields), 1)), np.uint32)
        if not _skip_to(chunks, b"locations"):
            raise _truncated(str(file), "the edges")
        if location_fields:
            flat = _read_small_ints(chunks, "locations")
            width = len(location_fields)
            locations = flat[: len(flat) - len(flat) % width].reshape(-1, width)
        if not _skip_to(chunks, b"strings"):
            raise _truncated(str(file), "the locations")
        strings = _read_strings(chunks)
    edge_counts = nodes[:, node_fields.index("edge_count")]
    if int(edge_counts.sum(dtype=np.int64)) != edge_count:
        raise InputError(str(file), "not a consistent heap snapshot (edge counts differ)")
    names = nodes[:, node_fields.index("name")]
    if node_count and int(names.max()) >= len(strings):
        raise InputError(str(file), "not a consistent heap snapshot (name of no string)")
    return HeapSnapshot(
        path=str(file),
        nodes=nodes,
        edges=edges,
        strings=strings,
        locations=locations,
        node_fields=node_fields,
        node_types=[str(t) for t in meta["node_types"][0]],
        edge_fields=edge_fields,
        edge_types=[str(t) for t in meta["edge_types"][0]],
        location_fields=location_fields,
    )


def stderr_progress(path: str | os.PathLike[str]) -> ProgressFn | None:
    """Progress lines on stderr for a file big enough to take a while (and only to a
    terminal)."""
    try:
        size = os.path.getsize(path)
    except OSError:
        return None
    if size < (64 << 20) or not sys.stderr.isatty():
        return None
    gz = str(path).endswith(".gz")
    last = [0]

    def report(read: int) -> None:
        if read - last[0] >= (64 << 20):
            last[0] = read
            total = "" if gz else f" of {size >> 20} MB"
            print(f"\rreading {path}: {read >> 20} MB{total}", end="", file=sys.stderr)

    return report
