"""Reachability on miniature installed trees: statuses by the chain, never by the name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from miniature import build, load

from depaudit.models import Runtime
from depaudit.reach.analysis import _outer_node_modules, analyse, package_dir
from depaudit.reach.imports import FactCache


def _pkg(version: str, files: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"version": version, "files": files or {"index.js": "module.exports = 1;\n"}, **extra}


CHAT: dict[str, Any] = {
    "package": {
        "main": "server.js",
        "dependencies": {"sqlite3": "^5", "express": "^4", "rimraf": "^2", "request": "^2"},
        "devDependencies": {"mocha": "^6", "@types/node": "^20"},
    },
    "files": {
        "server.js": "const express = require('express');\n"
        "const db = require('./lib/db');\n"
        "function later() { return require('request'); }\n",
        "lib/db.js": "module.exports = require('sqlite3');\n",
    },
    "packages": {
        "node_modules/express": _pkg(
            "4.0.0", {"index.js": "require('debug');"}, dependencies={"debug": "^2"}
        ),
        "node_modules/debug": _pkg("2.6.9"),
        "node_modules/sqlite3": _pkg(
            "5.1.7",
            {"lib/sqlite3.js": "const pre = require('node-pre-gyp');"},
            main="lib/sqlite3.js",
            dependencies={"node-pre-gyp": "^0.11", "node-gyp": "^8"},
        ),
        "node_modules/node-pre-gyp": _pkg(
            "0.11.0",
            {
                "index.js": "const log = require('npmlog');\n"
                "exports.find = function(){ require('rimraf') }"
            },
            dependencies={"npmlog": "^4", "rimraf": "^2"},
        ),
        "node_modules/npmlog": _pkg("4.1.2"),
        "node_modules/node-gyp": _pkg(
            "8.4.1",
            {"index.js": "require('npmlog'); require('tar')"},
            dependencies={"npmlog": "^6", "tar": "^6"},
        ),
        "node_modules/node-gyp/node_modules/npmlog": _pkg("6.0.2"),
        "node_modules/tar": _pkg("6.2.1"),
        "node_modules/rimraf": _pkg(
            "2.7.1", {"index.js": "function rm() { require('glob') }"}, dependencies={"glob": "^7"}
        ),
        "node_modules/glob": _pkg(
            "7.2.3", {"index.js": "require('inflight')"}, dependencies={"inflight": "^1"}
        ),
        "node_modules/inflight": _pkg("1.0.6"),
        "node_modules/request": _pkg("2.88.2"),
        "node_modules/mocha": _pkg("6.2.3", dev=True),
        "node_modules/@types/node": _pkg("20.1.0", {"index.d.ts": "export {};"}, dev=True),
    },
}


def _statuses(root: Path, **kwargs: Any) -> dict[str, tuple[Runtime, str]]:
    result = analyse(load(root), root, **kwargs)
    return {loc: (r.status, r.reason) for loc, r in result.placements.items()}


def test_statuses_follow_the_chain(tmp_path: Path) -> None:
    root = build(tmp_path / "app", CHAT)
    got = _statuses(root)
    assert got["node_modules/express"][0] is Runtime.LOADED
    assert got["node_modules/debug"][0] is Runtime.LOADED
    assert got["node_modules/sqlite3"][0] is Runtime.LOADED
    # npmlog 4 runs (node-pre-gyp loads it at runtime); node-gyp's own npmlog 6 never does
    assert got["node_modules/npmlog"][0] is Runtime.LOADED
    assert got["node_modules/node-gyp/node_modules/npmlog"] == (
        Runtime.NOT_LOADED,
        "only reached through node-gyp, which sqlite3 never requires",
    )
    assert got["node_modules/node-gyp"] == (
        Runtime.NOT_LOADED,
        "sqlite3 never requires it (install-time or unused)",
    )
    # rimraf is required inside a function: every chain to inflight is lazy
    assert got["node_modules/rimraf"][0] is Runtime.LAZY
    assert got["node_modules/inflight"][0] is Runtime.LAZY
    assert got["node_modules/request"][0] is Runtime.LAZY
    assert got["node_modules/mocha"] == (
        Runtime.NOT_LOADED,
        "dev only (not installed in production)",
    )
    assert got["node_modules/@types/node"][0] is Runtime.NOT_LOADED


def test_chain_names_each_package_on_the_way(tmp_path: Path) -> None:
    root = build(tmp_path / "app", CHAT)
    result = analyse(load(root), root)
    assert result.placements["node_modules/npmlog"].chain == (
        "server.js",
        "lib/db.js",
        "sqlite3/lib/sqlite3.js",
        "node-pre-gyp/index.js",
        "npmlog/index.js",
    )
    assert any("package.json main" in e for e in result.entries)


def test_no_entry_point_is_unknown_not_reassurance(tmp_path: Path) -> None:
    spec = {**CHAT, "package": {**CHAT["package"]}, "files": {"lib/db.js": "require('sqlite3')"}}
    del spec["package"]["main"]
    root = build(tmp_path / "app", spec)
    got = _statuses(root)
    assert got["node_modules/express"][0] is Runtime.UNKNOWN
    assert got["node_modules/node-gyp"][0] is Runtime.UNKNOWN
    assert got["node_modules/mocha"][0] is Runtime.NOT_LOADED  # dev only is evidence


def test_given_entry_and_computed_require(tmp_path: Path) -> None:
    spec = {**CHAT, "package": {**CHAT["package"]}}
    del spec["package"]["main"]
    spec["files"] = {**CHAT["files"], "bin/www": "", "start.js": "require(process.env.APP)"}
    root = build(tmp_path / "app", spec)
    got = _statuses(root, entries=["start.js"])
    # the app requires a computed path: what it does not import is unknown, not not-loaded
    assert got["node_modules/express"][0] is Runtime.UNKNOWN
    assert "computed path (start.js:1)" in got["node_modules/express"][1]


def test_computed_require_in_a_package_keeps_its_dependencies_unknown(tmp_path: Path) -> None:
    spec = {
        "package": {"main": "s.js", "dependencies": {"plug": "1"}},
        "files": {"s.js": "require('plug')"},
        "packages": {
            "node_modules/plug": _pkg(
                "1.0.0", {"index.js": "require('./drivers/' + name)"}, dependencies={"drv": "1"}
            ),
            "node_modules/drv": _pkg("1.0.0"),
        },
    }
    root = build(tmp_path / "app", spec)
    got = _statuses(root)
    assert got["node_modules/drv"] == (
        Runtime.UNKNOWN,
        "plug requires a computed path (plug/index.js:1)",
    )


def test_exports_conditions_pick_the_file_node_loads(tmp_path: Path) -> None:
    spec = {
        "package": {"main": "s.mjs", "dependencies": {"dual": "1", "a": "1", "b": "1"}},
        "files": {"s.mjs": "import d from 'dual';\nimport x from 'dual/feature';\n"},
        "packages": {
            "node_modules/dual": _pkg(
                "1.0.0",
                {"esm.mjs": "import 'a';", "cjs.js": "require('b')", "f/x.js": ""},
                exports={
                    ".": {"types": "./x.d.ts", "import": "./esm.mjs", "require": "./cjs.js"},
                    "./feature": "./f/x.js",
                },
                dependencies={"a": "1", "b": "1"},
            ),
            "node_modules/a": _pkg("1.0.0"),
            "node_modules/b": _pkg("1.0.0"),
        },
    }
    root = build(tmp_path / "app", spec)
    got = _statuses(root)
    assert got["node_modules/a"][0] is Runtime.LOADED
    assert got["node_modules/b"][0] is Runtime.NOT_LOADED  # only the require branch loads it


def test_workspaces_are_the_app(tmp_path: Path) -> None:
    spec = {
        "package": {"scripts": {"start": "npm run serve -w @d/server"}},
        "workspaces": {
            "packages/server": {
                "package": {
                    "name": "@d/server",
                    "scripts": {
                        "serve": "cross-env NODE_ENV=production node -r dotenv/config src/main.js"
                    },
                    "dependencies": {"@d/db": "*", "dotenv": "1"},
                },
                "files": {"src/main.js": "require('@d/db')"},
            },
            "packages/db": {
                "package": {"name": "@d/db", "main": "index.js", "dependencies": {"pg": "8"}},
                "files": {"index.js": "require('pg')"},
            },
        },
        "packages": {
            "node_modules/pg": _pkg("8.0.0"),
            "node_modules/dotenv": _pkg("1.0.0", {"config.js": ""}),
        },
    }
    root = build(tmp_path / "app", spec)
    got = _statuses(root)
    assert got["node_modules/pg"][0] is Runtime.LOADED
    assert got["node_modules/dotenv"][0] is Runtime.LOADED  # preloaded by node -r


def test_typescript_entry_that_is_build_output(tmp_path: Path) -> None:
    spec = {
        "package": {"main": "dist/index.js", "dependencies": {"pino": "8", "zod": "3"}},
        "files": {
            "tsconfig.json": '{ // comment\n "compilerOptions": '
            '{"outDir": "dist", "rootDir": "src",},}',
            "src/index.ts": "import type { Z } from 'zod';\nimport { log } from './log.js';\n",
            "src/log.ts": "import pino from 'pino';\nexport const log = pino();\n",
        },
        "packages": {"node_modules/pino": _pkg("8.0.0"), "node_modules/zod": _pkg("3.0.0")},
    }
    root = build(tmp_path / "app", spec)
    got = _statuses(root)
    assert got["node_modules/pino"][0] is Runtime.LOADED
    assert got["node_modules/zod"] == (Runtime.NOT_LOADED, "not imported by the app")


def test_without_node_modules_the_lockfile_carries_the_app_imports(tmp_path: Path) -> None:
    root = build(tmp_path / "app", CHAT, install=False)
    got = _statuses(root)
    assert got["node_modules/express"][0] is Runtime.LOADED
    assert got["node_modules/debug"][0] is Runtime.LOADED  # carried by express's edge
    assert got["node_modules/request"][0] is Runtime.LAZY
    assert got["node_modules/mocha"][0] is Runtime.NOT_LOADED


def test_fact_cache_reparses_only_changed_files(tmp_path: Path) -> None:
    root = build(tmp_path / "app", CHAT)
    cache = FactCache()
    analyse(load(root), root, cache=cache)
    first = cache.parsed
    assert first > 0
    again = FactCache.load(cache.dump())
    analyse(load(root), root, cache=again)
    assert again.parsed == 0
    (root / "lib" / "db.js").write_text("module.exports = require('sqlite3'); // changed\n")
    analyse(load(root), root, cache=again)
    assert again.parsed == 1


def test_package_dir() -> None:
    assert package_dir("/p/node_modules/a/lib/x.js") == "/p/node_modules/a"
    assert package_dir("/p/node_modules/@s/a/x.js") == "/p/node_modules/@s/a"
    assert package_dir("/p/node_modules/.pnpm/a@1/node_modules/a/x.js") == (
        "/p/node_modules/.pnpm/a@1/node_modules/a"
    )
    assert package_dir("/p/src/x.js") is None


def test_bin_that_requires_the_app_through_a_computed_path(tmp_path: Path) -> None:
    """issue 18: a bin that loads the app with a computed path (`path.join(__dirname, ...)`)
    cannot be followed: what the app does not import on a followed chain is unknown, never
    not-loaded; dev-only packages stay not-loaded (that is evidence)."""
    spec = {**CHAT, "package": {**CHAT["package"]}}
    del spec["package"]["main"]
    spec["package"]["bin"] = {"chat": "bin/chat.js"}
    spec["files"] = {
        **CHAT["files"],
        "bin/chat.js": "#!/usr/bin/env node\n"
        "const path = require('path');\n"
        "require(path.join(__dirname, '..', 'server'));\n",
    }
    root = build(tmp_path / "app", spec)
    got = _statuses(root)
    assert got["node_modules/express"][0] is Runtime.UNKNOWN
    assert "bin/chat.js:3" in got["node_modules/express"][1]
    assert got["node_modules/mocha"][0] is Runtime.NOT_LOADED
    assert all(
        status is not Runtime.NOT_LOADED
        for loc, (status, _) in got.items()
        if loc in ("node_modules/sqlite3", "node_modules/request", "node_modules/debug")
    )


def test_without_node_modules_no_placement_folder_is_looked_for(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """A lockfile scan of a project never installed costs one look at ``node_modules``, not
    one per placement (50,000 placements: ~0.8 s of stats), with the same statuses."""
    import os

    root = build(tmp_path / "app", CHAT, install=False)
    tree = load(root)
    looked: list[str] = []
    real_isdir = os.path.isdir

    def counting(path: Any) -> bool:
        looked.append(os.fspath(path))
        return real_isdir(path)

    monkeypatch.setattr(os.path, "isdir", counting)
    got = {loc: r.status for loc, r in analyse(tree, root).placements.items()}
    # the app's three bare imports are looked for (Node's resolution, up every ancestor);
    # the other placements' folders are not
    folders = {str(root / p.location) for p in tree.packages}
    assert len(folders) == 14
    assert {str(root / "node_modules" / n) for n in ("express", "request", "sqlite3")} >= (
        folders & set(looked)
    )
    assert got["node_modules/express"] is Runtime.LOADED
    assert got["node_modules/mocha"] is Runtime.NOT_LOADED


@given(
    st.lists(
        st.sampled_from(["a", "@s", "node_modules", "node_modules_x", "x_node_modules"]), max_size=6
    )
)
def test_outer_node_modules_is_the_first_segment_so_named(segments: list[str]) -> None:
    location = "/".join(segments)
    first = segments.index("node_modules") if "node_modules" in segments else None
    expected = None if first is None else "/".join(segments[: first + 1])
    assert _outer_node_modules(location) == expected
