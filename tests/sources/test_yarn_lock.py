"""yarn.lock (classic and berry) against the corpus ground truth and real yarn output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from depaudit.errors import InputError
from depaudit.sources import detect, source_for
from depaudit.sources.yarn_lock import YarnLockSource

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
