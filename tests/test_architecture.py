"""The import graph of src/depaudit (read with ast, nothing imported): no cycle, and no import
against the pipeline. The stages and the reasons are in docs/ARCHITECTURE.md; a new module
must be given its stage in STAGES (by its longest matching prefix)."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "depaudit"

#: stage rank: a module may import modules of its own stage or of a lower one
BASE, SOURCES, TREE, APP, SERVICES, SCORING, FORMATS, ROOT, COMMANDS = range(9)
STAGE_NAMES = {
    BASE: "base",
    SOURCES: "sources",
    TREE: "tree",
    APP: "app analysis",
    SERVICES: "services",
    SCORING: "scoring",
    FORMATS: "formats",
    ROOT: "composition root",
    COMMANDS: "commands",
}

#: module (or package prefix) -> stage; the longest matching prefix wins
STAGES: dict[str, int] = {
    # the floor everyone stands on: models, errors, text, settings, cache, HTTP, GitHub client
    "depaudit": BASE,
    "depaudit.errors": BASE,
    "depaudit.text": BASE,
    "depaudit.models": BASE,
    "depaudit.overrides": BASE,
    "depaudit.versions": BASE,
    "depaudit.fastsemver": BASE,
    "depaudit.ranges": BASE,
    "depaudit.classify": BASE,
    "depaudit.bundled": BASE,
    "depaudit.config": BASE,
    "depaudit.cache": BASE,
    "depaudit.http": BASE,
    "depaudit.http_bulk": BASE,
    "depaudit.npmrc": BASE,
    "depaudit.github_client": BASE,
    "depaudit.progress": BASE,
    "depaudit.gcpause": BASE,
    "depaudit.output": BASE,
    # 1. reading the inputs
    "depaudit.sources": SOURCES,
    # 2. the tree stage: problems of the tree; the loader composes sources and drift
    "depaudit.tree": TREE,
    "depaudit.sources.loader": TREE,
    # 3. reading the app itself (its code, its runtime, its heap), beside the tree
    "depaudit.js": APP,
    "depaudit.code": APP,
    "depaudit.reach": APP,
    "depaudit.heap": APP,
    # 4. what the world knows about each package
    "depaudit.services": SERVICES,
    # 5. signals -> scores; the ignore file re-scores
    "depaudit.scoring": SCORING,
    "depaudit.ignore": SCORING,
    # 6. text out
    "depaudit.formats": FORMATS,
    "depaudit.diff": FORMATS,
    "depaudit.code.render": FORMATS,
    "depaudit.heap.render": FORMATS,
    # 7. opening, wiring and closing the parts of a run
    "depaudit.audit": ROOT,
    "depaudit.app": ROOT,
    "depaudit.options": ROOT,
    # 8. the user's entry points
    "depaudit.cli": COMMANDS,
    "depaudit.__main__": COMMANDS,
    "depaudit.github": COMMANDS,
    "depaudit.code.command": COMMANDS,
    "depaudit.heap.command": COMMANDS,
}


def module_files() -> dict[str, Path]:
    found = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    """depaudit modules imported anywhere in the file (also inside functions and
    TYPE_CHECKING blocks: a lazy import still couples the stages)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            for alias in node.names:
                full = f"{name}.{alias.name}"
                out.add(full if full in known else name)
    return {m for m in out if m in known and m != module}


def stage_of(module: str) -> int | None:
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in STAGES:
            return STAGES[prefix]
    return None


@cache
def graph() -> dict[str, set[str]]:
    files = module_files()
    known = set(files)
    return {m: imports_of(m, p, known) for m, p in files.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_every_module_has_a_stage() -> None:
    missing = sorted(m for m in module_files() if stage_of(m) is None)
    assert missing == [], f"give these modules a stage in STAGES: {missing}"


def test_no_import_runs_against_the_pipeline() -> None:
    wrong = []
    for module, targets in sorted(graph().items()):
        mine = stage_of(module)
        for target in sorted(targets):
            theirs = stage_of(target)
            if mine is not None and theirs is not None and theirs > mine:
                wrong.append(
                    f"{module} ({STAGE_NAMES[mine]}) imports {target} ({STAGE_NAMES[theirs]})"
                )
    assert wrong == [], "imports against the pipeline:\n" + "\n".join(wrong)


def test_no_import_cycle() -> None:
    assert cycles(graph()) == []


def test_the_checks_can_fail() -> None:
    """The cycle finder and the stage order catch what they must."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    assert stage_of("depaudit.sources.loader") == TREE
    assert stage_of("depaudit.sources.yarn_lock") == SOURCES
    assert stage_of("depaudit.code.render") == FORMATS
    assert stage_of("elsewhere") is None


#: calls that read the file system: a format renders the Report and nothing else
FILE_READS = frozenset(
    {"open", "read_text", "read_bytes", "iterdir", "glob", "rglob", "scandir", "listdir", "walk"}
    # the bundled data (scoring weights, knowledge base) comes with the Report, too
    | {"bundled", "load_bundled_yaml", "read_bundled", "load_knowledge_base"}
)
#: modules whose only use is reading files or running programs
FILE_MODULES = frozenset({"io", "mmap", "fileinput", "linecache", "subprocess", "tokenize"})


def file_reads(source: str) -> list[str]:
    """What in ``source`` reads a file: ``open(...)``, ``x.open(...)``, ``path.read_text()``
    and the like, an import of a module that exists to read files, an import of a reader."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in FILE_READS:
                found.append(f"line {node.lineno}: {name}()")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names.append(node.module)
            for name in names:
                top = name.split(".")[0]
                if top in FILE_MODULES or name.startswith(("depaudit.sources", "depaudit.bundled")):
                    found.append(f"line {node.lineno}: import {name}")
    return found


def test_formats_read_no_file() -> None:
    """Formats are the last stage: they render the Report (SARIF's lockfile lines come with
    the tree, found by depaudit.sources.lines) and read nothing, not even a lockfile."""
    wrong = {
        module: reads
        for module, path in sorted(module_files().items())
        if stage_of(module) == FORMATS and (reads := file_reads(path.read_text(encoding="utf-8")))
    }
    assert wrong == {}, f"formats that read files: {wrong}"


def test_the_file_read_check_can_fail() -> None:
    assert file_reads("open('x')\nPath(p).read_text()\nwith p.open() as f: pass") == [
        "line 1: open()",
        "line 2: read_text()",
        "line 3: open()",
    ]
    assert file_reads("import subprocess\nfrom depaudit.sources.lines import read_lines") == [
        "line 1: import subprocess",
        "line 2: import depaudit.sources.lines",
    ]
    assert sorted(file_reads("w = Weights.bundled()\nfrom depaudit.bundled import x")) == [
        "line 1: bundled()",
        "line 2: import depaudit.bundled",
    ]
    assert file_reads("text = json.dumps(report)\nname = PurePosixPath(p).name") == []


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("depaudit.services.github_repo", "depaudit.github"),
        ("depaudit.github.commands", "depaudit.cli"),
        ("depaudit.audit", "depaudit.cli"),
    ],
)
def test_known_past_mistakes_stay_fixed(module: str, forbidden: str) -> None:
    assert not any(t == forbidden or t.startswith(forbidden + ".") for t in graph()[module])


#: "no module over ~400 lines without a reason written at its top" (issue 14)
LONG_MODULE = 410


def long_modules_without_reason(files: dict[str, Path]) -> list[str]:
    """Modules over :data:`LONG_MODULE` lines whose docstring does not say why."""
    wrong = []
    for module, path in sorted(files.items()):
        source = path.read_text(encoding="utf-8")
        if source.count("\n") > LONG_MODULE:
            doc = ast.get_docstring(ast.parse(source)) or ""
            if "Why this module is" not in doc:
                wrong.append(f"{module} ({source.count(chr(10))} lines)")
    return wrong


def test_long_modules_say_why_at_their_top(tmp_path: Path) -> None:
    assert long_modules_without_reason(module_files()) == []
    long = tmp_path / "long.py"
    long.write_text('"""A module."""\n' + "x = 1\n" * (LONG_MODULE + 1))
    assert long_modules_without_reason({"depaudit.long": long}) == [
        f"depaudit.long ({LONG_MODULE + 2} lines)"
    ]
