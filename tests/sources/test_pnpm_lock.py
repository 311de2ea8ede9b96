"""pnpm-lock.yaml 5.x / 6.0 / 9.0 against the corpus ground truth and real pnpm 9 output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from depaudit.errors import InputError
from depaudit.sources import source_for
from depaudit.sources.pnpm_lock import PnpmLockSource, parse_key
from depaudit.sources.yaml_loader import has_c_loader, load_yaml

TESTS = Path(__file__).resolve().parent.parent
CORPUS = TESTS / "corpus"
PM = TESTS / "assets" / "projects-pm"
ASSETS = TESTS / "assets" / "pnpm"


def _pnpm_expected() -> list[Path]:
    return sorted(
        p for p in CORPUS.rglob("*.expected.json") if json.loads(p.read_text())["format"] == "pnpm"
    )


def _keys(tree: object) -> set[str]:
    return {f"{n}@{v}" for n, v in tree.unique()}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "expected", _pnpm_expected(), ids=lambda p: str(p.relative_to(CORPUS).with_suffix(""))
)
def test_package_set_matches_pnpms_own_parser(expected: Path) -> None:
    """pnpm 8's reader is the reference for 5.x / 6.x, pnpm 10's for 9.x. pnpm 10's reader
    returns 0 packages for every 6.0 file (it reads only `snapshots`; see the corpus MANIFEST):
    that cross-check is deliberately not followed, the 6.0 files are read in full."""
    data = json.loads(expected.read_text())
    lockfile = expected.parent / data["lockfile"]
    tree = PnpmLockSource().load(lockfile)
    assert _keys(tree) == set(data["packages"])
    for check in data.get("cross_check", []):
        assert check["unique_packages"] == 0 and _keys(tree) == set(check["only_in_main_reader"])
    # what pnpm excluded (local folders, keys with no version) is skipped with a reason
    assert len(tree.skipped) >= len(data["links_excluded"]) + len(data["unversioned"])


def test_osv_scanner_expectations_differ_by_definition() -> None:
    """osv-scanner counts pnpm local `file:` folders as packages and refuses
    invalid-package-path.yaml; pnpm itself does neither, and depaudit follows pnpm."""
    osv = json.loads((CORPUS / "fixtures/osv-scanner/osv-expected-packages.json").read_text())
    text = json.dumps(osv)
    assert "a-local-package" in text
    tree = PnpmLockSource().load(CORPUS / "fixtures/osv-scanner/pnpm/files.yaml")
    assert _keys(tree) == {"my-file-package@0.0.0"}
    assert any("local folder" in s.reason for s in tree.skipped)
    tree = PnpmLockSource().load(CORPUS / "fixtures/osv-scanner/pnpm/invalid-package-path.yaml")
    assert len(_keys(tree)) == 8


@pytest.mark.parametrize(
    ("key", "major", "expected"),
    [
        ("/@babel/core/7.0.0_react@18.2.0", 5, ("@babel/core", "7.0.0")),
        ("/foo/1.4.0_@types+babel__core@7.1.14", 5, ("foo", "1.4.0")),
        ("registry.invalid/@foo/bar/1.1.0", 5, ("@foo/bar", "1.1.0")),
        ("github.com/kevva/is-positive", 5, None),
        ("/foo/bar", 5, None),
        ("/@vue/repl@1.4.1(vue@3.3.0)", 6, ("@vue/repl", "1.4.1")),
        ("vite@5.2.7(@types/node@20.0.0)(terser@5.0.0)", 9, ("vite", "5.2.7")),
    ],
)
def test_keys_of_each_lockfile_version(
    key: str, major: int, expected: tuple[str, str] | None
) -> None:
    assert parse_key(key, major) == expected


def test_workspaces_paths_and_flags_from_real_pnpm9_output() -> None:
    tree = PnpmLockSource().load(PM / "pnpm9" / "pnpm-lock.yaml")
    assert [i.location for i in tree.importers] == ["", "packages/a"]
    (semver,) = tree.placements("semver")
    assert semver.dev and semver.direct
    (is_number,) = tree.placements("is-number")
    assert is_number.optional
    (sw,) = tree.placements("string-width")
    assert sw.path == ("string-width-cjs",) and sw.direct
    (debug3,) = tree.placements("debug", "3.2.7")
    assert debug3.path == ("a", "debug") and debug3.workspace == "a"
    assert all(i.declared is not None for i in tree.importers)


def test_workspace_links_resolve_to_the_workspace() -> None:
    tree = PnpmLockSource().load(CORPUS / "real/pnpm-v9.0-vue-core/pnpm-lock.yaml")
    sfc = next(i for i in tree.importers if i.location == "packages/compiler-sfc")
    edge = next(d for d in sfc.dependencies if d.name == "@vue/compiler-core")
    assert edge.spec == "workspace:*" and edge.target == "packages/compiler-core"
    assert not tree.skipped
    # catalog: specifiers are read as the catalog's range
    root = tree.importers[0]
    parser = next(d for d in root.dependencies if d.name == "@babel/parser")
    assert parser.spec == "^7.29.8"


def test_peer_variants_are_separate_placements() -> None:
    tree = PnpmLockSource().load(CORPUS / "fixtures/osv-scanner/pnpm/peer-dependencies.v9.yaml")
    (jsx,) = tree.placements("acorn-jsx")
    assert jsx.location == "acorn-jsx@5.3.2(acorn@8.11.3)"
    assert [d.target for d in jsx.dependencies] == ["acorn@8.11.3"]


@pytest.mark.skipif(not has_c_loader(), reason="PyYAML built without libyaml")
@pytest.mark.parametrize(
    "lock",
    [
        "real/pnpm-v5.4-vue-core/pnpm-lock.yaml",
        "real/pnpm-v6.0-vue-core/pnpm-lock.yaml",
        "real/pnpm-v9.0-vue-core/pnpm-lock.yaml",
        "fixtures/osv-scanner/pnpm/exotic.yaml",
        "real/yarn-berry-babel-workspaces/yarn.lock",
    ],
)
def test_pure_python_yaml_fallback_reads_the_same(lock: str) -> None:
    text = (CORPUS / lock).read_text()
    assert load_yaml(text, lock, what="lockfile", pure=True) == load_yaml(
        text, lock, what="lockfile"
    )
    if lock.endswith(".yaml"):
        source = PnpmLockSource()
        assert source.load_text(Path(lock), text, pure_yaml=True) == source.load_text(
            Path(lock), text
        )


@pytest.mark.parametrize("case", sorted(p.name for p in ASSETS.glob("bad-*")), ids=str)
def test_malformed_pnpm_lock_is_one_input_error_naming_the_file(case: str) -> None:
    with pytest.raises(InputError) as info:
        PnpmLockSource().load(ASSETS / case)
    assert case in str(info.value) and "\n" not in str(info.value)


def test_dispatch_by_file_name() -> None:
    assert isinstance(source_for(Path("x/pnpm-lock.yaml")), PnpmLockSource)


_SEEDS = [
    (CORPUS / "fixtures/osv-scanner/pnpm/peer-dependencies.yaml").read_text(),
    (CORPUS / "fixtures/osv-scanner/pnpm/mixed-groups.v6.yaml").read_text(),
    (CORPUS / "fixtures/osv-scanner/pnpm/peer-dependencies.v9.yaml").read_text(),
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(_SEEDS),
    cut=st.integers(min_value=0, max_value=1000),
    junk=st.text(max_size=8),
    at=st.integers(min_value=0, max_value=1000),
)
def test_mutated_pnpm_lock_gives_a_tree_or_an_input_error(
    seed: str, cut: int, junk: str, at: int
) -> None:
    text = seed[: len(seed) - cut % max(len(seed), 1)]
    at %= max(len(text), 1)
    text = text[:at] + junk + text[at:]
    try:
        tree = PnpmLockSource().load_text(Path("pnpm-lock.yaml"), text)
    except InputError as exc:
        assert "pnpm-lock.yaml" in str(exc)
    else:
        assert all(p.name and p.version for p in tree.packages)


def test_pnpm11_two_documents_read_the_projects_lockfile() -> None:
    """Real pnpm 11.29 output for a package.json with devEngines.packageManager: a first YAML
    document for pnpm's own install (pnpm, @pnpm/exe), then the project's lockfile."""
    lock = PM / "pnpm11" / "pnpm-lock.yaml"
    assert lock.read_text().count("\n---\n") == 1  # the two-document layout
    tree = source_for(lock).load(lock)
    assert _keys(tree) == {"debug@4.3.4", "ms@2.1.2"}  # not pnpm's own packages
    assert {i.location for i in tree.importers} == {"", "packages/ws-a"}


def test_more_than_two_yaml_documents_is_one_input_error(tmp_path: Path) -> None:
    lock = tmp_path / "pnpm-lock.yaml"
    lock.write_text("---\nlockfileVersion: '9.0'\n---\nlockfileVersion: '9.0'\n---\na: 1\n")
    with pytest.raises(InputError, match="has 3 YAML documents"):
        source_for(lock).load(lock)
