"""depaudit.sources.lines: each placement's line in its lockfile, found by the input stage in
one pass over the text (SARIF renders these lines and reads no file)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from depaudit.errors import DepauditError
from depaudit.models import Package, SourceInfo
from depaudit.sources import source_for
from depaudit.sources.lines import LineIndex, LinePatterns, read_lines, with_lines

ASSETS = Path(__file__).resolve().parent.parent / "assets"
CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "fixtures"


def searched_line(lines: Sequence[str], pkg: Package) -> int:
    """The specification of LinePatterns, one search of the whole text per pattern and
    package (what SARIF did before the line finding moved to the input stage)."""
    patterns = [
        re.compile(rf'^\s*"{re.escape(pkg.location)}"\s*:\s*\{{'),
        re.compile(
            rf"^\s*['\"]?/?{re.escape(pkg.name)}[@/]{re.escape(pkg.version)}(?:\(|_|['\":])"
        ),
        re.compile(rf'^"?{re.escape(pkg.installed_as)}@'),
        re.compile(rf'^\s*"{re.escape(pkg.installed_as)}"\s*:\s*\{{'),
    ]
    for pattern in patterns:
        hits = [i for i, line in enumerate(lines) if pattern.search(line)]
        if not hits:
            continue
        if len(hits) > 1:
            for i in hits:
                window = " ".join(lines[i + 1 : i + 6])
                if re.search(rf"version:?\s+\"?{re.escape(pkg.version)}\"?(\s|$)", window):
                    return i + 1
        return hits[0] + 1
    return 1


@pytest.mark.parametrize(
    "lock",
    [
        "package_lock/npm6-tarball-url/package-lock.json",  # v1, real npm 6: ms twice
        "projects-pm/prod-path-npm/package-lock.json",  # v3, real npm 11
        "projects-pm/prod-path-yarn1/yarn.lock",
        "projects-pm/prod-path-yarn4/yarn.lock",
        "projects-pm/prod-path-pnpm9/pnpm-lock.yaml",
        "projects-pm/pnpm11/pnpm-lock.yaml",
    ],
)
def test_every_placement_has_its_own_line_found_in_one_pass(lock: str) -> None:
    """issue 16.12: each placement's line comes from the lockfile's structure in one pass,
    and two versions of a name get their own lines."""
    path = ASSETS / lock
    tree = source_for(path).load(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    index = LineIndex(lines, str(path), tree.source.lockfile_version)
    located = with_lines(tree).lines
    assert located is not None
    seen: dict[tuple[str, str], int] = {}
    for pkg in tree.packages:
        line = index.find(pkg)
        assert line is not None and line > 1, pkg.location  # never the per-package search
        assert pkg.installed_as in lines[line - 1], (pkg.location, line)
        assert located.of(pkg.location).number == line
        assert located.of(pkg.location).width == len(lines[line - 1])
        seen.setdefault((pkg.name, pkg.version), line)
    by_name: dict[str, set[int]] = {}
    for (name, _), line in seen.items():
        by_name.setdefault(name, set()).add(line)
    versions = {name: {v for n, v in seen if n == name} for name in by_name}
    for name, found in by_name.items():
        assert len(found) == len(versions[name]), name  # one line per version


def test_v1_nested_versions_point_at_their_own_entries() -> None:
    path = ASSETS / "package_lock" / "npm6-tarball-url" / "package-lock.json"
    tree = with_lines(source_for(path).load(path))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert tree.lines is not None
    (top,) = tree.placements("ms", "2.1.3")
    (nested,) = tree.placements("ms", "2.1.2")
    assert nested.location == "node_modules/debug/node_modules/ms"
    assert lines[tree.lines.of(top.location).number - 1] == '    "ms": {'
    assert lines[tree.lines.of(nested.location).number - 1] == '        "ms": {'
    assert '"version": "2.1.2"' in lines[tree.lines.of(nested.location).number]


def test_patterns_in_yarn_and_pnpm_lockfiles() -> None:
    yarn = (CORPUS / "osv-scanner" / "yarn" / "multiple-constraints.v1.lock").read_text()
    yarn_lines = yarn.splitlines()
    babel = Package("@babel/code-frame", "7.12.13", "x")
    line = LinePatterns(yarn_lines, [babel]).line(babel)
    assert yarn_lines[line - 1].startswith('"@babel/code-frame@^7.0.0"')
    pnpm = (CORPUS / "osv-scanner" / "pnpm" / "multiple-versions.v9.yaml").read_text()
    pnpm_lines = pnpm.splitlines()
    uuid, missing = Package("uuid", "8.3.2", "x"), Package("not-there", "1.0.0", "y")
    patterns = LinePatterns(pnpm_lines, [uuid, missing])
    assert pnpm_lines[patterns.line(uuid) - 1].strip() == "uuid@8.3.2:"
    assert patterns.line(missing) == 1


def test_the_patterns_agree_with_the_search_on_every_lockfile_of_the_tests() -> None:
    """Placements of every lockfile in tests/assets and the corpus fixtures looked up by the
    patterns alone (not only those the structure misses) land where one search per package
    would."""
    paths = sorted(
        p
        for folder in (ASSETS, CORPUS)
        for p in folder.rglob("*")
        if p.suffix in (".json", ".lock", ".yaml") and not p.name.startswith("npm-ls")
    )
    checked = 0
    for path in paths:
        try:
            tree = source_for(path).load(path)
        except DepauditError:  # the bad-input fixtures
            continue
        lines = read_lines(str(path))
        placements = tree.packages[:60]
        patterns = LinePatterns(lines, placements)
        for pkg in placements:
            assert patterns.line(pkg) == searched_line(lines, pkg), (path, pkg.location)
            checked += 1
    assert checked > 1500


_NAMES = ["a", "ab", "@s/a", "b"]
_VERSIONS = ["1.0.0", "1.0.0_x", "2", "1.0.0(b@2)"]
_FRAGMENTS = st.sampled_from(
    [
        *_NAMES,
        *_VERSIONS,
        "@",
        "/",
        '"',
        "'",
        ":",
        " {",
        "(",
        "_",
        " ",
        "  ",
        "version ",
        "version: ",
    ]
    + ["node_modules/a", '": {', "node_modules/@s/a", ",", "\t"]
)
_LINES = st.lists(st.lists(_FRAGMENTS, max_size=8).map("".join), max_size=25)
_PACKAGES = st.lists(
    st.builds(
        lambda name, version, alias, nested: Package(
            name,
            version,
            f"node_modules/{alias or name}" + ("/node_modules/b" if nested else ""),
            alias=alias,
        ),
        st.sampled_from(_NAMES),
        st.sampled_from([*_VERSIONS, "1 0", 'x"y']),
        st.sampled_from([None, "ab", "b"]),
        st.booleans(),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=400, deadline=None)
@given(lines=_LINES, packages=_PACKAGES)
def test_one_pass_for_all_placements_equals_one_search_per_placement(
    lines: list[str], packages: list[Package]
) -> None:
    patterns = LinePatterns(lines, packages)
    for pkg in packages:
        assert patterns.line(pkg) == searched_line(lines, pkg)


def test_an_input_without_lines_leaves_the_tree_as_it_is(tmp_path: Path) -> None:
    path = ASSETS / "projects-pm" / "prod-path-yarn1" / "yarn.lock"
    tree = source_for(path).load(path)
    for where in ("-", str(tmp_path), str(tmp_path / "gone.lock")):
        elsewhere = type(tree)(SourceInfo("yarn-classic", where, 1), None, None, tree.packages)
        assert with_lines(elsewhere).lines is None
    located = with_lines(tree)
    assert located.lines is not None and tree.lines is None  # a new tree, the old one as it was
    assert located.packages is tree.packages and located == tree
    assert located.lines.first.number == 1
    assert located.lines.first.width == len(path.read_text(encoding="utf-8").splitlines()[0])
    assert located.lines.of("not/a/placement") is located.lines.first
