"""bun.lock (text, JSON with trailing commas) against the corpus ground truth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from depaudit.errors import InputError
from depaudit.models import DepType
from depaudit.sources import source_for
from depaudit.sources.bun_lock import BunLockSource, key_segments, parse_jsonc

TESTS = Path(__file__).resolve().parent.parent
CORPUS = TESTS / "corpus"
ASSETS = TESTS / "assets" / "bun"


def _bun_expected() -> list[Path]:
    return sorted(
        p
        for p in CORPUS.rglob("*.expected.json")
        if json.loads(p.read_text())["format"] == "bun-text"
    )


@pytest.mark.parametrize(
    "expected", _bun_expected(), ids=lambda p: str(p.relative_to(CORPUS).parent)
)
def test_package_set_matches_bun(expected: Path) -> None:
    data = json.loads(expected.read_text())
    tree = BunLockSource().load(expected.parent / data["lockfile"])
    assert {f"{n}@{v}" for n, v in tree.unique()} == set(data["packages"])
    # what bun lists without a semver version (git deps) is skipped with a reason
    assert len(tree.skipped) == len(data["raw_lock_non_semver"])


def test_nested_copies_resolve_nearest_first() -> None:
    tree = BunLockSource().load(CORPUS / "real/bun-lock-hono/bun.lock")
    highlight = tree.at("@babel/highlight")
    assert highlight is not None
    edges = {d.name: d.target for d in highlight.dependencies}
    assert edges["chalk"] == "@babel/highlight/chalk"  # its own nested copy
    assert edges["picocolors"] == "@babel/highlight/picocolors"
    nested = tree.at("@babel/highlight/chalk")
    assert nested is not None and nested.version == "2.4.2"
    assert nested.path[-2:] == ("@babel/highlight", "chalk")
    # hono declares only devDependencies: everything it installs is dev
    assert all(p.dev for p in tree.packages if p.path)
    assert all(p.path for p in tree.packages)  # peers included, nothing is orphaned


def test_workspaces_and_flags(tmp_path: Path) -> None:
    (tmp_path / "bun.lock").write_text(
        """{
  "lockfileVersion": 1,
  "workspaces": {
    "": {"name": "root", "dependencies": {"a": "workspace:*", "x": "^1"},
          "optionalDependencies": {"o": "^1"},},
    "packages/a": {"name": "a", "version": "0.1.0", "dependencies": {"x": "^2"},},
  },
  "packages": {
    "a": ["a@workspace:packages/a"],
    "x": ["x@1.0.0", "", {}, "sha512-x"],
    "o": ["o@1.1.0", "", {"dependencies": {"x": "^1"}}, "sha512-o"],
    "a/x": ["x@2.0.0", "", {}, "sha512-x2"],
    "g": ["g@github:o/g#abc", {}, "o-g-abc"],
  },
}
"""
    )
    tree = BunLockSource().load(tmp_path / "bun.lock")
    root, ws = tree.importers
    assert {d.name: d.target for d in root.dependencies} == {"a": "packages/a", "o": "o", "x": "x"}
    assert {d.name: d.target for d in ws.dependencies} == {"x": "a/x"}
    assert tree.at("a/x").path == ("a", "x")  # type: ignore[union-attr]
    assert tree.at("a/x").workspace == "a"  # type: ignore[union-attr]
    assert tree.at("o").optional and not tree.at("x").optional  # type: ignore[union-attr]
    assert root.dependencies[1].type is DepType.OPTIONAL
    assert [(s.name, s.location) for s in tree.skipped] == [("g", "g")]


def test_jsonc_trailing_commas_but_not_inside_strings() -> None:
    assert parse_jsonc('{"a": ["x,]", 1,],}', "t") == {"a": ["x,]", 1]}
    assert key_segments("@a/b/c/@d/e") == ["@a/b", "c", "@d/e"]


@pytest.mark.parametrize("case", sorted(p.name for p in ASSETS.glob("bad-*")), ids=str)
def test_malformed_bun_lock_is_one_input_error_naming_the_file(case: str) -> None:
    with pytest.raises(InputError) as info:
        BunLockSource().load(ASSETS / case)
    assert case in str(info.value) and "\n" not in str(info.value)


def test_dispatch_by_file_name() -> None:
    assert isinstance(source_for(Path("x/bun.lock")), BunLockSource)


_SEED = (CORPUS / "fixtures/osv-scanner/bun/locks-insecure/bun.lock").read_text()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cut=st.integers(min_value=0, max_value=600),
    junk=st.text(max_size=6),
    at=st.integers(min_value=0, max_value=600),
)
def test_mutated_bun_lock_gives_a_tree_or_an_input_error(
    tmp_path_factory: pytest.TempPathFactory, cut: int, junk: str, at: int
) -> None:
    text = _SEED[: len(_SEED) - cut % len(_SEED)]
    at %= max(len(text), 1)
    text = text[:at] + junk + text[at:]
    lock = tmp_path_factory.mktemp("b") / "bun.lock"
    lock.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        tree = BunLockSource().load(lock)
    except InputError as exc:
        assert "bun.lock" in str(exc)
    else:
        assert all(p.name and p.version for p in tree.packages)


def test_workspace_key_with_a_nul_byte_is_not_a_crash(tmp_path: Path) -> None:
    # found by the long fuzz run: Path.resolve() raises ValueError on an embedded NUL
    lock = tmp_path / "bun.lock"
    lock.write_text(
        '{"lockfileVersion": 1, "workspaces": {"": {"name": "app"}, '
        '"x\\u0000y": {"name": "a"}}, "packages": {}}'
    )
    tree = BunLockSource().load(lock)
    assert {i.name for i in tree.importers} == {"app", "a"}
    assert all(i.declared is None for i in tree.importers if i.name == "a")
