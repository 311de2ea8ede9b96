"""yarn.lock (classic and berry) against the corpus ground truth and real yarn output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from depaudit.errors import InputError
from depaudit.models import DepType, ProblemKind
from depaudit.sources import detect, source_for
from depaudit.sources.yarn_lock import YarnLockSource, parse_classic
from depaudit.tree import find_problems

TESTS = Path(__file__).resolve().parent.parent
CORPUS = TESTS / "corpus"
PM = TESTS / "assets" / "projects-pm"
ASSETS = TESTS / "assets" / "yarn"

#: deliberate differences from the ground truth, with the reason
DIFFERENCES = {
    # `ms@2.1.2, "ms@npm:dry-uninstall@0.3.0"` is ONE entry (resolutions pointed ms at
    # dry-uninstall); @yarnpkg/lockfile keys by descriptor and so also lists ms@0.3.0, a
    # version of ms that does not exist. depaudit places dry-uninstall@0.3.0 installed as ms.
    "fixtures/snyk/aliases/yarn-lock-v1-with-resolutions/yarn.lock": {"ms@0.3.0"},
}


def _yarn_expected() -> list[Path]:
    return sorted(
        p
        for p in CORPUS.rglob("*.expected.json")
        if json.loads(p.read_text())["format"].startswith("yarn")
    )


def _keys(tree: object) -> set[str]:
    return {f"{n}@{v}" for n, v in tree.unique()}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "expected", _yarn_expected(), ids=lambda p: str(p.relative_to(CORPUS).parent)
)
def test_package_set_matches_yarns_own_parser(expected: Path) -> None:
    data = json.loads(expected.read_text())
    lockfile = expected.parent / data["lockfile"]
    tree = YarnLockSource().load(lockfile)
    want = set(data["packages"])
    missing = DIFFERENCES.get(str(lockfile.relative_to(CORPUS)), set())
    assert _keys(tree) == want - missing
    assert tree.source.kind == data["format"]


def test_every_corpus_file_is_covered() -> None:
    assert len(_yarn_expected()) >= 30


def test_alias_entry_is_the_real_package_installed_under_the_alias() -> None:
    lock = CORPUS / "fixtures/snyk/aliases/yarn-lock-v1-with-resolutions/yarn.lock"
    tree = YarnLockSource().load(lock)
    (pkg,) = tree.placements("dry-uninstall")
    assert pkg.alias == "ms" and pkg.path == ("debug", "ms")
    assert not tree.placements("ms")


def test_classic_paths_flags_and_workspaces_from_real_yarn1_output() -> None:
    tree = YarnLockSource().load(PM / "yarn1" / "yarn.lock")
    root, workspace = tree.importers
    assert root.is_root and root.name == "pm-demo" and workspace.location == "packages/a"
    (semver,) = tree.placements("semver")
    assert semver.dev and semver.direct and semver.path == ("semver",)
    (is_number,) = tree.placements("is-number")
    assert is_number.optional and not is_number.dev
    (sw,) = tree.placements("string-width")
    assert sw.alias == "string-width-cjs" and sw.path == ("string-width-cjs",)
    debug3 = tree.placements("debug", "3.2.7")[0]
    assert debug3.path == ("a", "debug") and debug3.workspace == "a"
    (ansi,) = tree.placements("ansi-regex")
    assert ansi.path == ("string-width-cjs", "strip-ansi", "ansi-regex")
    assert not ansi.dev and not ansi.direct


def test_berry_workspaces_patch_and_links() -> None:
    tree = YarnLockSource().load(CORPUS / "real/yarn-berry-babel-workspaces/yarn.lock")
    assert tree.source.kind == "yarn-berry" and tree.source.lockfile_version == "10"
    assert len(tree.importers) == 163
    assert {s.reason.split(":")[0] for s in tree.skipped} == {"link"}
    # an edge to a workspace resolves to the workspace's location, not to nothing
    core = next(i for i in tree.importers if i.name == "@babel/core")
    edge = next(d for d in core.dependencies if d.name == "@babel/helpers")
    assert edge.spec.startswith("workspace:") and edge.target == "packages/babel-helpers"


def test_berry_catalog_without_yarnrc_is_unknown_not_missing(tmp_path: Path) -> None:
    # babel's lock uses `catalog:` ranges kept in .yarnrc.yml, which the corpus does not have;
    # names locked at several versions cannot be matched, and that is no evidence of absence
    tree = YarnLockSource().load(CORPUS / "real/yarn-berry-babel-workspaces/yarn.lock")
    unknown = [
        d for i in tree.importers for d in i.dependencies if d.unresolved and d.target is None
    ]
    assert {d.name for d in unknown} >= {"typescript", "terser"}
    assert all(d.spec.startswith("catalog:") for d in unknown)
    assert any("catalog: dependencies could not be matched" in w for w in tree.warnings)
    kinds = {p.kind for p in find_problems(tree)}
    assert ProblemKind.MISSING not in kinds
    # a catalog name locked nowhere at all is still missing
    lock = tmp_path / "yarn.lock"
    lock.write_text(
        '__metadata:\n  version: 8\n\n"app@workspace:.":\n  version: 0.0.0-use.local\n'
        '  resolution: "app@workspace:."\n  dependencies:\n    left-pad: "catalog:"\n'
        "  languageName: unknown\n  linkType: soft\n"
    )
    (tmp_path / "package.json").write_text(
        '{"name": "app", "dependencies": {"left-pad": "catalog:"}}'
    )
    missing = [
        p for p in find_problems(YarnLockSource().load(lock)) if p.kind is ProblemKind.MISSING
    ]
    assert [p.name for p in missing] == ["left-pad"]


def test_berry_patch_resolves_to_the_patched_packages_version() -> None:
    lock = CORPUS / "fixtures/snyk/yarn-lock-v2/hand-rolled/patch-protocol/yarn.lock"
    tree = YarnLockSource().load(lock)
    (lodash,) = tree.packages
    assert (lodash.name, lodash.version) == ("lodash", "4.17.21")
    assert lodash.location.startswith("lodash@patch:") and lodash.direct


def test_berry_compat_patch_is_the_placement_that_is_reached() -> None:
    tree = YarnLockSource().load(CORPUS / "real/yarn-berry-prettier/yarn.lock")
    reached = [p for p in tree.placements("fsevents") if p.path]
    assert [p.location.split("@", 1)[1][:6] for p in reached] == ["patch:"]
    assert reached[0].optional


def test_berry_dev_flags_come_from_package_json(tmp_path: Path) -> None:
    tree = YarnLockSource().load(PM / "yarn4" / "yarn.lock")
    (semver,) = tree.placements("semver")
    assert semver.dev and semver.direct
    root = tree.importers[0]
    assert {d.name: d.type for d in root.dependencies}["semver"] is DepType.DEV
    assert root.declared is not None and root.manifest_path == "package.json"


def test_classic_declared_but_not_locked_is_left_out_of_locked_edges(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(
        '{"name": "x", "dependencies": {"left-pad": "^1.3.0", "wrappy": "^1.0.2"}}'
    )
    (tmp_path / "yarn.lock").write_text('# yarn lockfile v1\n\nwrappy@^1.0.2:\n  version "1.0.2"\n')
    (root,) = YarnLockSource().load(tmp_path / "yarn.lock").importers
    assert [d.name for d in root.dependencies] == ["wrappy"]
    assert root.declared is not None and [d.name for d in root.declared] == ["left-pad", "wrappy"]


def test_classic_parser_quoting_and_several_descriptors() -> None:
    data = parse_classic(
        '"a@^1", a@^1.2:\n  version "1.2.3"\n  resolved "x:y#z"\n  dependencies:\n'
        '    "@s/b" "npm:c@^2"\n',
        "t",
    )
    assert data["a@^1"] is data["a@^1.2"]
    assert data["a@^1"]["dependencies"] == {"@s/b": "npm:c@^2"}


@pytest.mark.parametrize(
    "case", sorted(p.name for p in ASSETS.glob("bad-*")), ids=lambda name: name
)
def test_malformed_yarn_lock_is_one_input_error_naming_the_file(case: str) -> None:
    with pytest.raises(InputError) as info:
        YarnLockSource().load(ASSETS / case)
    assert case in str(info.value) and "\n" not in str(info.value)


def test_dispatch_by_file_name() -> None:
    assert isinstance(source_for(Path("x/yarn.lock")), YarnLockSource)


_SEEDS = [
    (CORPUS / "fixtures/osv-scanner/yarn/with-aliases.v1.lock").read_text(),
    (CORPUS / "fixtures/osv-scanner/yarn/with-aliases.v2.lock").read_text(),
    (CORPUS / "fixtures/snyk/yarn-lock-v2/hand-rolled/patch-protocol/yarn.lock").read_text(),
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(_SEEDS),
    cut=st.integers(min_value=0, max_value=2000),
    junk=st.text(max_size=8),
    at=st.integers(min_value=0, max_value=2000),
)
def test_mutated_yarn_lock_gives_a_tree_or_an_input_error(
    tmp_path_factory: pytest.TempPathFactory, seed: str, cut: int, junk: str, at: int
) -> None:
    text = seed[: len(seed) - cut % max(len(seed), 1)]
    at %= max(len(text), 1)
    text = text[:at] + junk + text[at:]
    lock = tmp_path_factory.mktemp("y") / "yarn.lock"
    lock.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        tree = YarnLockSource().load(lock)
    except InputError as exc:
        assert "yarn.lock" in str(exc)
    else:
        assert all(p.name and p.version for p in tree.packages)


@pytest.mark.parametrize(
    "lockfile", ["yarn1/yarn.lock", "yarn4/yarn.lock", "pnpm9/pnpm-lock.yaml"], ids=str
)
def test_real_yarn_and_pnpm_locks_agree_with_npm_for_one_package_json(lockfile: str) -> None:
    """tests/assets/projects-pm: one package.json (a workspace, an npm: alias, dev and
    optional dependencies) locked by npm 11, yarn 1.22, yarn 4 and pnpm 9. The resolvers
    picked the same 17 name@version here; a legitimate difference (a newer release between
    runs, or hoisting choices) would change versions, never which names are installed."""
    npm = source_for(PM / "npm" / "package-lock.json").load(PM / "npm" / "package-lock.json")
    other = source_for(PM / lockfile).load(PM / lockfile)
    assert _keys(other) == _keys(npm)
    assert len(_keys(other)) == 17
    assert {p.name for p in other.packages if p.dev} == {p.name for p in npm.packages if p.dev}


def _project(tmp_path: Path, *lockfiles: str, manifest: str = "{}") -> Path:
    for name in lockfiles:
        (tmp_path / name).write_text("x")
    (tmp_path / "package.json").write_text(manifest)
    return tmp_path


def test_detect_one_lockfile_needs_no_warning(tmp_path: Path) -> None:
    found = detect(_project(tmp_path, "yarn.lock"))
    assert found.lockfile.name == "yarn.lock" and found.warning is None


def test_detect_follows_package_manager_field(tmp_path: Path) -> None:
    found = detect(
        _project(
            tmp_path,
            "package-lock.json",
            "pnpm-lock.yaml",
            manifest='{"packageManager": "pnpm@9.1.0"}',
        )
    )
    assert found.lockfile.name == "pnpm-lock.yaml" and "packageManager" in (found.warning or "")


def test_detect_follows_node_modules_metadata(tmp_path: Path) -> None:
    _project(tmp_path, "package-lock.json", "yarn.lock", "bun.lock")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / ".yarn-state.yml").write_text("")
    found = detect(tmp_path)
    assert found.lockfile.name == "yarn.lock" and "installed by yarn" in found.reason


def test_detect_says_why_when_nothing_tells(tmp_path: Path) -> None:
    found = detect(_project(tmp_path, "yarn.lock", "pnpm-lock.yaml"))
    assert found.lockfile.name == "yarn.lock"
    assert found.warning and "pnpm-lock.yaml" in found.warning and "--lockfile" in found.warning
