"""What grew between heap snapshots of one process, and who owns it.

*Grown* objects are the V8 heap objects of the last snapshot that were allocated after the
first one (V8 object ids only ever increase within a process: a heap object's id is odd, and
the embedder's nodes, Node's C++ objects, carry even ids that are not a sequence). With three
or more snapshots an object must also have been allocated before the second to last and still
be there in every snapshot taken after its allocation: what keeps growing, not what was in
flight at the end. Compiled code is left out (lazy compilation and optimisation are not
leaks). One snapshot alone: every object counts, and the report is what is big.

The *owner* of an object is the nearest code of a script on its shortest retainer path from
the GC roots (itself included): a closure (closure -> shared function info -> script), an
object made by a constructor of a script, a context whose closures belong to a script. Node
core (``node:`` scripts) owns only what nothing else on the path owns: a ServerResponse held
by a closure of the app is the app's. A script under ``node_modules/<pkg>/`` makes the owner a
package placement, another file a line of the app, ``node:`` node core.

Why this module is over ~400 lines: growth, ownership and retainer paths are one phase over
the same arrays (one snapshot's columns); splitting them would pass a dozen arrays between
modules. The loops that must be fast live in :mod:`._kernels`, the reading in :mod:`.snapshot`.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from depaudit.errors import InputError
from depaudit.heap.snapshot import HeapSnapshot, ProgressFn, read_snapshot

OwnerKind = str  # "package" | "app" | "node" | "unknown"

#: node types whose growth is not a leak of the program (compiled code, V8 internals)
SKIPPED_TYPES = ("code", "synthetic", "object shape")
#: how many hops of a retainer path are shown at each end
PATH_HEAD = 2
PATH_TAIL = 5


@dataclass(frozen=True)
class Owner:
    """One owner of grown (or, for a single snapshot, retained) memory."""

    kind: OwnerKind
    name: str
    version: str | None
    path: str | None  # the placement in node_modules (packages)
    file: str | None  # the app's file (relative to the project) or node core module
    line: int | None  # 1-based
    growth_bytes: int  # shallow size of the grown objects
    retained_bytes: int  # what the grown objects keep alive (dominator tree)
    growth_objects: int
    constructor: str  # the dominant constructor / collection, by bytes
    retainer_path: str
    scripts: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        if self.kind == "package":
            return f"{self.name}@{self.version}" if self.version else self.name
        if self.kind == "app" and self.file:
            return f"{self.file}:{self.line}" if self.line else self.file
        return self.name


@dataclass(frozen=True)
class HeapResult:
    mode: str  # "growth" (two or more snapshots) or "size" (one)
    snapshots: tuple[str, ...]
    owners: tuple[Owner, ...]  # above the noise floor, biggest first
    total_bytes: int
    total_objects: int
    min_bytes: int
    below_floor: int  # owners left out under min_bytes
    warnings: tuple[str, ...] = ()


@dataclass(eq=False)
class _Graph:
    snap: HeapSnapshot
    ntype: np.ndarray[Any, Any]
    nname: np.ndarray[Any, Any]
    nid: np.ndarray[Any, Any]
    nsize: np.ndarray[Any, Any]
    first: np.ndarray[Any, Any]
    etype: np.ndarray[Any, Any]
    ename: np.ndarray[Any, Any]
    eto: np.ndarray[Any, Any]
    string_index: dict[str, int] = field(default_factory=dict)

    def sid(self, text: str) -> int:
        """Index of a string of the snapshot (-1: absent)."""
        if not self.string_index:
            wanted = {
                "shared",
                "script_or_debug_info",
                "script",
                "map",
                "constructor_or_back_pointer",
                "constructor",
                "context",
                "_events",
            }
            for i, s in enumerate(self.snap.strings):
                if s in wanted and s not in self.string_index:
                    self.string_index[s] = i
        return self.string_index.get(text, -1)


def _graph(snap: HeapSnapshot) -> _Graph:
    from depaudit.heap import _kernels

    # compact columns, then the (nodes x fields) array goes: a quarter less memory
    graph = _Graph(
        snap=snap,
        ntype=snap.node_field("type").astype(np.uint8),
        nname=np.ascontiguousarray(snap.node_field("name")),
        nid=np.ascontiguousarray(snap.node_field("id")),
        nsize=np.ascontiguousarray(snap.node_field("self_size")),
        first=_kernels.edge_offsets(snap.node_field("edge_count")),
        etype=snap.edge_field("type"),
        ename=snap.edge_field("name_or_index"),
        eto=snap.edge_field("to_node"),
    )
    snap.nodes = np.empty((0, len(snap.node_fields)), np.uint32)  # not a view: frees it
    return graph


@dataclass(frozen=True)
class _Base:
    """What the analysis keeps of an earlier snapshot: its ids (sorted), the largest heap
    object id, and a sample of (id, name) to tell whether a later snapshot is the same
    process."""

    path: str
    ids: np.ndarray[Any, Any]
    max_id: int
    sample_ids: np.ndarray[Any, Any]
    sample_names: tuple[str, ...]


def _base(snap: HeapSnapshot, keep_ids: bool) -> _Base:
    ids = snap.node_field("id")
    heap = ids[ids % 2 == 1]
    max_id = int(heap.max()) if heap.size else 0
    names = snap.node_field("name")
    types = snap.node_field("type")
    code = snap.node_type_code("code")
    # objects every process has: named, non-code heap objects
    candidates = np.nonzero((ids % 2 == 1) & (types != code))[0]
    step = max(1, candidates.size // 2000)
    picked = candidates[::step]
    return _Base(
        path=snap.path,
        ids=np.sort(heap) if keep_ids else np.empty(0, np.uint32),
        max_id=max_id,
        sample_ids=ids[picked].copy(),
        sample_names=tuple(snap.strings[int(names[i])] for i in picked),
    )


def _same_process(base: _Base, snap: HeapSnapshot) -> None:
    """Raises when ``snap`` cannot be a later snapshot of ``base``'s process."""
    ids = snap.node_field("id")
    heap = ids[ids % 2 == 1]
    later_max = int(heap.max()) if heap.size else 0
    if later_max < base.max_id:
        raise InputError(
            snap.path,
            f"is not a later snapshot of the process of {base.path} (its object ids are older); "
            "give the snapshots of one process, oldest first",
        )
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    at = np.searchsorted(sorted_ids, base.sample_ids)
    at = np.minimum(at, max(sorted_ids.size - 1, 0))
    present = sorted_ids[at] == base.sample_ids if sorted_ids.size else np.zeros(0, bool)
    names = snap.node_field("name")
    shared = 0
    same = 0
    for k in np.nonzero(present)[0]:
        shared += 1
        if snap.strings[int(names[order[at[k]]])] == base.sample_names[k]:
            same += 1
    if base.sample_ids.size >= 50 and (shared < base.sample_ids.size // 20 or same < shared // 2):
        raise InputError(
            snap.path,
            f"is not a snapshot of the same process as {base.path} (object ids do not match: "
            f"{same} of {shared} shared ids name the same object)",
            "heap growth needs snapshots of one process, oldest first",
        )


def _grown_mask(bases: Sequence[_Base], g: _Graph) -> np.ndarray[Any, Any]:
    ids = g.nid
    mask = (ids % 2 == 1) & (ids > bases[0].max_id)
    if len(bases) >= 2:
        mask &= ids <= bases[-1].max_id
        for middle in bases[1:]:
            allocated_before = ids <= middle.max_id
            at = np.searchsorted(middle.ids, ids)
            at = np.minimum(at, max(middle.ids.size - 1, 0))
            there = middle.ids[at] == ids if middle.ids.size else np.zeros(ids.shape, bool)
            mask &= ~allocated_before | there
    result: np.ndarray[Any, Any] = mask
    return result


def _type_mask(g: _Graph) -> np.ndarray[Any, Any]:
    skip = np.zeros(g.ntype.shape, bool)
    for name in SKIPPED_TYPES:
        code = g.snap.node_type_code(name)
        if code >= 0:
            skip |= g.ntype == code
    return ~skip


# -- scripts -> owners ------------------------------------------------------------------------

_NODE_MODULES = "node_modules/"


def placement_of(script: str) -> tuple[str, str] | None:
    """(package name, node_modules location) of a script under node_modules."""
    text = script.replace("\\", "/")
    if text.startswith("file://"):
        text = text[len("file://") :]
    at = text.find("/" + _NODE_MODULES)
    if at < 0:
        if not text.startswith(_NODE_MODULES):
            return None
        at = -1
    rest = text[at + 1 :]
    parts = rest.split("/")
    location: list[str] = []
    name = ""
    i = 0
    while i < len(parts) and parts[i] == "node_modules":
        if i + 1 >= len(parts):
            break
        if parts[i + 1].startswith("@") and i + 2 < len(parts):
            name = f"{parts[i + 1]}/{parts[i + 2]}"
            i += 3
        else:
            name = parts[i + 1]
            i += 2
        location.append(f"node_modules/{name}")
        if i >= len(parts) - 1:  # the file itself
            break
    if not name or i > len(parts) - 1:
        return None
    return name, "/".join(location)


def project_root_of(script: str) -> str | None:
    text = script.replace("\\", "/")
    if text.startswith("file://"):
        text = text[len("file://") :]
    at = text.find("/" + _NODE_MODULES)
    return text[:at] if at > 0 else None


def is_node_core(script: str) -> bool:
    return script.startswith("node:") or (
        bool(script) and "/" not in script and "\\" not in script and script.endswith(".js")
    )


def is_app_file(script: str) -> bool:
    text = script[len("file://") :] if script.startswith("file://") else script
    return text.startswith("/") or bool(re.match(r"^[A-Za-z]:[\\/]", text))


@dataclass
class _Acc:
    kind: OwnerKind
    name: str
    path: str | None
    file: str | None
    line: int | None
    scripts: set[str] = field(default_factory=set)
    bytes: int = 0
    objects: int = 0
    retained: int = 0
    by_type: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    best_node: int = -1
    best_retained: int = -1


class _Files:
    """App files as the project has them: the file of a script path under ``root``, and the
    line of a statement that adds to a variable."""

    def __init__(self, root: Path | None, project_roots: set[str]) -> None:
        self.root = root.resolve() if root is not None else None
        self.project_roots = project_roots
        self.text: dict[str, list[str] | None] = {}

    def relative(self, script: str) -> tuple[str, Path | None]:
        text = script[len("file://") :] if script.startswith("file://") else script
        text = text.replace("\\", "/")
        if self.root is not None:
            root = str(self.root).replace("\\", "/")
            if text.startswith(root + "/"):
                rel = text[len(root) + 1 :]
                return rel, self.root / rel
            parts = text.strip("/").split("/")
            for k in range(len(parts)):  # the longest tail of the path that the project has
                rel = "/".join(parts[k:])
                if (self.root / rel).is_file():
                    return rel, self.root / rel
        for prefix in sorted(self.project_roots, key=len, reverse=True):
            if text.startswith(prefix + "/"):
                return text[len(prefix) + 1 :], None
        return text, None

    def lines(self, file: Path | None) -> list[str] | None:
        if file is None:
            return None
        key = str(file)
        if key not in self.text:
            try:
                self.text[key] = file.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                self.text[key] = None
        return self.text[key]

    def adding_line(self, file: Path | None, variable: str) -> int | None:
        """1-based line of the first statement that adds to ``variable`` (push, set, add, a
        listener, an indexed assignment), or of its declaration."""
        lines = self.lines(file)
        if not lines or not re.fullmatch(r"[A-Za-z_$][\w$]*", variable):
            return None
        name = re.escape(variable)
        adds = re.compile(
            rf"(?<![\w$.]){name}\s*(\.\s*(push|unshift|splice|set|add|on|addListener|once|"
            rf"prependListener|concat|assign)\s*\(|\[[^\]]*\]\s*=[^=])"
        )
        declared = re.compile(rf"\b(const|let|var)\s+{name}\b")
        for number, line in enumerate(lines, 1):
            if adds.search(line):
                return number
        for number, line in enumerate(lines, 1):
            if declared.search(line):
                return number
        return None


class Versions:
    """Versions of package placements: from DIR's tree (lockfile) when there is one, else
    from ``DIR/<location>/package.json``."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.by_location: dict[str, str] = {}
        self.by_name: dict[str, set[str]] = defaultdict(set)
        self.warning: str | None = None
        if root is None:
            return
        try:
            from depaudit.sources import detect, source_for

            found = detect(root)
            tree = source_for(found.lockfile).load(found.lockfile)
        except Exception as error:  # noqa: BLE001 - a tree is optional here
            self.warning = f"no dependency tree read in {root}: {error}"
            return
        for package in tree.packages:
            self.by_location[package.location] = package.version
            self.by_name[package.name].add(package.version)

    def version(self, name: str, location: str) -> str | None:
        if location in self.by_location:
            return self.by_location[location]
        if self.root is not None:
            try:
                import orjson

                manifest = orjson.loads((self.root / location / "package.json").read_bytes())
                version = manifest.get("version") if isinstance(manifest, dict) else None
                if isinstance(version, str):
                    return version
            except (OSError, ValueError):
                pass
        versions = self.by_name.get(name)
        if versions and len(versions) == 1:
            return next(iter(versions))
        return None


# -- labels and paths ----------------------------------------------------------------------------


def printable(text: str) -> str:
    """Heap strings may hold lone surrogates, which no encoder writes: escape them."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _label(g: _Graph, v: int) -> str:
    kind = g.snap.node_types[int(g.ntype[v])]
    name = g.snap.strings[int(g.nname[v])]
    if kind == "closure":
        return name or "(anonymous)"
    if kind in ("string", "concatenated string", "sliced string"):
        return "(string)"
    if kind == "number":
        return "(number)"
    if kind == "array":
        return name or "(array)"
    return name or f"({kind})"


def _edge_text(g: _Graph, e: int) -> str:
    kind = g.snap.edge_types[int(g.etype[e])]
    name = int(g.ename[e])
    if kind in ("element", "hidden"):
        return f"[{name}]"
    text = g.snap.strings[name] if name < len(g.snap.strings) else str(name)
    return f".{text}"


def retainer_path(g: _Graph, parent: np.ndarray[Any, Any], parent_edge: Any, v: int) -> str:
    """The shortest retainer path of ``v`` as DevTools writes one: ``(GC roots) → … →
    createDebug.instances[12004]``. An Array and its backing store between a property and an
    element fold into ``name[index]``."""
    hops: list[int] = []
    w = v
    while w >= 0 and parent[w] >= 0:
        hops.append(w)
        w = int(parent[w])
    hops.reverse()
    if not hops:
        return _label(g, v)
    steps: list[str] = [_label(g, hops[0])]
    for node in hops[1:]:
        e = int(parent_edge[node])
        text = _edge_text(g, e)
        source = int(parent[node])
        source_label = _label(g, source)
        container = source_label in ("Array", "(object elements)", "(array)")
        if container and text == ".elements" or container and text.startswith("["):
            steps[-1] += "" if text == ".elements" else text
        elif steps[-1] == source_label:
            steps[-1] += text
        else:
            steps.append(source_label + text)
    last = _label(g, v)
    if last not in ("Array", "(object elements)", "(string)", "(number)"):
        steps.append(last)
    if len(steps) > PATH_HEAD + PATH_TAIL:
        steps = [*steps[:PATH_HEAD], "…", *steps[-PATH_TAIL:]]
    return " → ".join(steps)


# -- the analysis ----------------------------------------------------------------------------------


def analyze(
    paths: Sequence[str | os.PathLike[str]],
    tree: Path | None = None,
    min_bytes: int | None = None,
    progress: Callable[[str], ProgressFn | None] | None = None,
) -> HeapResult:
    """Reads the snapshots (oldest first) and attributes what grew (or, for one, what is
    held) to owners. ``min_bytes``: the noise floor (default: 64 KiB of growth; 0 for one
    snapshot)."""
    if not paths:
        raise ValueError("no snapshot")

    def read(path: str | os.PathLike[str]) -> HeapSnapshot:
        return read_snapshot(path, progress(str(path)) if progress else None)

    bases: list[_Base] = []
    for k, path in enumerate(paths[:-1]):
        snap = read(path)
        if bases:
            _same_process(bases[0], snap)
            if int(snap.node_field("id")[snap.node_field("id") % 2 == 1].max()) < bases[-1].max_id:
                raise InputError(snap.path, "is older than the snapshot before it")
        bases.append(_base(snap, keep_ids=k > 0))
        del snap
    last = read(paths[-1])
    if bases:
        _same_process(bases[0], last)
    return _attribute(bases, last, tree, min_bytes)


def _attribute(
    bases: Sequence[_Base], snap: HeapSnapshot, tree: Path | None, min_bytes: int | None
) -> HeapResult:
    from depaudit.heap import _kernels

    g = _graph(snap)
    weak = snap.edge_type_code("weak")
    internal = snap.edge_type_code("internal")
    context_edge = snap.edge_type_code("context")
    root = 0
    n = int(g.nid.shape[0])
    # the dominator tree first, while nothing else is held; only the grown objects' part is
    # kept
    post = _kernels.postorder(g.first, g.etype, g.eto, weak, root)
    idom_all = _kernels.dominators(g.first, g.etype, g.eto, weak, post)
    retained_all = _kernels.retained_sizes(post, idom_all, g.nsize)
    del post
    if bases:
        mask = _grown_mask(bases, g) & _type_mask(g)
        mode = "growth"
        floor = 64 * 1024 if min_bytes is None else min_bytes
    else:
        mask = _type_mask(g) & (idom_all >= 0)
        mode = "size"
        floor = 0 if min_bytes is None else min_bytes
    grown = np.nonzero(mask)[0]
    idom = idom_all[grown]
    retained = retained_all[grown]
    del idom_all, retained_all
    parent, parent_edge, order = _kernels.bfs_tree(g.first, g.etype, g.eto, weak, root)
    script, via = _kernels.own_scripts(
        g.first,
        g.etype,
        g.ename,
        g.eto,
        g.ntype,
        snap.node_type_code("closure"),
        snap.node_type_code("object"),
        internal,
        context_edge,
        g.sid("shared"),
        g.sid("script_or_debug_info") if g.sid("script_or_debug_info") >= 0 else g.sid("script"),
        g.sid("map"),
        g.sid("constructor_or_back_pointer")
        if g.sid("constructor_or_back_pointer") >= 0
        else g.sid("constructor"),
        g.sid("context"),
    )
    # script nodes -> their names; node core is transparent
    script_nodes = np.unique(script[script >= 0])
    transparent = np.zeros(n, bool)
    names: dict[int, str] = {}
    for s in script_nodes.tolist():
        name = snap.strings[int(g.nname[s])]
        names[s] = name
        if is_node_core(name):
            transparent[s] = True
    owner = _kernels.propagate_owner(order, parent, script, transparent)
    leaving = _kernels.owner_edges(order, parent, parent_edge, owner)

    # where each closure was written: locations are (object_index, script_id, line, column)
    line_of = np.full(n, -1, np.int32)
    if snap.locations.size and "line" in snap.location_fields:
        objects = snap.locations[:, snap.location_fields.index("object_index")].astype(np.int64)
        objects //= len(snap.node_fields)
        line_of[objects] = snap.locations[:, snap.location_fields.index("line")]

    # one group per (owning script, line of the owner or variable that holds it)
    g_owner = owner[grown].astype(np.int64)
    has = g_owner >= 0
    g_script = np.where(has, script[np.maximum(g_owner, 0)], -1).astype(np.int64)
    owner_is_context = np.zeros(grown.shape, bool)
    owner_is_context[has] = via[g_owner[has]] != g_owner[has]
    leave = leaving[grown]
    # a context that is itself new is the scope of a call kept alive by its closure: the
    # closure's line; an old one (a module's scope) holds the growth in a variable
    named = (leave >= 0) & owner_is_context
    named[named] = ~mask[g_owner[named]]
    named[named] = np.isin(g.etype[leave[named]], [context_edge, snap.edge_type_code("property")])
    edge_name = np.where(named, g.ename[np.maximum(leave, 0)].astype(np.int64), -1)
    g_line = np.where(has, line_of[np.maximum(via[np.maximum(g_owner, 0)], 0)], -1)
    key2 = np.where(edge_name >= 0, -2 - edge_name, g_line)
    keys = np.stack([g_script, key2], axis=1)
    unique, first_of, group_of = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    group_of = group_of.reshape(-1)

    files = _Files(tree, {r for s in names.values() if (r := project_root_of(s)) is not None})
    versions = Versions(tree)
    accs: dict[tuple[str, str, int | None], _Acc] = {}
    group_acc: list[_Acc] = []
    for s, k2 in unique.tolist():
        sname = names.get(int(s), "") if s >= 0 else ""
        acc_key: tuple[str, str, int | None]
        fields: tuple[OwnerKind, str, str | None, str | None, int | None]
        placement = placement_of(sname) if sname else None
        if s < 0 or not sname:
            acc_key = ("unknown", "(unknown)", None)
            fields = ("unknown", "(unknown)", None, None, None)
        elif placement is not None:
            acc_key = ("package", placement[1], None)
            fields = ("package", placement[0], placement[1], None, None)
        elif is_node_core(sname):
            acc_key = ("node", sname, None)
            fields = ("node", sname, None, sname, None)
        elif is_app_file(sname):
            rel, local = files.relative(sname)
            line: int | None = None
            if k2 <= -2:
                variable = snap.strings[int(-2 - k2)]
                # without the source, no line: any closure of that scope would be a guess
                line = files.adding_line(local, variable)
            elif k2 >= 0:
                line = int(k2) + 1
            acc_key = ("app", rel, line)
            fields = ("app", rel, None, rel, line)
        else:
            acc_key = ("unknown", sname, None)
            fields = ("unknown", sname, None, None, None)
        acc = accs.get(acc_key)
        if acc is None:
            acc = accs[acc_key] = _Acc(*fields)
        if sname:
            acc.scripts.add(sname)
        group_acc.append(acc)

    # sums per group, then per owner
    sizes = g.nsize[grown].astype(np.int64)
    count = len(group_acc)
    group_bytes = np.bincount(group_of, weights=sizes, minlength=count)
    group_objects = np.bincount(group_of, minlength=count)
    # retained: grown objects whose dominator is not a grown object of the same group
    group_all = np.full(n, -1, np.int32)
    group_all[grown] = group_of
    dominated_inside = group_all[np.maximum(idom, 0)] == group_of
    del group_all
    top = ~dominated_inside
    group_retained = np.bincount(
        group_of[top], weights=retained[top].astype(np.float64), minlength=count
    )
    for k, acc in enumerate(group_acc):
        acc.bytes += int(group_bytes[k])
        acc.objects += int(group_objects[k])
        acc.retained += int(group_retained[k])
    # dominant constructor (by bytes) per group, and its biggest top object as the example
    type_name = (g.ntype[grown].astype(np.int64) << 32) | g.nname[grown].astype(np.int64)
    combined = (group_of.astype(np.int64) << 40) | type_name
    pairs, pair_of = np.unique(combined, return_inverse=True)
    pair_bytes = np.bincount(pair_of.reshape(-1), weights=sizes, minlength=pairs.size)
    type_bytes: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for pair, b in zip(pairs.tolist(), pair_bytes.tolist(), strict=True):
        type_bytes[id(group_acc[pair >> 40])][pair & ((1 << 40) - 1)] += int(b)
    top_retained = np.where(top, retained, 0)
    if grown.size:
        by_group = np.lexsort((-top_retained, group_of))
        starts = np.searchsorted(group_of[by_group], np.arange(count))
        for k, acc in enumerate(group_acc):
            j = int(by_group[min(int(starts[k]), by_group.size - 1)])
            if int(top_retained[j]) > acc.best_retained:
                acc.best_retained = int(top_retained[j])
                acc.best_node = int(grown[j])

    total_bytes = int(sizes.sum())
    owners: list[Owner] = []
    below = 0
    for acc in accs.values():
        measure = acc.bytes if mode == "growth" else acc.retained
        if measure < floor or acc.objects == 0:
            below += 1
            continue
        tb = type_bytes[id(acc)]
        hidden = snap.node_type_code("hidden")
        visible = {tn: b for tn, b in tb.items() if tn >> 32 != hidden} or tb
        dominant = max(visible.items(), key=lambda item: item[1])[0] if visible else -1
        example = acc.best_node
        if dominant >= 0:
            example = _example(grown, type_name, group_acc, group_of, acc, dominant, retained)
        constructor = "?"
        if dominant >= 0:
            kind_name = snap.node_types[dominant >> 32]
            name = snap.strings[dominant & 0xFFFFFFFF]
            constructor = _constructor_text(kind_name, name)
        path_text = retainer_path(g, parent, parent_edge, example) if example >= 0 else ""
        if "._events" in path_text and constructor.endswith("closures"):
            constructor = "EventEmitter listeners"
        version = (
            versions.version(acc.name, acc.path) if acc.kind == "package" and acc.path else None
        )
        owners.append(
            Owner(
                kind=acc.kind,
                name=printable(acc.name),
                version=version,
                path=acc.path,
                file=printable(acc.file) if acc.file else None,
                line=acc.line,
                growth_bytes=acc.bytes,
                retained_bytes=acc.retained,
                growth_objects=acc.objects,
                constructor=printable(constructor),
                retainer_path=printable(path_text),
                scripts=tuple(sorted(acc.scripts)),
            )
        )
    if mode == "growth":
        owners.sort(key=lambda o: (-o.growth_bytes, o.kind, o.name))
    else:
        owners.sort(key=lambda o: (-o.retained_bytes, o.kind, o.name))
    warnings: list[str] = []
    if versions.warning and any(o.kind == "package" for o in owners):
        warnings.append(versions.warning)
    return HeapResult(
        mode=mode,
        snapshots=(*(b.path for b in bases), snap.path),
        owners=tuple(owners),
        total_bytes=total_bytes,
        total_objects=int(grown.size),
        min_bytes=floor,
        below_floor=below,
        warnings=tuple(warnings),
    )


def _example(
    grown: np.ndarray[Any, Any],
    type_name: np.ndarray[Any, Any],
    group_acc: list[_Acc],
    group_of: np.ndarray[Any, Any],
    acc: _Acc,
    dominant: int,
    retained: np.ndarray[Any, Any],
) -> int:
    """The grown object of the owner's dominant constructor that retains the most."""
    groups = np.array([k for k, a in enumerate(group_acc) if a is acc], np.int64)
    pick = np.nonzero(np.isin(group_of, groups) & (type_name == dominant))[0]
    if not pick.size:
        return acc.best_node
    return int(grown[pick[int(np.argmax(retained[pick]))]])


def _constructor_text(kind: str, name: str) -> str:
    if kind == "closure":
        return f"{name or '(anonymous)'}() closures"
    if kind in ("string", "concatenated string", "sliced string"):
        return "(string)"
    if kind in ("object", "native", "regexp"):
        return name or "Object"
    return name or f"({kind})"
