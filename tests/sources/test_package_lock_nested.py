"""package-lock v1: the nested ``dependencies`` tree (depaudit.sources.package_lock_nested),
on real and hand-written locks and phase by phase."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ASSETS, REPO
from depaudit.models import Dependency, DependencyTree, DepType
from depaudit.sources.package_lock import PackageLockSource
from depaudit.sources.package_lock_nested import _real, _skip_reason, _walk, read_nested
from depaudit.sources.package_lock_reader import LockReader

CORPUS = REPO / "tests" / "corpus"
LOCKS = ASSETS / "package_lock"
DEMO = LOCKS / "demo"


def load(path: Path) -> DependencyTree:
    return PackageLockSource().load(path)


def keys(tree: DependencyTree) -> set[str]:
    return {p.key for p in tree.packages}


def reader(tmp_path: Path) -> LockReader:
    return LockReader(tmp_path / "package-lock.json", {})


def test_v1_transitive_aliases_use_the_real_name() -> None:
    """npm 11 reads the nested v1 entries `string-width-cjs` (inside npm's own bundle) as
    name `string-width-cjs`, version `npm:string-width@4.2.3`, calls them invalid and lists
    `string-width-cjs@npm:string-width@4.2.3`. The lock says they are string-width@4.2.3
    installed under an alias, which is what depaudit reports (the advisory databases know
    `string-width`, not `string-width-cjs@npm:...`)."""
    lock = CORPUS / (
        "fixtures/snyk/aliases/npm-lock-v1-with-npm-alias-also-on-transitive/package-lock.json"
    )
    expected = json.loads(lock.with_name("package-lock.expected.json").read_text())
    odd = {p for p in expected["packages"] if "@npm:" in p}
    assert odd == {
        "string-width-cjs@npm:string-width@4.2.3",
        "strip-ansi-cjs@npm:strip-ansi@6.0.1",
        "wrap-ansi-cjs@npm:wrap-ansi@7.0.0",
    }
    tree = load(lock)
    assert keys(tree) == set(expected["packages"]) - odd
    nested = tree.at("node_modules/npm/node_modules/string-width-cjs")
    assert nested is not None
    assert (nested.name, nested.version, nested.alias) == (
        "string-width",
        "4.2.3",
        "string-width-cjs",
    )
    assert nested.bundled


def test_v1_git_dependencies_are_skipped_with_their_spec() -> None:
    """npm prints v1 git deps without a version (`unversioned`); so does depaudit."""
    lock = CORPUS / "fixtures/osv-scanner/npm/commits.v1.json"
    expected = json.loads(lock.with_name("commits.v1.expected.json").read_text())
    tree = load(lock)
    assert sorted(s.name for s in tree.skipped) == sorted(
        u.split(" ")[0] for u in expected["unversioned"]
    )
    assert all("git" in s.reason for s in tree.skipped)
    pixel = next(s for s in tree.skipped if s.name.startswith("@segment/"))
    assert pixel.spec.startswith("git+ssh://") and pixel.spec.endswith(
        "#3b1bb80b302c2e552685dc8a029797ec832ea7c9"
    )
    # declared lockfileVersion 2 with only a v1 body: read the body, say so
    assert tree.source.lockfile_version == 2
    assert any("no `packages` map" in w for w in tree.warnings)


def test_demo_v1_skips_local_folders_and_reads_declared() -> None:
    """v1 cannot express workspaces or links: `file:` folders are SkippedPackages; the root's
    ranges come from package.json, the only record a v1 lock has of them."""
    tree = load(DEMO / "workspaces.v1.json")
    assert {(s.name, s.spec) for s in tree.skipped} == {
        ("local-thing", "file:vendor/local-thing"),
        ("ws-a", "file:packages/ws-a"),
    }
    assert all("file:" in s.reason for s in tree.skipped)
    root = tree.importers[0]
    assert root.declared == root.dependencies
    edges = {d.name: d for d in root.dependencies}
    assert edges["ms-v1"] == Dependency(
        "ms-v1", "npm:ms@^1.0.0", DepType.PROD, "node_modules/ms-v1"
    )
    # an edge to a skipped entry points at its location, not at nothing
    assert edges["local-thing"].target == "node_modules/local-thing"
    assert "ws-a" not in edges  # the root's package.json does not depend on its workspace
    nested = tree.at("node_modules/local-thing/node_modules/kleur")
    assert nested is not None and nested.version == "3.0.3"


def test_skipped_git_file_url_v1() -> None:
    tree = load(LOCKS / "skipped-git-file.v1.json")
    reasons = {s.name: s.reason for s in tree.skipped}
    assert set(reasons) == {"gitdep", "localdir", "remote"}
    assert "git" in reasons["gitdep"] and "file:" in reasons["localdir"]
    assert "tarball" in reasons["remote"]
    assert keys(tree) == {"ms@2.1.3"}
    # without package.json, the root's direct deps are guessed: ms is required by a skipped
    # git dependency, so it is not one of them
    root = tree.importers[0]
    assert {d.name for d in root.dependencies} == {"gitdep", "localdir", "remote"}
    assert any("guessed" in w for w in tree.warnings)


def test_npm6_registry_tarball_url_as_version_is_that_registry_version() -> None:
    """issue 16.8: real npm 6.14 lockfile after `npm install <registry tarball URL>` (ms and
    the scoped @types/node); npm 11's `npm ls --package-lock-only` lists ms@2.1.3 and
    @types/node@20.11.0 and no problem."""
    from depaudit.tree import find_problems

    folder = LOCKS / "npm6-tarball-url"
    tree = PackageLockSource().load(folder / "package-lock.json")
    assert tree.skipped == ()
    assert {f"{n}@{v}" for n, v in tree.unique()} == {
        "@types/node@20.11.0",
        "debug@4.3.4",
        "ms@2.1.2",
        "ms@2.1.3",
        "undici-types@5.26.5",
    }
    ms = tree.placements("ms", "2.1.3")[0]
    assert ms.resolved == "https://registry.invalid/ms/-/ms-2.1.3.tgz"
    kinds = {p.kind.value for p in find_problems(tree)}
    assert kinds <= {"duplicate-versions", "deduped"}


def test_walk_reads_the_nested_entries_of_a_skipped_entry(tmp_path: Path) -> None:
    walk = _walk(
        reader(tmp_path),
        {
            "gitdep": {
                "version": "git+ssh://git@example.invalid/a.git#abc",
                "requires": {"ms": "^2"},
                "dependencies": {"ms": {"version": "2.1.3"}},
            }
        },
    )
    assert walk.skipped_locations == {"node_modules/gitdep"}
    assert walk.skipped_requires == {"node_modules/gitdep": {"ms": ("^2", DepType.PROD)}}
    assert set(walk.pkgs) == {"node_modules/gitdep/node_modules/ms"}
    assert set(walk.top_level) == {"node_modules/gitdep"}


@pytest.mark.parametrize(
    ("name", "version", "real"),
    [
        ("ms", "2.1.3", ("ms", "2.1.3", None)),
        ("old", "npm:ms@2.1.3", ("ms", "2.1.3", None)),
        ("old", "npm:ms@^2", ("old", "npm:ms@^2", None)),  # no concrete version: skipped later
        (
            "ms",
            "https://registry.invalid/ms/-/ms-2.1.3.tgz",
            ("ms", "2.1.3", "https://registry.invalid/ms/-/ms-2.1.3.tgz"),
        ),
    ],
)
def test_real_name_and_version(name: str, version: str, real: tuple[str, str, str | None]) -> None:
    assert _real(name, version, None) == real


@pytest.mark.parametrize(
    ("version", "words"),
    [
        (None, "no version"),
        ("git+ssh://git@example.invalid/a.git#abc", "git dependency"),
        ("file:../x", "local file"),
        ("https://example.invalid/a.tgz", "remote tarball"),
        ("npm:ms@^2", "npm alias"),
        ("latest", "not a semver version"),
    ],
)
def test_skip_reason(version: str | None, words: str) -> None:
    assert words in _skip_reason(version)


def test_root_without_package_json_is_guessed_with_a_warning(tmp_path: Path) -> None:
    lock = reader(tmp_path)
    importers, pkgs = read_nested(
        lock,
        {
            "a": {"version": "1.0.0", "requires": {"b": "^1"}},
            "b": {"version": "1.0.0"},
            "d": {"version": "1.0.0", "dev": True},
        },
    )
    (root,) = importers
    assert root.declared is None
    assert root.dependencies == (
        Dependency("a", "1.0.0", DepType.PROD, "node_modules/a"),
        Dependency("d", "1.0.0", DepType.DEV, "node_modules/d"),
    )
    assert pkgs["node_modules/b"].path == ("a", "b")
    assert [w for w in lock.warnings if "guessed" in w]
