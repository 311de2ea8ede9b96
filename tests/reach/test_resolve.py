"""Node's resolution algorithm: files, directories, exports maps, imports maps, symlinks."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from depaudit.reach.resolve import (
    IMPORT_CONDITIONS,
    REQUIRE_CONDITIONS,
    Resolver,
    match_subpath,
)


def _write(path: Path, text: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _pkg(folder: Path, **manifest: object) -> None:
    _write(folder / "package.json", json.dumps(manifest))


def test_relative_extensions_index_and_main(tmp_path: Path) -> None:
    _write(tmp_path / "a.js")
    _write(tmp_path / "data.json")
    _write(tmp_path / "dir" / "index.js")
    _pkg(tmp_path / "lib", main="./main")
    _write(tmp_path / "lib" / "main.js")
    r = Resolver()
    d = str(tmp_path)
    assert r.resolve("./a", d, REQUIRE_CONDITIONS).path == str(tmp_path / "a.js")  # type: ignore[union-attr]
    assert r.resolve("./data", d, REQUIRE_CONDITIONS).path == str(tmp_path / "data.json")  # type: ignore[union-attr]
    assert r.resolve("./dir", d, REQUIRE_CONDITIONS).path == str(tmp_path / "dir" / "index.js")  # type: ignore[union-attr]
    assert r.resolve("./lib", d, REQUIRE_CONDITIONS).path == str(tmp_path / "lib" / "main.js")  # type: ignore[union-attr]
    assert r.resolve("./missing", d, REQUIRE_CONDITIONS) is None
    assert r.resolve("fs", d, REQUIRE_CONDITIONS).builtin  # type: ignore[union-attr]
    assert r.resolve("node:test", d, REQUIRE_CONDITIONS).builtin  # type: ignore[union-attr]
    assert r.resolve("test", d, REQUIRE_CONDITIONS) is None  # an npm package without node:


def test_node_modules_lookup_walks_up_and_follows_symlinks(tmp_path: Path) -> None:
    real = tmp_path / "node_modules" / ".pnpm" / "x@1.0.0" / "node_modules"
    _pkg(real / "x", name="x", main="x.js")
    _write(real / "x" / "x.js")
    _pkg(real / "y", name="y")
    _write(real / "y" / "index.js")
    (tmp_path / "node_modules" / "x").symlink_to(real / "x")
    _write(tmp_path / "src" / "deep" / "f.js")
    r = Resolver()
    found = r.resolve("x", str(tmp_path / "src" / "deep"), REQUIRE_CONDITIONS)
    assert found is not None and found.path == str((real / "x" / "x.js").resolve())
    # from the real folder of x, its sibling y in the .pnpm store resolves
    sibling = r.resolve("y", os.path.dirname(found.path), REQUIRE_CONDITIONS)
    assert sibling is not None and sibling.path == str((real / "y" / "index.js").resolve())


def test_exports_conditions_patterns_and_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "node_modules" / "@s" / "p"
    _pkg(
        pkg,
        name="@s/p",
        exports={
            ".": [{"import": "./esm.mjs", "require": "./cjs.js"}, "./cjs.js"],
            "./features/*.js": {"node": "./src/*.js"},
            "./package.json": "./package.json",
        },
        imports={"#dep": {"node": "dep-pkg", "default": "./shim.js"}, "#int/*": "./int/*.js"},
    )
    for f in ("esm.mjs", "cjs.js", "src/a.js", "int/z.js"):
        _write(pkg / f)
    _pkg(tmp_path / "node_modules" / "dep-pkg", name="dep-pkg")
    _write(tmp_path / "node_modules" / "dep-pkg" / "index.js")
    r = Resolver()
    d = str(tmp_path)
    assert r.resolve("@s/p", d, IMPORT_CONDITIONS).path.endswith("esm.mjs")  # type: ignore[union-attr]
    assert r.resolve("@s/p", d, REQUIRE_CONDITIONS).path.endswith("cjs.js")  # type: ignore[union-attr]
    assert r.resolve("@s/p/features/a.js", d, REQUIRE_CONDITIONS).path.endswith("src/a.js")  # type: ignore[union-attr]
    assert r.resolve("@s/p/cjs.js", d, REQUIRE_CONDITIONS) is None  # not exported
    inside = str(pkg)
    assert r.resolve("#dep", inside, REQUIRE_CONDITIONS).path.endswith("dep-pkg/index.js")  # type: ignore[union-attr]
    assert r.resolve("#int/z", inside, REQUIRE_CONDITIONS).path.endswith("int/z.js")  # type: ignore[union-attr]
    # self-reference
    assert r.resolve("@s/p", inside, REQUIRE_CONDITIONS).path.endswith("cjs.js")  # type: ignore[union-attr]


def test_typescript_sources_of_the_app_only(tmp_path: Path) -> None:
    _write(tmp_path / "src" / "a.ts")
    _write(tmp_path / "node_modules" / "m" / "b.ts")
    r = Resolver(typescript_under=(str(tmp_path),))
    src = str(tmp_path / "src")
    assert r.resolve("./a.js", src, IMPORT_CONDITIONS).path.endswith("a.ts")  # type: ignore[union-attr]
    assert r.resolve("./a", src, IMPORT_CONDITIONS).path.endswith("a.ts")  # type: ignore[union-attr]
    assert r.resolve("m/b", str(tmp_path), REQUIRE_CONDITIONS) is None


@given(st.text(alphabet="ab/.-*", max_size=12), st.text(alphabet="ab/.-", max_size=12))
def test_pattern_match_substitutes_what_the_star_matched(key_tail: str, rest: str) -> None:
    mapping = {"./" + key_tail + "*": "./out/*"} if "*" not in key_tail else {}
    found = match_subpath(mapping, "./" + key_tail + rest)
    if mapping and rest:
        assert found == ("./out/*", rest)
    elif not mapping:
        assert found is None


# -- realpath, one name at a time --------------------------------------------------------------

_NAME = st.sampled_from(["a", "b", "node_modules", "x"])
_TARGET = st.sampled_from(["a", "b", "..", "../a", "a/b", "missing", ".", "ROOT", "ROOT/b"])


@example(  # a loop, then ".." past it: os.path.realpath keeps the rest as it is
    dirs=[], links=[(["a"], "a"), (["b"], "a")], queries=[["a", "..", "b"], ["b", "x"]]
)
@example(  # a loop above the root, made through a link to ".."
    dirs=[],
    links=[(["x"], ".."), (["x", "a"], "a/b")],
    queries=[["..", "a", "", "a"], ["x", "a", "a"], ["x", "a"]],
)
@given(
    dirs=st.lists(st.lists(_NAME, min_size=1, max_size=3), max_size=6),
    links=st.lists(st.tuples(st.lists(_NAME, min_size=1, max_size=3), _TARGET), max_size=5),
    queries=st.lists(
        st.lists(st.one_of(_NAME, st.sampled_from([".", "..", "", "nope"])), max_size=6),
        min_size=1,
        max_size=8,
    ),
)
def test_realpath_is_the_os_realpath_whatever_the_links(
    dirs: list[list[str]], links: list[tuple[list[str], str]], queries: list[list[str]]
) -> None:
    """Folders, symlinks (relative, absolute, up, dangling, to themselves, in loops) and paths
    with ``.``, ``..``, empty and missing names: the resolver's memoised, one-name-at-a-time
    realpath gives what ``os.path.realpath`` gives, asked in any order."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        # deep inside the temporary folder: a link to ".." (or through one) makes folders and
        # links above the root, and they must stay inside it (they were once made in /tmp
        # itself, where the next runs found them)
        root = os.path.join(os.path.realpath(tmp), *["up"] * 8)
        os.makedirs(root)
        for parts in dirs:
            os.makedirs(os.path.join(root, *parts), exist_ok=True)
        for parts, target in links:
            where = os.path.join(root, *parts)
            try:  # (a folder on the way may be a link made before: then no link here)
                os.makedirs(os.path.dirname(where), exist_ok=True)
                os.symlink(target.replace("ROOT", root), where)
            except OSError:
                continue
        resolver = Resolver()
        for query in queries:
            path = root + "/" + "/".join(query)
            assert resolver.realpath(path) == os.path.realpath(path), path


def test_realpath_looks_at_each_name_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The files of one package share their folders: each name costs one ``lstat``, not one
    per file below it (``os.path.realpath`` makes one for every name, every time)."""
    folder = tmp_path / "app" / "node_modules" / "pkg" / "lib"
    files = [folder / f"f{i}.js" for i in range(50)]
    for file in files:
        _write(file)
    real_lstat = os.lstat
    looked: list[object] = []

    def counting(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        looked.append(path)
        return real_lstat(path, *args, **kwargs)

    resolver = Resolver()
    resolver.realpath(str(tmp_path))  # the test's own folder, resolved once
    monkeypatch.setattr(os, "lstat", counting)
    got = [resolver.realpath(str(file)) for file in files]
    monkeypatch.undo()
    assert got == [os.path.realpath(file) for file in files]
    assert len(looked) <= len(files) + 4  # app, node_modules, pkg, lib: once each
