"""package-lock.json v1/v2/v3 and npm-shrinkwrap.json against npm's own view of the same files.

Ground truth: the corpus `.expected.json` files (npm 11's `npm ls` and arborist's lock
inventory, see tests/corpus/MANIFEST.md) and `assets/package_lock/demo/expected.json` (npm 11
on a project built here). Every place where depaudit deliberately differs from npm has its
own test below, with the reason.
"""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ASSETS, REPO
from depaudit.errors import InputError
from depaudit.models import Dependency, DependencyTree, DepType, Package
from depaudit.sources.npm_common import (
    name_from_location,
    parse_alias,
    resolve_location,
    search_dirs,
    spec_kind,
)
from depaudit.sources.package_lock import PackageLockSource

CORPUS = REPO / "tests" / "corpus"
LOCKS = ASSETS / "package_lock"


def load(path: Path) -> DependencyTree:
    return PackageLockSource().load(path)


def keys(tree: DependencyTree) -> set[str]:
    return {p.key for p in tree.packages}


def npm_corpus() -> list[tuple[Path, dict[str, Any]]]:
    out = []
    for expected in sorted(CORPUS.rglob("*.expected.json")):
        data = json.loads(expected.read_text())
        if data["format"] in ("npm-package-lock", "npm-shrinkwrap"):
            out.append((expected.parent / data["lockfile"], data))
    return out


CORPUS_LOCKS = npm_corpus()


def corpus_id(item: tuple[Path, dict[str, Any]]) -> str:
    return str(item[0].relative_to(CORPUS))


def npm_view(lock: Path, expected: dict[str, Any]) -> set[str]:
    """What npm says the lock holds: `npm ls` for real projects; for the hand-written
    fixtures (no real package.json, orphan entries) arborist's lock inventory when it
    differs from what npm ls reaches (tests/corpus/fixtures/NOTES.md)."""
    if "fixtures" in lock.relative_to(CORPUS).parts and expected.get("lock_inventory_packages"):
        return set(expected["lock_inventory_packages"])
    return set(expected["packages"])


#: lockfiles where depaudit deliberately differs from npm; each has its own test below
DELIBERATE = {
    "fixtures/osv-scanner/npm/files.v2.json",
    "fixtures/snyk/aliases/npm-lock-v1-with-npm-alias-also-on-transitive/package-lock.json",
}


def test_the_corpus_holds_every_npm_lockfile() -> None:
    names = {corpus_id(c) for c in CORPUS_LOCKS}
    assert len(CORPUS_LOCKS) == 34
    assert "real/npm-lock-v3-theia-workspaces-large/package-lock.json" in names
    assert "real/npm-shrinkwrap-firebase-tools/npm-shrinkwrap.json" in names
    assert names >= DELIBERATE


@pytest.mark.parametrize("case", CORPUS_LOCKS, ids=corpus_id)
def test_packages_equal_npms_view(case: tuple[Path, dict[str, Any]]) -> None:
    lock, expected = case
    if corpus_id(case) in DELIBERATE:
        pytest.skip("deliberate difference, tested on its own below")
    tree = load(lock)
    assert keys(tree) == npm_view(lock, expected)


@pytest.mark.parametrize("case", CORPUS_LOCKS, ids=corpus_id)
def test_unversioned_entries_are_skipped_never_dropped(case: tuple[Path, dict[str, Any]]) -> None:
    """npm shows git deps of v1 locks, versionless entries and outside links without a
    version; depaudit lists each as a SkippedPackage with its reason."""
    lock, expected = case
    tree = load(lock)
    assert len(tree.skipped) == len(expected["unversioned"])
    assert all(s.reason and s.location for s in tree.skipped)


@pytest.mark.parametrize("case", CORPUS_LOCKS, ids=corpus_id)
def test_aliases_match_npm(case: tuple[Path, dict[str, Any]]) -> None:
    lock, expected = case
    if corpus_id(case) in DELIBERATE and "alias" in corpus_id(case):
        pytest.skip("deliberate difference, tested on its own below")
    tree = load(lock)
    aliases = {f"{p.alias}@{p.version}": p.key for p in tree.packages if p.alias}
    assert aliases == expected["aliases"]


@pytest.mark.parametrize("case", CORPUS_LOCKS, ids=corpus_id)
def test_source_info_and_sane_placements(case: tuple[Path, dict[str, Any]]) -> None:
    lock, expected = case
    tree = load(lock)
    kind = "npm-shrinkwrap" if lock.name == "npm-shrinkwrap.json" else "package-lock"
    assert tree.source.kind == kind
    assert tree.source.lockfile_version == expected["lockfileVersion"]
    assert tree.importers[0].is_root
    locations = [p.location for p in tree.packages]
    assert len(locations) == len(set(locations))
    for pkg in tree.packages:
        assert pkg.path and pkg.path[-1] == pkg.installed_as
        assert pkg.location.rsplit("node_modules/", 1)[-1] == pkg.installed_as


def test_theia_workspaces_importers_and_declared() -> None:
    lock = CORPUS / "real/npm-lock-v3-theia-workspaces-large/package-lock.json"
    tree = load(lock)
    expected = json.loads(lock.with_name("package-lock.expected.json").read_text())
    workspaces = [i for i in tree.importers if not i.is_root]
    assert {f"{i.name}@{i.version}" for i in workspaces} >= set(expected["links_excluded"])
    assert len(workspaces) == 106
    assert all(i.declared is not None for i in tree.importers)
    ws = tree.placements("ws", "8.21.3")[0]
    assert ws.path == ("@theia/core", "ws") and ws.workspace == "@theia/core" and ws.direct
    # every edge the lock records resolves (npm ls reports nothing missing here)
    assert all(
        d.target is not None
        for p in tree.packages
        for d in p.dependencies
        if d.type not in (DepType.PEER_OPTIONAL, DepType.OPTIONAL)
    )


# --- a real project built here with npm 11 (v1, v2, v3 of the same tree) ----------------------

DEMO = LOCKS / "demo"
DEMO_EXPECTED = json.loads((DEMO / "expected.json").read_text())["lockfiles"]


@pytest.mark.parametrize("name", sorted(DEMO_EXPECTED))
def test_demo_packages_equal_npm_ls(name: str) -> None:
    tree = load(DEMO / name)
    assert keys(tree) == set(DEMO_EXPECTED[name]["packages"])


@pytest.mark.parametrize("name", ["workspaces.v2.json", "workspaces.v3.json"])
def test_demo_workspaces_and_links_are_importers(name: str) -> None:
    tree = load(DEMO / name)
    imps = {i.location: i for i in tree.importers}
    assert set(imps) == {"", "packages/ws-a", "vendor/local-thing"}
    assert {f"{i.name}@{i.version}" for i in tree.importers if not i.is_root} == set(
        DEMO_EXPECTED[name]["links_excluded"]
    )
    root = imps[""]
    assert root.name == "dpa-lock-demo" and tree.root_name == "dpa-lock-demo"
    # the link to the workspace-like folder resolves to the folder itself
    assert (
        Dependency("local-thing", "file:vendor/local-thing", DepType.PROD, "vendor/local-thing")
        in root.dependencies
    )
    ws = imps["packages/ws-a"]
    assert ws.dependencies == (
        Dependency("ms", "^1.0.0", DepType.PROD, "packages/ws-a/node_modules/ms"),
        Dependency("picocolors", "^1.0.0", DepType.PROD, "node_modules/picocolors"),
    )
    assert ws.manifest_path is not None and ws.manifest_path.endswith("ws-a/package.json")
    assert ws.declared == ws.dependencies  # package.json and lock agree here
    picocolors = tree.at("node_modules/picocolors")
    assert picocolors is not None
    assert (picocolors.path, picocolors.workspace, picocolors.direct) == (
        ("ws-a", "picocolors"),
        "ws-a",
        True,
    )
    assert picocolors.wanted == "^1.0.0"


@pytest.mark.parametrize("name", ["workspaces.v2.json", "workspaces.v3.json"])
def test_demo_flags_alias_and_peer(name: str) -> None:
    tree = load(DEMO / name)
    at = tree.at
    debug, humanize, ms, alias, react = (
        at("node_modules/debug"),
        at("node_modules/humanize-ms"),
        at("node_modules/ms"),
        at("node_modules/ms-v1"),
        at("node_modules/react"),
    )
    assert debug is not None and debug.dev and not debug.optional
    assert humanize is not None and humanize.optional and not humanize.dev
    # devOptional: needed by dev `debug`, optional under prod `humanize-ms`: may run in
    # production, so not dev; optional there
    assert ms is not None and not ms.dev and ms.optional
    assert alias is not None and (alias.name, alias.version, alias.alias) == (
        "ms",
        "1.0.0",
        "ms-v1",
    )
    assert alias.wanted == "^1.0.0" and alias.path == ("ms-v1",)
    assert react is not None and react.peer and react.path == ("use-sync-external-store", "react")
    uses = at("node_modules/use-sync-external-store")
    assert uses is not None
    assert uses.dependencies == (
        Dependency("react", "^16.8.0 || ^17.0.0 || ^18.0.0", DepType.PEER, "node_modules/react"),
    )


def test_shrinkwrap_name_sets_the_kind(tmp_path: Path) -> None:
    shutil.copy(DEMO / "workspaces.v3.json", tmp_path / "npm-shrinkwrap.json")
    tree = load(tmp_path / "npm-shrinkwrap.json")
    assert tree.source.kind == "npm-shrinkwrap"
    assert keys(tree) == set(DEMO_EXPECTED["workspaces.v3.json"]["packages"])


def test_drift_declared_edges() -> None:
    """package.json edited after locking: `declared` holds what package.json says, resolved
    the same way, so the tree stage can compare it with the lock's `dependencies`."""
    tree = load(LOCKS / "drift" / "package-lock.json")
    imps = {i.location: i for i in tree.importers}
    root = imps[""]
    assert root.manifest_path is not None
    declared = {d.name: d for d in root.declared or ()}
    locked = {d.name: d for d in root.dependencies}
    assert "kleur" in locked and "kleur" not in declared  # locked, no longer declared
    assert declared["left-pad"].target is None  # declared, not locked
    assert declared["use-sync-external-store"] == Dependency(
        "use-sync-external-store", "^1.5.0", DepType.PROD, "node_modules/use-sync-external-store"
    )  # the locked 1.2.0 is outside ^1.5.0
    assert declared["debug"].type is DepType.DEV
    assert declared["humanize-ms"].type is DepType.OPTIONAL
    ws = imps["packages/ws-a"]
    ws_declared = {d.name: d for d in ws.declared or ()}
    assert ws_declared["picocolors"].spec == "^2.0.0"
    assert ws_declared["kleur"].target == "node_modules/kleur"  # resolved by walking up
    assert "kleur" not in {d.name for d in ws.dependencies}
    assert imps["vendor/local-thing"].declared is None  # its folder has no package.json


# --- hand-written edge cases ------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1", "v3"])
def test_alias(version: str) -> None:
    tree = load(LOCKS / f"alias.{version}.json")
    assert sorted(p.key for p in tree.packages) == [
        "@babel/code-frame@7.0.0",
        "string-width@4.2.3",
        "string-width@4.2.3",
        "string-width@5.1.2",
    ]
    cf = tree.at("node_modules/cf")
    assert cf is not None and (cf.name, cf.alias, cf.installed_as) == (
        "@babel/code-frame",
        "cf",
        "cf",
    )
    nested = tree.at("node_modules/string-width/node_modules/old")
    assert nested is not None and (nested.name, nested.alias) == ("string-width", "old")
    assert nested.path == ("string-width", "old")
    assert nested.wanted == "^4.0.0"  # the range of `npm:string-width@^4.0.0`
    parent = tree.at("node_modules/string-width")
    assert parent is not None
    assert parent.dependencies == (
        Dependency(
            "old",
            "npm:string-width@^4.0.0",
            DepType.PROD,
            "node_modules/string-width/node_modules/old",
        ),
    )


@pytest.mark.parametrize("version", ["v1", "v3"])
def test_scoped_nested(version: str) -> None:
    tree = load(LOCKS / f"scoped-nested.{version}.json")
    inner = tree.at("node_modules/@s/a/node_modules/@t/b")
    assert inner is not None and (inner.name, inner.version) == ("@t/b", "1.5.0")
    assert inner.path == ("@s/a", "@t/b") and not inner.direct
    outer = tree.at("node_modules/@t/b")
    assert outer is not None and outer.version == "2.0.0" and outer.direct
    # @s/c is found by walking up from the nested @t/b to the root's node_modules
    assert inner.dependencies == (Dependency("@s/c", "*", DepType.PROD, "node_modules/@s/c"),)
    c = tree.at("node_modules/@s/c")
    assert c is not None and c.path == ("@t/b", "@s/c")


@pytest.mark.parametrize("version", ["v1", "v3"])
def test_bundled(version: str) -> None:
    tree = load(LOCKS / f"bundled.{version}.json")
    ms = tree.at("node_modules/bundler/node_modules/ms")
    assert ms is not None and ms.bundled and ms.key == "ms@2.1.3"
    assert ms.path == ("bundler", "ms")
    bundler = tree.at("node_modules/bundler")
    assert bundler is not None and not bundler.bundled


def test_flags() -> None:
    tree = load(LOCKS / "flags.v3.json")

    def at(name: str) -> Package:
        pkg = tree.at(f"node_modules/{name}")
        assert pkg is not None
        return pkg

    assert at("devonly").dev and not at("devonly").optional
    assert at("devopt").dev and at("devopt").optional
    assert not at("shared").dev and at("shared").optional  # devOptional
    assert at("opt").optional and not at("opt").dev
    assert at("peerdep").peer
    assert at("stray").extraneous and not at("stray").direct
    assert at("stray").path == ("stray",)  # unreached: its location's names
    assert at("prod").deprecated == "prod is no longer maintained; use prod2"
    assert at("opt").deprecated is None
    peers = {d.name: d for d in at("peerhost").dependencies}
    assert peers["maybe"] == Dependency("maybe", "^1.0.0", DepType.PEER_OPTIONAL, None)
    assert peers["peerdep"].type is DepType.PEER
    # importer edges carry their section; packages' devDependencies are never edges
    root = {d.name: d.type for d in tree.importers[0].dependencies}
    assert root == {
        "devonly": DepType.DEV,
        "opt": DepType.OPTIONAL,
        "peerhost": DepType.PROD,
        "prod": DepType.PROD,
    }
    assert {d.name: d.type for d in at("prod").dependencies} == {"shared": DepType.OPTIONAL}


def test_edges_targets_and_paths() -> None:
    tree = load(LOCKS / "edges.v3.json")
    a, b, c = (tree.at(f"node_modules/{n}") for n in "abc")
    nested_x = tree.at("node_modules/a/node_modules/x")
    assert a is not None and b is not None and c is not None and nested_x is not None
    # a's own nested x shadows the hoisted one; b gets the hoisted x
    assert {d.name: d.target for d in a.dependencies}["x"] == "node_modules/a/node_modules/x"
    assert {d.name: d.target for d in b.dependencies} == {
        "c": "node_modules/c",
        "gone": None,
        "x": "node_modules/x",
    }
    # inside a/node_modules/x, `x` resolves to itself (the nearest node_modules holding x is
    # a/node_modules) and `c` walks up to the root
    assert {d.name: d.target for d in nested_x.dependencies} == {
        "c": "node_modules/c",
        "x": "node_modules/a/node_modules/x",
    }
    # c is reached from a and from b at the same depth: lexicographic order picks a
    assert c.path == ("a", "c") and c.wanted == "^1.0.0" and not c.direct
    x = tree.at("node_modules/x")
    assert x is not None and x.path == ("b", "x") and x.wanted == "^1.0.0"
    assert a.direct and b.direct and a.path == ("a",)
    assert tree.paths("x", "2.0.0") == [("a", "x")]


def test_no_lockfile_version_is_read_as_v1_with_a_warning() -> None:
    tree = load(LOCKS / "no-lockfile-version.json")
    assert keys(tree) == {"ms@0.7.1"}
    assert tree.source.lockfile_version is None
    assert any("no lockfileVersion" in w for w in tree.warnings)


# --- bad input ----------------------------------------------------------------------------------


BAD = {
    "bad-version-4.json": "lockfileVersion 4 is not one depaudit reads",
    "bad-version-string.json": "lockfileVersion '3' is not one",
    "bad-version-bool.json": "lockfileVersion True is not one",
    "bad-not-object.json": "top level is a JSON list",
    "bad-packages-array.json": "packages is a JSON array, not an object",
    "bad-entry-string.json": "packages['node_modules/a'] is a JSON string",
    "bad-version-number.v3.json": "packages['node_modules/a'].version is a JSON number",
    "bad-version-number.v1.json": "dependencies['a'].version is a JSON array",
    "bad-dependencies-value.json": "packages[''].dependencies['a'] is a JSON number",
    "bad-flag.json": "packages['node_modules/a'].dev is a JSON string",
    "bad-requires.v1.json": "dependencies['a'].requires is a JSON boolean",
    "bad-dependencies-array.v1.json": "dependencies is a JSON array",
    "bad-truncated.json": "ends too early (truncated?)",
    "bad-empty.json": "is empty",
    "bad-binary.json": "is a binary file",
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_is_an_input_error_naming_the_file(name: str) -> None:
    path = LOCKS / name
    with pytest.raises(InputError) as info:
        load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert BAD[name] in message
    assert "\n" not in message
    assert info.value.hint


def test_missing_file_and_directory() -> None:
    with pytest.raises(InputError, match="no such file"):
        load(LOCKS / "does-not-exist.json")
    with pytest.raises(InputError, match="is a directory"):
        load(LOCKS / "demo")


def test_broken_package_json_beside_the_lock_names_the_package_json(tmp_path: Path) -> None:
    shutil.copy(LOCKS / "edges.v3.json", tmp_path / "package-lock.json")
    (tmp_path / "package.json").write_text('{"dependencies": {"a": 1}}')
    with pytest.raises(InputError) as info:
        load(tmp_path / "package-lock.json")
    assert str(info.value).startswith(f"{tmp_path / 'package.json'}: ")


def test_hostile_keys_never_read_outside_the_project(tmp_path: Path) -> None:
    """Lock keys pointing outside the project (`..`, absolute, traversal, a workspace folder
    that is a symlink to outside) are never read: each outside package.json here is broken
    JSON, so reading any of them would raise."""
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "package.json").write_text("{ broken")
    project = tmp_path / "project"
    project.mkdir()
    (project / "ws").symlink_to(outside, target_is_directory=True)
    shutil.copy(LOCKS / "hostile.v3.json", project / "package-lock.json")
    tree = load(project / "package-lock.json")
    assert keys(tree) == {"ok@1.0.0"}
    ws = next(i for i in tree.importers if i.location == "ws")
    assert ws.declared is None and ws.manifest_path is None
    assert {i.location for i in tree.importers} == {"", "ws"}
    skipped = {(s.name, s.reason) for s in tree.skipped}
    assert ("up", "link to a folder outside the project") in skipped
    assert ("abs", "link to a folder outside the project") in skipped
    assert ("trav", "link to a folder outside the project") in skipped
    assert ("secret", "folder entry outside the project") in skipped
    assert ("..", "lock key is not a package location") in skipped


# --- property: a mutated lock gives a tree or an InputError, never anything else ------------

SMALL_LOCKS = [
    json.loads((LOCKS / name).read_text())
    for name in (
        "alias.v3.json",
        "alias.v1.json",
        "flags.v3.json",
        "edges.v3.json",
        "scoped-nested.v1.json",
        "skipped-git-file.v3.json",
        "hostile.v3.json",
        "demo/workspaces.v2.json",
    )
]
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=False)
    | st.sampled_from(["1.0.0", "npm:x@1", "file:..", "github:o/r", "", "..", "/"])
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
KEYS = st.sampled_from(
    [
        "",
        "node_modules/a",
        "node_modules/@s",
        "node_modules/..",
        "../x",
        "/abs",
        "packages/ws",
        "lockfileVersion",
        "packages",
        "dependencies",
        "requires",
        "version",
        "name",
        "link",
        "resolved",
        "dev",
        "devOptional",
        "inBundle",
        "peerDependencies",
        "peerDependenciesMeta",
        "optionalDependencies",
    ]
) | st.text(max_size=12)


@st.composite
def mutated_locks(draw: st.DrawFn) -> str:
    lock = copy.deepcopy(draw(st.sampled_from(SMALL_LOCKS)))
    for _ in range(draw(st.integers(1, 4))):
        containers: list[Any] = []
        todo: list[Any] = [lock]
        while todo:
            value = todo.pop()
            if isinstance(value, dict):
                containers.append(value)
                todo.extend(value.values())
            elif isinstance(value, list):
                containers.append(value)
                todo.extend(value)
        target = draw(st.sampled_from(containers))
        if isinstance(target, dict):
            key = draw(st.sampled_from(sorted(target)) | KEYS) if target else draw(KEYS)
            if key in target and draw(st.booleans()):
                del target[key]
            else:
                target[key] = draw(JSON_VALUES)
        elif target:
            target[draw(st.integers(0, len(target) - 1))] = draw(JSON_VALUES)
        else:
            target.append(draw(JSON_VALUES))
    text = json.dumps(lock)
    if draw(st.integers(0, 4)) == 0:
        text = text[: draw(st.integers(0, len(text)))]
    return text


@settings(max_examples=400, deadline=None)
@given(mutated_locks())
def test_mutated_locks_give_a_tree_or_an_input_error(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "package-lock.json"
        path.write_text(text)
        try:
            tree = load(path)
        except InputError as exc:
            assert str(exc).startswith(f"{path}: ")
            return
        assert isinstance(tree, DependencyTree)
        for pkg in tree.packages:
            assert isinstance(pkg.version, str) and pkg.path


# --- npm_common: shared with the npm ls reader ---------------------------------------------


@pytest.mark.parametrize(
    ("location", "name"),
    [
        ("node_modules/a", "a"),
        ("node_modules/@s/n", "@s/n"),
        ("node_modules/a/node_modules/@s/n", "@s/n"),
        ("packages/ws/node_modules/b", "b"),
        ("packages/ws", None),
        ("", None),
        ("xnode_modules/a", None),
    ],
)
def test_name_from_location(location: str, name: str | None) -> None:
    assert name_from_location(location) == name


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("npm:@babel/code-frame@^7.0.0", ("@babel/code-frame", "^7.0.0")),
        ("npm:string-width@4.2.3", ("string-width", "4.2.3")),
        ("npm:ms", ("ms", "*")),
        ("npm:@s/n", ("@s/n", "*")),
        ("npm:", None),
        ("npm:../x@1", None),
        ("^1.0.0", None),
    ],
)
def test_parse_alias(spec: str, parsed: tuple[str, str] | None) -> None:
    assert parse_alias(spec) == parsed


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        ("^1.2.3", "registry"),
        ("latest", "registry"),
        ("npm:x@1", "alias"),
        ("file:../x", "file"),
        ("../x", "file"),
        ("link:../x", "link"),
        ("workspace:*", "workspace"),
        ("github:o/r", "git"),
        ("o/r#main", "git"),
        ("git+ssh://git@example.invalid/o/r.git#abc", "git"),
        ("https://example.invalid/o/r.git", "git"),
        ("https://registry.invalid/x/-/x-1.0.0.tgz", "url"),
    ],
)
def test_spec_kind(spec: str, kind: str) -> None:
    assert spec_kind(spec) == kind


def test_search_dirs_follow_node() -> None:
    assert list(search_dirs("node_modules/a/node_modules/@s/b")) == [
        "node_modules/a/node_modules/@s/b",
        "node_modules/a/node_modules/@s",
        "node_modules/a",
        "",
    ]
    assert list(search_dirs("packages/ws")) == ["packages/ws", "packages", ""]
    assert resolve_location("x", "packages/ws", {"node_modules/x"}) == "node_modules/x"
    assert resolve_location(
        "x", "packages/ws", {"packages/ws/node_modules/x", "node_modules/x"}
    ) == ("packages/ws/node_modules/x")
    assert resolve_location("x", "", set()) is None


@pytest.mark.parametrize(
    ("name", "url", "version"),
    [
        ("ms", "https://r.invalid/ms/-/ms-2.1.3.tgz", "2.1.3"),
        ("@types/node", "https://r.invalid/npm/@types/node/-/node-20.1.0-rc.1.tgz", "20.1.0-rc.1"),
        ("@types/node", "https://r.invalid/@types%2fnode/-/node-20.1.0.tgz", "20.1.0"),
        ("ms", "https://r.invalid/other/-/other-2.1.3.tgz", None),
        ("ms", "https://r.invalid/ms/-/ms-latest.tgz", None),
        ("ms", "git+https://r.invalid/ms.git#abc", None),
        ("ms", "https://r.invalid/ms/-/ms-2.1.3.zip", None),
    ],
)
def test_registry_tarball_version(name: str, url: str, version: str | None) -> None:
    from depaudit.sources.npm_common import registry_tarball_version

    assert registry_tarball_version(name, url) == version
