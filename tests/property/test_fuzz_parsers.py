"""Every parser is total: random structures and mutations of the real corpus files end in a
``DependencyTree`` or an ``InputError`` naming the file, never anything else.

Mutations: truncation, invalid UTF-8 and control bytes, deleted / duplicated / shuffled lines,
values replaced by wrong types, deep nesting, huge strings, duplicate keys (JSON and YAML),
hostile keys (``..``, absolute paths), YAML aliases and tags. The seeds are the lockfile
corpus (``tests/corpus``: fixtures whole, the big real files reduced to a slice of their
entries) and the ``npm ls --json`` outputs of ``tests/assets/projects``.

The suite runs a few hundred examples per parser; ``scripts/fuzz_long.py`` runs the same
checks (``check``, ``inputs``) for 100,000+ examples per parser.
"""

from __future__ import annotations

import json
import os
import re
import resource
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from depaudit.audit import Auditor
from depaudit.errors import InputError
from depaudit.formats.interface import FormatName
from depaudit.formats.registry import get_format
from depaudit.models import DependencyTree
from depaudit.scoring import LeakScorer
from depaudit.services.knowledge_base import KnowledgeBaseService
from depaudit.sources.bun_lock import BunLockSource
from depaudit.sources.npm_ls import parse_npm_ls
from depaudit.sources.package_lock import PackageLockSource
from depaudit.sources.pnpm_lock import PnpmLockSource
from depaudit.sources.yaml_loader import load_yaml
from depaudit.sources.yarn_lock import YarnLockSource

TESTS = Path(__file__).resolve().parent.parent
CORPUS = TESTS / "corpus"
ASSETS = TESTS / "assets"

#: parser name -> the file name it is given
FILE_NAMES = {
    "package-lock": "package-lock.json",
    "npm-ls": "npm-ls.json",
    "yarn": "yarn.lock",
    "pnpm": "pnpm-lock.yaml",
    "bun": "bun.lock",
}
PARSERS = tuple(FILE_NAMES)
#: how many entries of a big real lockfile a seed keeps (parsing stays fast)
SLICE = 40
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _yaml(data: Any) -> bytes:
    try:
        return yaml.dump(data, Dumper=_DUMPER, allow_unicode=True, width=10**6).encode()
    except UnicodeEncodeError:  # a lone surrogate: JSON is YAML, and writes it as an escape
        return json.dumps(data).encode()


# -- seeds ---------------------------------------------------------------------------------------


def _reduce_json(data: Any) -> Any:
    """Keep the first SLICE entries of every big mapping (a real file, smaller)."""
    if isinstance(data, dict):
        items = list(data.items())[:SLICE] if len(data) > SLICE else list(data.items())
        return {k: _reduce_json(v) for k, v in items}
    if isinstance(data, list):
        return [_reduce_json(v) for v in data[:SLICE]]
    return data


def _reduce_lines(text: str, *, keep: int = 600) -> str:
    """The head of a line-oriented lockfile, cut at a blank line (whole entries)."""
    lines = text.splitlines(keepends=True)
    if len(lines) <= keep:
        return text
    cut = keep
    while cut < len(lines) and lines[cut].strip():
        cut += 1
    return "".join(lines[:cut])


def _reduce(parser: str, raw: bytes) -> bytes:
    if len(raw) < 64 * 1024:
        return raw
    text = raw.decode("utf-8", "replace")
    if parser in ("package-lock", "npm-ls", "bun"):
        try:
            data = json.loads(_TRAILING_COMMA.sub(r"\1", text))
        except ValueError:
            return raw[: 64 * 1024]
        return json.dumps(_reduce_json(data), indent=2).encode()
    return _reduce_lines(text).encode()


def _parser_of(path: Path) -> str | None:
    name = path.name
    if name in ("package-lock.json", "npm-shrinkwrap.json"):
        return "package-lock"
    if name.startswith("npm-ls") and name.endswith(".json"):
        return "npm-ls"
    if name == "yarn.lock" or (name.endswith(".lock") and "yarn" in str(path)):
        return "yarn"
    if name.endswith((".yaml", ".yml")) and "pnpm" in str(path):
        return "pnpm"
    if name == "bun.lock":
        return "bun"
    if name.endswith(".json") and "/npm/" in path.as_posix() and "osv-scanner" in str(path):
        return "package-lock"
    return None


@cache
def seeds() -> dict[str, tuple[bytes, ...]]:
    found: dict[str, list[bytes]] = {p: [] for p in PARSERS}
    roots = [CORPUS / "fixtures", CORPUS / "real", ASSETS / "projects", ASSETS / "projects-pm"]
    for root in roots:
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.name.endswith(".expected.json"):
                continue
            parser = _parser_of(path)
            if parser is not None:
                found[parser].append(_reduce(parser, path.read_bytes()))
    for parser, items in found.items():
        assert items, f"no corpus seed for {parser}"
    return {p: tuple(v) for p, v in found.items()}


# -- the property --------------------------------------------------------------------------------


def run_parser(parser: str, raw: bytes, folder: Path) -> DependencyTree:
    """Parse ``raw`` as ``parser`` reads it (from a file in ``folder``)."""
    path = folder / FILE_NAMES[parser]
    if parser == "npm-ls":
        return parse_npm_ls(raw.decode("utf-8", "strict"), str(path))
    path.write_bytes(raw)
    source = {
        "package-lock": PackageLockSource,
        "yarn": YarnLockSource,
        "pnpm": PnpmLockSource,
        "bun": BunLockSource,
    }[parser]()
    return source.load(path)


#: the per-example budget: CPU time of the parse and every formatter, and memory growth
BUDGET_SECONDS = 1.0
BUDGET_BYTES_PER_SECOND = 256 * 1024
BUDGET_BYTES = 100 * 1024 * 1024
_SURROGATE = re.compile("[\ud800-\udfff]")
_CLOCK = datetime(2026, 1, 1, tzinfo=UTC)


class OverBudget(AssertionError):
    """An example used more CPU time or memory than the per-example budget."""


#: how memory growth is measured: "tracemalloc" (exact peak of Python allocations; the suite)
#: or "rss" (growth of the process's peak resident size; ~3x cheaper, scripts/fuzz_long.py)
MEMORY_PROBE = os.environ.get("DEPAUDIT_FUZZ_MEMORY", "tracemalloc")


@contextmanager
def within_budget(seconds: float = BUDGET_SECONDS, grow: int = BUDGET_BYTES) -> Iterator[None]:
    """Fail (OverBudget) when the block takes more than ``seconds`` of this thread's CPU time
    (not wall time: the machine may be busy) or its memory peaks ``grow`` bytes above where
    it started (see MEMORY_PROBE)."""
    rss = MEMORY_PROBE == "rss"
    tracing = rss or tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    if rss:
        start_bytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    else:
        tracemalloc.reset_peak()
        start_bytes = tracemalloc.get_traced_memory()[0]
    started = time.thread_time()
    try:
        yield
    finally:
        spent = time.thread_time() - started
        if rss:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - start_bytes
        else:
            peak = tracemalloc.get_traced_memory()[1] - start_bytes
        if not tracing:
            tracemalloc.stop()
    if spent > seconds:
        raise OverBudget(f"took {spent:.2f} s of CPU (budget {seconds} s)")
    if peak > grow:
        raise OverBudget(f"memory grew by {peak // 2**20} MiB (budget {grow // 2**20} MiB)")


@cache
def _scoring() -> tuple[KnowledgeBaseService, LeakScorer]:
    return KnowledgeBaseService(), LeakScorer(clock=lambda: _CLOCK)


def render_all(tree: DependencyTree) -> dict[str, str]:
    """The tree scored offline (knowledge base only) and rendered in every report format;
    each text must encode as UTF-8 (a lone surrogate once failed every encoder)."""
    knowledge, scorer = _scoring()
    report = Auditor(tree=tree, services=[knowledge], scorer=scorer, clock=lambda: _CLOCK).run()
    texts = {}
    for name in FormatName:
        text = get_format(name).render(report)
        text.encode("utf-8")
        if name in (FormatName.JSON, FormatName.SARIF):
            json.loads(text)
        texts[name.value] = text
    return texts


def check(parser: str, raw: bytes, folder: Path, *, budget: bool = True) -> str:
    """The only outcomes allowed: a tree (``"tree"``) rendered by every report format, or an
    InputError naming the file (``"input-error"``), within the per-example budget. Anything
    else propagates and fails the test."""
    if not budget:
        return _check(parser, raw, folder)
    # the CPU budget grows with the input (a second, plus one per BUDGET_BYTES_PER_SECOND):
    # it is there to catch work that grows faster than the input, and the generator makes
    # inputs of a megabyte (a 1 MB yarn lock whose 30 KB key repeats in 167 problem rows took
    # 2-3.6 s under tracemalloc in clean CI runs: rendering, linear in the report's size)
    with within_budget(seconds=BUDGET_SECONDS + len(raw) / BUDGET_BYTES_PER_SECOND):
        return _check(parser, raw, folder)


def _check(parser: str, raw: bytes, folder: Path) -> str:
    if parser == "npm-ls":
        try:
            raw.decode("utf-8", "strict")
        except UnicodeDecodeError:
            return "input-error"  # the reader of files / stdin rejects it (tested elsewhere)
    try:
        tree = run_parser(parser, raw, folder)
    except InputError as error:
        # names the file first; the CLI prints it on one line (terminal_safe, see
        # tests/test_hostile_text.py), whatever hostile key the message quotes
        assert error.message.startswith(str(folder / FILE_NAMES[parser])), error.message
        return "input-error"
    assert isinstance(tree, DependencyTree)
    for pkg in tree.packages:
        assert isinstance(pkg.name, str) and pkg.name
        assert isinstance(pkg.version, str)
        assert all(isinstance(part, str) for part in pkg.path)
        assert not _SURROGATE.search(pkg.name + pkg.version + "".join(pkg.path))
    render_all(tree)
    return "tree"


# -- strategies ----------------------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["", "1.0.0", "^1.2.3", "npm:x@1", "file:../x", "workspace:*", "latest"]),
    # lone surrogates (JSON writes them as \ud800 escapes) and control characters
    st.sampled_from(["\ud800", "a\udc00b", "x\udbff", "\x00\x1b[31m\x07\x7f\x85\u2028", "\r\n"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
hostile_keys = st.sampled_from(
    [
        "",
        "..",
        "../../etc",
        "node_modules/../../../x",
        "/etc/passwd",
        "node_modules//x",
        "node_modules/@scope",
        "node_modules/@s/n/node_modules/x",
        "C:\\x",
        "x\x00y",
        "\u202eevil",
        "__proto__",
        "constructor",
    ]
)
package_names = st.one_of(
    st.sampled_from(["a", "@s/b", "ws", "ioredis", "../x", "@/x", "@s/", "A B"]),
    st.text(max_size=15),
)


def _entry() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "version": st.one_of(json_scalars, st.sampled_from(["1.0.0", "2.3.4-beta.1"])),
            "resolved": st.one_of(st.text(max_size=20), json_values),
            "integrity": st.text(max_size=10),
            "dev": json_scalars,
            "optional": json_scalars,
            "peer": json_scalars,
            "link": json_scalars,
            "name": package_names,
            "dependencies": st.one_of(
                st.dictionaries(package_names, json_values, max_size=4), json_values
            ),
            "peerDependencies": st.dictionaries(package_names, json_scalars, max_size=3),
            "requires": st.one_of(json_scalars, st.dictionaries(package_names, json_scalars)),
            "bundled": json_scalars,
            "workspaces": json_values,
            "missing": json_scalars,
            "invalid": json_scalars,
            "extraneous": json_scalars,
            "problems": json_values,
        },
    )


def _lock_keys() -> st.SearchStrategy[str]:
    return st.one_of(
        hostile_keys,
        package_names.map(lambda n: f"node_modules/{n}"),
        st.tuples(package_names, package_names).map(
            lambda t: f"node_modules/{t[0]}/node_modules/{t[1]}"
        ),
        st.text(max_size=20),
    )


def _random_structure(parser: str) -> st.SearchStrategy[bytes]:
    """A document shaped roughly like the format, with random and hostile content."""
    versions = st.one_of(
        st.sampled_from([0, 1, 2, 3, 4, "3", 5.4, "5.4", "6.0", "9.0", "10", None]), json_scalars
    )
    if parser == "package-lock":
        doc = st.fixed_dictionaries(
            {"lockfileVersion": versions},
            optional={
                "name": package_names,
                "packages": st.one_of(
                    st.dictionaries(_lock_keys(), _entry(), max_size=6), json_values
                ),
                "dependencies": st.one_of(
                    st.dictionaries(package_names, _entry(), max_size=6), json_values
                ),
            },
        )
        return doc.map(lambda d: json.dumps(d).encode())
    if parser == "npm-ls":
        doc = st.fixed_dictionaries(
            {"name": package_names},
            optional={
                "version": json_scalars,
                "dependencies": st.one_of(
                    st.dictionaries(package_names, _entry(), max_size=6), json_values
                ),
                "problems": json_values,
                "error": json_values,
            },
        )
        return doc.map(lambda d: json.dumps(d).encode())
    if parser == "bun":
        pkg = st.one_of(
            st.tuples(st.text(max_size=20), st.text(max_size=5), _entry(), st.text(max_size=5)).map(
                list
            ),
            json_values,
        )
        doc = st.fixed_dictionaries(
            {"lockfileVersion": versions},
            optional={
                "workspaces": st.dictionaries(
                    st.one_of(st.just(""), hostile_keys, st.text(max_size=8)), _entry(), max_size=3
                ),
                "packages": st.dictionaries(
                    st.one_of(package_names, hostile_keys), pkg, max_size=6
                ),
            },
        )
        return doc.map(lambda d: json.dumps(d).encode())
    if parser == "pnpm":
        key = st.one_of(
            hostile_keys,
            st.tuples(package_names, st.text(max_size=8)).map(lambda t: f"/{t[0]}/{t[1]}"),
            st.tuples(package_names, st.text(max_size=8)).map(lambda t: f"{t[0]}@{t[1]}"),
        )
        doc = st.fixed_dictionaries(
            {"lockfileVersion": versions},
            optional={
                "importers": st.dictionaries(
                    st.one_of(st.just("."), hostile_keys), json_values, max_size=3
                ),
                "packages": st.dictionaries(key, _entry(), max_size=6),
                "snapshots": st.dictionaries(key, json_values, max_size=4),
                "dependencies": json_values,
            },
        )
        return doc.map(_yaml)
    # yarn: classic text or berry YAML
    descriptor = st.tuples(package_names, st.text(max_size=8)).map(lambda t: f"{t[0]}@{t[1]}")
    classic_entry = st.tuples(
        st.lists(descriptor, min_size=1, max_size=3),
        st.one_of(st.text(max_size=10), st.just("1.0.0")),
        st.dictionaries(package_names, st.text(max_size=8), max_size=3),
    ).map(
        lambda t: (
            ", ".join(json.dumps(d) for d in t[0])
            + ":\n  version "
            + json.dumps(t[1])
            + "\n"
            + ("  dependencies:\n" if t[2] else "")
            + "".join(f"    {json.dumps(k)} {json.dumps(v)}\n" for k, v in t[2].items())
        )
    )
    classic = st.lists(classic_entry, max_size=6).map(
        lambda es: ("# yarn lockfile v1\n\n" + "\n".join(es)).encode()
    )
    berry = st.dictionaries(
        st.one_of(descriptor, hostile_keys, st.just("__metadata")),
        st.one_of(_entry(), json_values),
        max_size=6,
    ).map(lambda d: _yaml({"__metadata": {"version": 6}, **d}))
    return st.one_of(classic, berry)


#: a YAML anchor (``&name``): a document using them is not re-dumped by a structural mutation
_ANCHOR = re.compile(r"(?:^|[\s\[{,:-])&[^\s,\[\]{}]")


@cache
def _seed_structures(parser: str) -> dict[bytes, str]:
    """Each seed's document, parsed once and kept as JSON (reloading that is ~10x cheaper than
    the YAML loader: the generator spent a third of its time there)."""
    out = {}
    for raw in seeds()[parser]:
        data = _parse_structure(parser, raw)
        if data is not None:
            out[raw] = json.dumps(data)
    return out


def _structured(parser: str, raw: bytes) -> Any | None:
    kept = _seed_structures(parser).get(raw)
    return json.loads(kept) if kept is not None else _parse_structure(parser, raw)


def _parse_structure(parser: str, raw: bytes) -> Any | None:
    text = raw.decode("utf-8", "replace")
    if parser in ("pnpm", "yarn") and _ANCHOR.search(text):
        # the loader shares an aliased node, but dumping it again (as JSON when a lone
        # surrogate makes YAML refuse) writes every use out: an alias bomb became 900 MB
        return None
    try:
        if parser in ("package-lock", "npm-ls", "bun"):
            return json.loads(_TRAILING_COMMA.sub(r"\1", text))
        if parser == "pnpm" or (parser == "yarn" and "__metadata" in text):
            return yaml.load(text, Loader=yaml.CBaseLoader)  # noqa: S506 - builds no objects
    except (ValueError, RecursionError, yaml.YAMLError):
        return None
    return None


def _paths(data: Any, prefix: tuple[Any, ...] = (), limit: int = 400) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = [prefix]
    stack: list[tuple[tuple[Any, ...], Any]] = [(prefix, data)]
    while stack and len(out) < limit:
        where, node = stack.pop()
        children = (
            list(node.items())
            if isinstance(node, dict)
            else list(enumerate(node))
            if isinstance(node, list)
            else []
        )
        for key, child in children:
            out.append((*where, key))
            stack.append(((*where, key), child))
    return out


def _set(data: Any, where: tuple[Any, ...], value: Any) -> Any:
    if not where:
        return value
    node = data
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    return data


def _deep(depth: int, kind: str) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


def _dump(parser: str, data: Any, text: str) -> bytes:
    if parser in ("package-lock", "npm-ls", "bun"):
        return json.dumps(data).encode()
    return _yaml(data)


@st.composite
def structural_mutation(draw: st.DrawFn, parser: str, raw: bytes) -> bytes:
    data = _structured(parser, raw)
    if data is None:
        return raw
    where = draw(st.sampled_from(_paths(data)))
    kind = draw(
        st.sampled_from(
            [
                "wrong-type",
                "deep",
                "huge-string",
                "hostile-key",
                "delete",
                "alias",
                "huge-int",
                "surrogate",
            ]
        )
    )
    text = raw.decode("utf-8", "replace")
    if kind == "huge-int":  # over CPython's 4,300-digit conversion limit (json.dumps refuses)
        digits = "9" * draw(st.sampled_from([4301, 5000, 100_000]))
        marked = _dump(parser, _set(data, where, "@@BIG@@"), text).decode()
        return marked.replace('"@@BIG@@"', digits).replace("@@BIG@@", digits).encode()
    if kind == "surrogate":  # JSON: a \ud800 escape; YAML: a "\ud800" double-quoted escape
        lone = draw(st.sampled_from(["\ud800", "\udfff", "\udbff"]))
        marked = _dump(parser, _set(data, where, "@@SUR@@"), text).decode()
        escape = "\\u" + f"{ord(lone):04x}"
        return (
            marked.replace('"@@SUR@@"', f'"x{escape}y"').replace("@@SUR@@", f'"{escape}"').encode()
        )
    if kind == "wrong-type":
        data = _set(data, where, draw(json_values))
    elif kind == "deep":
        depth = draw(st.sampled_from([50, 500, 5000, 50_000]))
        if parser in ("pnpm", "yarn"):  # YAML flow nesting, written by hand
            nested = "[" * depth + "]" * depth
            return (text + f"\nzzz: {nested}\n").encode()
        nested_json = "[" * depth + "]" * depth
        return json.dumps(_set(data, where, "@@DEEP@@")).replace('"@@DEEP@@"', nested_json).encode()
    elif kind == "huge-string":
        size = draw(st.sampled_from([10_000, 1_000_000]))
        data = _set(data, where, "\u202e" + "x" * size)
    elif kind == "hostile-key" and isinstance(data, dict):
        data[draw(hostile_keys)] = draw(st.one_of(_entry(), json_values))
    elif kind == "delete" and where:
        parent = data
        for key in where[:-1]:
            parent = parent[key]
        del parent[where[-1]]
    elif kind == "alias" and parser in ("pnpm", "yarn"):
        # a "billion laughs" expansion: the Base loaders build it lazily by reference
        bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        )
        return (text + "\n" + bomb).encode()
    return _dump(parser, data, text)


def _duplicate_keys(parser: str, raw: bytes, draw: st.DrawFn) -> bytes:
    """Repeat one line holding a key (JSON ``"k": v,`` or YAML ``k: v``) right after itself,
    or with another value."""
    lines = raw.split(b"\n")
    keyed = [i for i, line in enumerate(lines) if b":" in line]
    if not keyed:
        return raw
    i = draw(st.sampled_from(keyed))
    line = lines[i]
    if draw(st.booleans()):
        key = line.split(b":", 1)[0]
        other = b'"0.0.0-dup",' if parser in ("package-lock", "npm-ls", "bun") else b" dup"
        line = key + b": " + other
    return b"\n".join([*lines[: i + 1], line, *lines[i + 1 :]])


@st.composite
def byte_mutation(draw: st.DrawFn, parser: str, raw: bytes) -> bytes:
    kind = draw(
        st.sampled_from(
            ["truncate", "insert", "flip", "delete-line", "duplicate-line", "swap-lines", "dupkey"]
        )
    )
    if not raw:
        return raw
    at = draw(st.integers(min_value=0, max_value=len(raw)))
    if kind == "truncate":
        return raw[:at]
    if kind == "insert":
        junk = draw(
            st.one_of(
                st.sampled_from(
                    [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\x1b[31m", b"\r", b"\t", b"\\"]
                ),
                st.binary(max_size=8),
                st.text(max_size=8).map(str.encode),
                st.sampled_from([b"{", b"}", b"[", b"]", b'"', b",", b":", b"- ", b"  ", b"#"]),
            )
        )
        return raw[:at] + junk + raw[at:]
    if kind == "flip":
        if at >= len(raw):
            return raw
        return raw[:at] + bytes([raw[at] ^ draw(st.integers(1, 255))]) + raw[at + 1 :]
    if kind == "dupkey":
        return _duplicate_keys(parser, raw, draw)
    lines = raw.split(b"\n")
    i = draw(st.integers(min_value=0, max_value=len(lines) - 1))
    if kind == "delete-line":
        del lines[i]
    elif kind == "duplicate-line":
        lines.insert(i, lines[i])
    else:
        j = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines)


#: an input this big gets no further mutation: one huge string, number or nesting per example
#: (stacked, they doubled: 2 MB inputs, and 4 GB ones that the 256 MiB input budget refused)
GROWN = 256 * 1024
#: the most the generator ever makes: one 1 MB string in a seed-sized document; anything
#: bigger is cut there (a truncated input, itself a mutation)
MAX_INPUT = 1024 * 1024 + 2 * GROWN


@st.composite
def mutated_seed(draw: st.DrawFn, parser: str) -> bytes:
    raw = draw(st.sampled_from(seeds()[parser]))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        if len(raw) > GROWN:
            break
        if draw(st.booleans()):
            raw = draw(structural_mutation(parser, raw))
        else:
            raw = draw(byte_mutation(parser, raw))
    return raw[:MAX_INPUT]


def inputs(parser: str) -> st.SearchStrategy[bytes]:
    """Everything the fuzzer feeds ``parser``: mutated corpus files (mostly), random
    structures of the format, and random bytes."""
    return st.one_of(
        mutated_seed(parser),
        mutated_seed(parser),
        mutated_seed(parser),
        _random_structure(parser),
        st.binary(max_size=200),
        json_values.map(lambda v: json.dumps(v).encode()),
    )


# -- the suite's short run -----------------------------------------------------------------------


def _property(parser: str, examples: int, folder: Path) -> Callable[[], None]:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(raw=inputs(parser))
    def prop(raw: bytes) -> None:
        check(parser, raw, folder)

    return prop


@pytest.mark.parametrize("parser", PARSERS)
def test_parser_is_total(parser: str, tmp_path: Path) -> None:
    # one-time costs (lazy imports, the knowledge base, compiled patterns) are paid before the
    # per-example budget starts counting: the budget is for the work an input causes, and a
    # first example that paid them failed once and passed on replay (a FlakyFailure in CI)
    for raw in seeds()[parser]:
        check(parser, raw, tmp_path, budget=False)
    _property(parser, int(os.environ.get("DEPAUDIT_FUZZ_EXAMPLES", "120")), tmp_path)()


def test_an_alias_bomb_is_never_written_out_by_a_later_mutation() -> None:
    """Dumping a loaded alias bomb again (as JSON, when a lone surrogate made YAML refuse)
    wrote every use out: a 900 MB input."""
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    for parser, head in (("pnpm", "lockfileVersion: '9.0'\n"), ("yarn", "__metadata:\n")):
        assert _structured(parser, (head + bomb).encode()) is None
    assert _structured("pnpm", b"lockfileVersion: '9.0'\npackages: {a: b}\n") is not None


@pytest.mark.parametrize("parser", PARSERS)
def test_every_seed_parses_unmutated(parser: str, tmp_path: Path) -> None:
    """The seeds are real inputs: (almost) all of them must give a tree, so the mutations
    start from files that reach deep into each parser."""
    outcomes = [check(parser, raw, tmp_path) for raw in seeds()[parser]]
    assert outcomes.count("tree") >= max(1, len(outcomes) * 2 // 3), outcomes


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("depth", [1000, 100_000])
def test_deep_nesting_is_an_input_error(parser: str, depth: int, tmp_path: Path) -> None:
    nested = "[" * depth + "]" * depth
    if parser in ("package-lock", "bun"):
        raw = ('{"lockfileVersion": 3, "packages": ' + nested + "}").encode()
    elif parser == "npm-ls":
        raw = ('{"name": "x", "dependencies": ' + nested + "}").encode()
    elif parser == "pnpm":
        raw = f"lockfileVersion: '9.0'\npackages: {nested}\n".encode()
    else:
        raw = f'__metadata:\n  version: 6\n"a@npm:1": {nested}\n'.encode()
    assert check(parser, raw, tmp_path) == "input-error"


@pytest.mark.parametrize("parser", ["pnpm", "yarn"])
def test_yaml_alias_bomb_and_python_tags_are_refused_or_harmless(
    parser: str, tmp_path: Path
) -> None:
    head = "lockfileVersion: '9.0'\n" if parser == "pnpm" else "__metadata:\n  version: 6\n"
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    assert check(parser, (head + bomb).encode(), tmp_path) in ("tree", "input-error")
    tag = head + "packages: !!python/object/apply:os.system ['echo pwned > pwned']\n"
    assert check(parser, tag.encode(), tmp_path) in ("tree", "input-error")
    assert not (tmp_path / "pwned").exists()
    assert not Path("pwned").exists()


#: inputs the fuzzers found that once broke a parser (kept as regressions)
FOUND = [
    pytest.param("pnpm", b"\x01lockfileVersion: '9.0'\n", "not valid YAML", id="pnpm-control-char"),
    pytest.param(
        "yarn",
        b'__metadata:\n  version: 8\n\n"x@workspace:.":\n  version: 0.0.0-use.local\n'
        b"  resolution: ",
        "has no resolution",
        id="yarn-berry-cut-after-resolution",
    ),
]


@pytest.mark.parametrize(("parser", "raw", "said"), FOUND)
def test_found_by_fuzzing(parser: str, raw: bytes, said: str, tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        run_parser(parser, raw, tmp_path)
    assert said in caught.value.message
    assert "\n" not in caught.value.message


def test_found_by_fuzzing_npm_ls_entry_without_a_name(tmp_path: Path) -> None:
    raw = b'{"name": "app", "dependencies": {"": {"version": "1.0.0"}, "a": {"version": "1.0.0"}}}'
    tree = run_parser("npm-ls", raw, tmp_path)
    assert [p.name for p in tree.packages] == ["a"]
    assert [s.reason for s in tree.skipped] == ["npm ls entry has no name"]


def test_found_by_fuzzing_yarn_tab_between_descriptors(tmp_path: Path) -> None:
    """``a@1, <TAB>a@1.0.0:`` once looped forever in the classic header reader."""
    raw = b'# yarn lockfile v1\n\nbytes@1, \tbytes@1.0.0:\n  version "1.0.0"\n'
    tree = run_parser("yarn", raw, tmp_path)
    assert [(p.name, p.version) for p in tree.packages] == [("bytes", "1.0.0")]


# -- hostile inputs of issue 19 (each made here by a script; budgets as in `within_budget`) ------

_DIGITS = "9" * 5000  # over CPython's 4,300-digit conversion limit


@pytest.mark.parametrize(
    ("parser", "raw"),
    [
        ("package-lock", f'{{"lockfileVersion": 3, "packages": {{"": {{"x": {_DIGITS}}}}}}}'),
        ("bun", f'{{"lockfileVersion": {_DIGITS},}}'),
        ("npm-ls", f'{{"name": "a", "version": "1.0.0", "x": {_DIGITS}}}'),
    ],
)
def test_integer_over_the_digit_limit_is_an_input_error(
    parser: str, raw: str, tmp_path: Path
) -> None:
    with pytest.raises(InputError) as caught:
        run_parser(parser, raw.encode(), tmp_path)
    assert "more than 4300 digits" in caught.value.message


#: unterminated strings full of escaped quotes: quadratic regular expressions took minutes
QUADRATIC = {
    "yarn": lambda n: b'# yarn lockfile v1\n\na "' + b'\\"' * n + b":\n",
    "bun": lambda n: b'{"lockfileVersion": 1, "x": "' + b'\\"' * n,
    "npm-ls": lambda n: (
        b'{"name": "a", "dependencies": {"b": {"version": "1.0.0", "invalid": "'
        + b'\\\\\\" from ' * n
        + b'"}}}'
    ),
}


@pytest.mark.parametrize("parser", sorted(QUADRATIC))
def test_unterminated_escaped_strings_are_read_in_linear_time(parser: str, tmp_path: Path) -> None:
    raw = QUADRATIC[parser](40_000)  # 80-400 KB: minutes when quadratic
    with within_budget():
        check(parser, raw, tmp_path)


def test_yaml_aliases_are_refused_before_any_reader_expands_them(tmp_path: Path) -> None:
    entry = "  /a@1.0.0: &p\n    resolution: {integrity: sha512-x}\n"
    uses = "".join(f"  /b{i}@1.0.0: *p\n" for i in range(3))
    raw = f"lockfileVersion: '5.4'\npackages:\n{entry}{uses}".encode()
    with pytest.raises(InputError) as caught:
        run_parser("pnpm", raw, tmp_path)
    assert "uses YAML aliases" in caught.value.message
    merge = "lockfileVersion: '9.0'\nx: &x {a: b}\nsnapshots:\n  a@1.0.0:\n    <<: *x\n"
    assert check("pnpm", merge.encode(), tmp_path) == "input-error"
    # a billion laughs is refused at once, whichever reader
    bomb = "a: &a [x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    with within_budget():
        for parser, head in (
            ("pnpm", "lockfileVersion: '9.0'\n"),
            ("yarn", "__metadata:\n  version: 8\n"),
        ):
            assert check(parser, (head + bomb).encode(), tmp_path) == "input-error"


_BERRY_ENTRY = '"a@npm:1.0.0":\n  version: 1.0.0\n  resolution: "a@npm:1.0.0"\n'


@pytest.mark.parametrize("version", ["99", "0", "11", "1e3", _DIGITS, "[8]"])
def test_yarn_berry_unknown_metadata_version_is_refused(version: str, tmp_path: Path) -> None:
    raw = f"__metadata:\n  version: {version}\n\n{_BERRY_ENTRY}"
    with pytest.raises(InputError) as caught:
        run_parser("yarn", raw.encode(), tmp_path)
    assert "__metadata.version" in caught.value.message and "not supported" in caught.value.message
    assert len(caught.value.message) < 200


@pytest.mark.parametrize("version", ["4", "6", "8", "10"])
def test_yarn_berry_known_metadata_versions_are_read(version: str, tmp_path: Path) -> None:
    raw = f"__metadata:\n  version: {version}\n\n{_BERRY_ENTRY}"
    assert [p.name for p in run_parser("yarn", raw.encode(), tmp_path).packages] == ["a"]


@pytest.mark.parametrize(
    ("parser", "raw"),
    [
        (
            "package-lock",
            '{"lockfileVersion": 3, "packages": {"": {}, '
            '"node_modules/a\\ud800": {"version": "1.0.0\\udc00"}}}',
        ),
        ("npm-ls", '{"name": "r", "dependencies": {"a\\ud800": {"version": "1.0.0"}}}'),
        (
            "bun",
            '{"lockfileVersion": 1, "workspaces": {"": {"dependencies": {"a\\ud800": "1"}}}, '
            '"packages": {"a\\ud800": ["a\\ud800@1.0.0", "", {}, "x"]}}',
        ),
        ("yarn", '# yarn lockfile v1\n\n"a\\ud800@1":\n  version "1.0.0"\n'),
        (
            "pnpm",
            "lockfileVersion: '9.0'\npackages:\n"
            '  "a\\ud800@1.0.0":\n    resolution: {integrity: x}\n',
        ),
    ],
)
def test_lone_surrogates_become_replacement_characters(
    parser: str, raw: str, tmp_path: Path
) -> None:
    if parser == "pnpm":  # libyaml refuses the escape; the pure-Python loader decodes it
        with pytest.raises(InputError):
            run_parser(parser, raw.encode(), tmp_path)
        data = load_yaml(raw, "x", what="pnpm-lock.yaml", pure=True)
        assert list(data["packages"]) == ["a\ufffd@1.0.0"]
        return
    tree = run_parser(parser, raw.encode(), tmp_path)
    texts = [t for p in tree.packages for t in (p.name, p.version, *p.path)]
    assert texts and all(not _SURROGATE.search(t) for t in texts)
    assert any("\ufffd" in t for t in texts)
    assert check(parser, raw.encode(), tmp_path) == "tree"  # every format renders it


@pytest.mark.parametrize("parser", ["npm-ls", "package-lock"])
def test_megabyte_range_is_not_parsed_by_node_semver(parser: str, tmp_path: Path) -> None:
    """Found by the widened fuzzer: a 1 MB dependency range took node-semver 5 s of CPU
    (65 s under the memory tracer). Ranges over 1,024 characters are not checked."""
    spec = "\u202e" + "x" * 1_000_000
    if parser == "npm-ls":
        doc = {
            "name": "app",
            "version": "1.0.0",
            "_dependencies": {"debug": spec},
            "dependencies": {"debug": {"version": "4.4.3"}},
        }
    else:
        doc = {
            "lockfileVersion": 3,
            "packages": {
                "": {"dependencies": {"debug": spec}},
                "node_modules/debug": {"version": "4.4.3"},
            },
        }
    with within_budget():
        assert check(parser, json.dumps(doc).encode(), tmp_path, budget=False) == "tree"


def test_megabyte_version_renders_in_every_format_within_budget(tmp_path: Path) -> None:
    """Found by the long fuzz run: a 1 MB version string shown in two table columns made the
    table's width fitting give way one character per round (5 s of CPU for one table)."""
    version = "\u202e" + "x" * 1_000_000
    doc = {
        "lockfileVersion": 3,
        "packages": {
            "": {"dependencies": {"a": "^1.0.0"}},
            "node_modules/a": {"version": version},
        },
    }
    with within_budget():
        assert check("package-lock", json.dumps(doc).encode(), tmp_path, budget=False) == "tree"


def test_a_megabyte_dependent_name_is_not_repeated_in_every_problem(tmp_path: Path) -> None:
    """Found by the long fuzz run (a 1 MB yarn berry lock): the 1 MB name of an entry was
    written into the detail of each of its 41 missing dependencies, a 43 MB JSON report
    (133 MB of memory). Names in problem details are cut (text.shown); fields keep them.
    (Not fixed: a 1 MB name in the *path* of each of its dependencies' problems, which JSON
    carries whole.)"""
    name = "\u202e" + "x" * 1_000_000
    deps = {f"d{i}": "^1.0.0" for i in range(41)}
    entry = {"version": "0.0.0-use.local", "resolution": name, "dependencies": deps}
    raw = _yaml({"__metadata": {"version": 6}, "app@workspace:.": entry})
    with within_budget():
        tree = run_parser("yarn", raw, tmp_path)
        texts = render_all(tree)
    assert len(texts["json"]) < 4 * len(raw)
    report = json.loads(texts["json"])
    missing = [p for p in report["problems"] if p["kind"] == "missing"]
    assert len(missing) == 41
    assert all(len(p["detail"]) < 400 for p in missing)
