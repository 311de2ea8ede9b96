"""The npm ls reader against real `npm ls` output of projects built and broken here.

Every case under tests/assets/projects/<case>/ was made with npm 11: `npm install`, then a
folder deleted (missing), an installed version edited (invalid), a dependency removed from
package.json (extraneous), a peer left unmet or at a wrong version, a shared (deduped)
placement and a name at two versions. `npm-ls.txt` is npm 11's own human `npm ls --all` of
the same tree: depaudit's problems must agree with its markers, for the JSON of npm 11
(`npm-ls.json`, `--long`), npm 7 and npm 8 (`npm{7,8}-ls.json`); npm 6 is checked case by case.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import stat
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ASSETS
from depaudit.errors import InputError
from depaudit.models import DependencyTree, ProblemKind, TreeProblem
from depaudit.sources.npm_ls import NpmLsSource, parse_invalid, parse_npm_ls
from depaudit.sources.npm_ls_run import run_npm_ls
from depaudit.sources.package_lock import PackageLockSource
from depaudit.tree import find_problems

PROJECTS = ASSETS / "projects"
CASES = sorted(p.name for p in PROJECTS.iterdir() if (p / "npm-ls.txt").is_file())
VARIANTS = ["npm-ls.json", "npm-ls-long.json", "npm7-ls.json", "npm8-ls.json"]

_LINE = re.compile(r"^((?:[│ ] )*)[├└]─[┬─] (.*)$")


def _split(text: str) -> tuple[str, str]:
    at = text.find("@", 1)
    return text[:at], text[at + 1 :]


def human_markers(text: str) -> dict[str, set[tuple[str, ...]]]:
    """npm's human `npm ls --all`: the paths it marks, by marker."""
    marks: dict[str, set[tuple[str, ...]]] = {
        k: set() for k in ("missing", "invalid", "extraneous", "deduped")
    }
    deduped_keys: set[tuple[str, ...]] = set()
    stack: list[str] = []
    for line in text.splitlines()[1:]:
        m = _LINE.match(line)
        if not m:
            continue
        depth = len(m.group(1)) // 2
        body = m.group(2)
        del stack[depth:]
        if body.startswith("UNMET OPTIONAL DEPENDENCY "):
            stack.append(_split(body.split()[3])[0])
            continue
        if body.startswith("UNMET DEPENDENCY "):
            name = _split(body[len("UNMET DEPENDENCY ") :])[0]
            stack.append(name)
            marks["missing"].add(tuple(stack))
            continue
        token = body.split()[0]
        name, version = _split(token)
        stack.append(name)
        path = tuple(stack)
        if " invalid" in body:
            marks["invalid"].add(path)
        if " extraneous" in body:
            marks["extraneous"].add(path)
        if " deduped" in body and " -> " not in body:  # links are workspaces, not packages
            marks["deduped"].add(path)
            deduped_keys.add((name, version))
    marks["deduped_keys"] = deduped_keys
    return marks


def problem_paths(problems: list[TreeProblem], *kinds: ProblemKind) -> set[tuple[str, ...]]:
    return {p.path for p in problems if p.kind in kinds}


def load(case: str, variant: str) -> DependencyTree:
    return NpmLsSource().load(PROJECTS / case / variant)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("case", CASES)
def test_problems_agree_with_npm_ls_all(case: str, variant: str) -> None:
    expected = human_markers((PROJECTS / case / "npm-ls.txt").read_text(encoding="utf-8"))
    problems = find_problems(load(case, variant))

    missing = problem_paths(problems, ProblemKind.MISSING, ProblemKind.PEER_MISSING)
    invalid = problem_paths(problems, ProblemKind.INVALID, ProblemKind.PEER_INVALID)
    assert missing == expected["missing"]
    assert invalid == expected["invalid"]
    assert problem_paths(problems, ProblemKind.EXTRANEOUS) == expected["extraneous"]
    deduped = [p for p in problems if p.kind is ProblemKind.DEDUPED]
    assert {(p.name, p.version) for p in deduped} == expected["deduped_keys"]
    # every place npm prints "deduped" is named in the problem of that placement
    for path in expected["deduped"]:
        [problem] = [p for p in deduped if p.name == path[-1]]
        assert " > ".join(path) in problem.detail


def test_every_problem_has_a_path_and_evidence() -> None:
    problems = find_problems(load("broken", "npm-ls.json"))
    by_kind = {p.kind: p for p in problems}
    assert by_kind[ProblemKind.MISSING].wanted == "^4.1.5"
    assert by_kind[ProblemKind.MISSING].path == ("kleur",)
    invalid = by_kind[ProblemKind.INVALID]
    assert (invalid.wanted, invalid.found, invalid.path) == ("^7.0.0", "5.0.0", ("is-number",))
    assert "the root project" in invalid.detail
    dup = by_kind[ProblemKind.DUPLICATE_VERSIONS]
    assert dup.found == "5.0.0, 6.0.0"
    assert "6.0.0 at is-odd > is-number" in dup.detail


def test_npm11_required_only_on_first_missing_node_range_comes_from_problem_text() -> None:
    raw = json.loads((PROJECTS / "missing-two" / "npm-ls.json").read_text())
    assert "required" not in raw["dependencies"]["ms"]  # the quirk is in the capture
    problems = find_problems(load("missing-two", "npm-ls.json"))
    wanted = {p.path: p.wanted for p in problems if p.kind is ProblemKind.MISSING}
    assert wanted == {
        ("humanize-ms",): "^1.2.1",
        ("is-odd",): "^3.0.1",
        ("ms",): "^2.1.3",
        ("debug", "ms"): "^2.1.3",
    }


def test_long_output_knows_peer_edges() -> None:
    missing = find_problems(load("peer-missing", "npm-ls-long.json"))
    assert [(p.kind, p.path, p.wanted) for p in missing] == [
        (
            ProblemKind.PEER_MISSING,
            ("use-sync-external-store", "react"),
            "^16.8.0 || ^17.0.0 || ^18.0.0",
        )
    ]
    invalid = find_problems(load("peer-invalid", "npm-ls-long.json"))
    [peer] = [p for p in invalid if p.kind is ProblemKind.PEER_INVALID]
    assert (peer.found, peer.path) == ("15.7.0", ("use-sync-external-store", "react"))


def test_deduped_copies_are_edges_to_one_placement() -> None:
    for variant in ["npm-ls.json", "npm-ls-long.json", "npm6-ls.json", "npm7-ls.json"]:
        tree = load("clean", variant)
        assert len(tree.placements("ms")) == 1, variant
        [ms] = tree.placements("ms")
        targets = [d.target for p in tree.packages for d in p.dependencies if d.name == "ms"] + [
            d.target for d in tree.importers[0].dependencies if d.name == "ms"
        ]
        assert targets == [ms.location] * 3, variant


def test_placements_have_unique_locations_and_paths_from_the_root() -> None:
    tree = load("peer-invalid", "npm-ls.json")
    assert len({p.location for p in tree.packages}) == len(tree.packages) == 21
    [iconv] = tree.placements("iconv-lite")
    assert iconv.path == (
        "react",
        "fbjs",
        "isomorphic-fetch",
        "node-fetch",
        "encoding",
        "iconv-lite",
    )
    assert [p.name for p in tree.packages if p.direct] == ["react", "use-sync-external-store"]


@pytest.mark.parametrize("variant", ["npm-ls.json", "npm-ls-long.json", "npm7-ls.json"])
def test_workspaces_are_importers_not_packages(variant: str) -> None:
    tree = load("workspace", variant)
    assert [(i.name, i.location) for i in tree.importers] == [
        ("dpa-ws", ""),
        ("ws-a", "packages/ws-a"),
        ("ws-b", "packages/ws-b"),
    ]
    assert sorted(tree.unique()) == [("kleur", "3.0.3"), ("ms", "2.1.3"), ("picocolors", "1.1.1")]
    ws_b = tree.importers[2]
    assert {d.name: d.target for d in ws_b.dependencies}["ws-a"] == "packages/ws-a"
    [picocolors] = tree.placements("picocolors")
    assert picocolors.path == ("ws-a", "picocolors") and picocolors.workspace == "ws-a"


def test_long_output_sets_dev_from_the_root_dev_dependencies() -> None:
    tree = load("broken", "npm-ls-long.json")
    dev = {p.key for p in tree.packages if p.dev}
    assert dev == {"is-odd@3.0.1", "is-number@6.0.0"}


# -- npm 6 ---------------------------------------------------------------------------------


def test_npm6_broken_tree() -> None:
    problems = find_problems(load("broken", "npm6-ls.json"))
    kinds = {(p.kind, p.path) for p in problems}
    assert (ProblemKind.MISSING, ("kleur",)) in kinds
    assert (ProblemKind.INVALID, ("is-number",)) in kinds  # npm 6: `invalid: true`
    assert (ProblemKind.EXTRANEOUS, ("picocolors",)) in kinds
    # npm 6 repeats deduped nodes in full: still one placement of ms, shared twice
    assert (ProblemKind.DEDUPED, ("ms",)) in kinds


def test_npm6_peer_missing_is_placed_under_the_package_that_wants_it() -> None:
    problems = find_problems(load("peer-missing", "npm6-ls.json"))
    assert [(p.kind, p.path, p.wanted) for p in problems] == [
        (
            ProblemKind.PEER_MISSING,
            ("use-sync-external-store", "react"),
            "^16.8.0 || ^17.0.0 || ^18.0.0",
        )
    ]


def test_npm6_calls_a_wrong_peer_version_missing_depaudit_says_invalid() -> None:
    """Deliberate difference: npm 6 prints `peer dep missing` for react 15.7.0 installed
    where ^16.8.0 || ... is wanted, and hides the installed react inside `required`."""
    tree = load("peer-invalid", "npm6-ls.json")
    problems = find_problems(tree)
    assert [(p.kind, p.found, p.wanted) for p in problems] == [
        (ProblemKind.PEER_INVALID, "15.7.0", "^16.8.0 || ^17.0.0 || ^18.0.0")
    ]
    assert "npm 6 calls it missing" in problems[0].detail


def test_npm6_does_not_know_workspaces() -> None:
    problems = find_problems(load("workspace", "npm6-ls.json"))
    assert [(p.kind, p.name) for p in problems] == [(ProblemKind.EXTRANEOUS, "ws-b")]


# -- shapes --------------------------------------------------------------------------------


def test_npm7_error_json_saved_after_the_tree_is_read(tmp_path: Path) -> None:
    stdout = (PROJECTS / "broken" / "npm7-ls.json").read_text()
    stderr = (PROJECTS / "broken" / "npm7-ls.stderr.json").read_text()
    both = tmp_path / "both.txt"
    both.write_text(stdout + "npm ERR! code ELSPROBLEMS\n" + stderr)
    tree = NpmLsSource().load(both)
    assert {p.kind for p in tree.reported_problems} == {
        ProblemKind.MISSING,
        ProblemKind.INVALID,
        ProblemKind.EXTRANEOUS,
    }
    # ELSPROBLEMS is the normal "there are problems" exit: no warning about it; the only
    # warning is that this output was saved without --long
    assert len(tree.warnings) == 1
    assert tree.warnings[0].startswith("npm ls output without --long")


def test_only_an_error_object_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "err.json"
    path.write_text((PROJECTS / "broken" / "npm7-ls.stderr.json").read_text())
    with pytest.raises(InputError) as info:
        NpmLsSource().load(path)
    assert str(path) in str(info.value) and "ELSPROBLEMS" in str(info.value)


def test_other_npm_errors_become_warnings() -> None:
    text = json.dumps(
        {
            "name": "x",
            "version": "1.0.0",
            "invalid": True,
            "problems": ["error in <project>: Failed to parse root package.json"],
            "error": {"code": "EJSONPARSE", "summary": "Failed to parse root package.json"},
        }
    )
    tree = parse_npm_ls(text, "x.json")
    assert tree.warnings == ("npm ls reported EJSONPARSE: Failed to parse root package.json",)


def test_invalid_string_with_several_edges() -> None:
    value = '"^1.0.0" from the root project, "^2.0.0" from node_modules/a'
    assert parse_invalid(value) == [("^1.0.0", "the root project"), ("^2.0.0", "node_modules/a")]
    assert parse_invalid(True) == []


def test_alias_from_long_name() -> None:
    text = json.dumps(
        {
            "name": "x",
            "version": "1.0.0",
            "dependencies": {
                "old": {"version": "2.0.0", "name": "real-pkg", "path": "/p/node_modules/old"}
            },
        }
    )
    [pkg] = parse_npm_ls(text, "x.json").packages
    assert (pkg.name, pkg.alias, pkg.installed_as) == ("real-pkg", "old", "old")


def test_unmet_optional_dependency_is_not_a_problem() -> None:
    tree = NpmLsSource().load(ASSETS.parent.parent / "examples" / "express-app" / "npm-ls.json")
    assert tree.skipped == ()
    names = {p.name for p in find_problems(tree) if p.kind is ProblemKind.MISSING}
    assert "bufferutil" not in names


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    data = (PROJECTS / "clean" / "npm-ls.json").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    tree = NpmLsSource().load_input("-")
    assert tree.source.path == "<stdin>"
    assert len(tree.packages) == 6


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    ["name", "version", "dependencies", "missing", "required", "invalid", "a", "b"]
                ),
                children,
                max_size=4,
            )
        ),
        max_leaves=20,
    )
)
def test_any_json_gives_a_tree_or_an_input_error(value: object) -> None:
    try:
        tree = parse_npm_ls(json.dumps(value), "h.json")
    except InputError as exc:
        assert str(exc).startswith("h.json: ")
        return
    find_problems(tree)


# -- running npm ---------------------------------------------------------------------------


def _fake_npm(bin_dir: Path, body: str) -> None:
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text("#!/bin/sh\n" + body)
    npm.chmod(npm.stat().st_mode | stat.S_IEXEC)


@pytest.mark.skipif(os.name != "posix", reason="fake npm is a shell script")
def test_run_npm_ls_nonzero_exit_with_json_is_normal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = PROJECTS / "broken" / "npm-ls.json"
    _fake_npm(tmp_path / "bin", f'echo "$@" > "{tmp_path}/args"\ncat "{saved}"\nexit 1\n')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    tree = run_npm_ls(tmp_path, timeout=30)
    assert len(tree.reported_problems) == 3
    assert (tmp_path / "args").read_text().split() == [
        "ls",
        "--all",
        "--long",
        "--json",
        "--ignore-scripts",
    ]


@pytest.mark.skipif(os.name != "posix", reason="fake npm is a shell script")
def test_run_npm_ls_failure_without_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_npm(tmp_path / "bin", 'echo "npm error code ENOENT" >&2\nexit 254\n')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(InputError, match="exit 254.*ENOENT"):
        run_npm_ls(tmp_path, timeout=30)


@pytest.mark.npm
@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not on PATH")
def test_real_npm_ls_on_a_hand_made_tree(tmp_path: Path) -> None:
    """A project whose node_modules is written by hand: npm ls needs no network for it."""
    (tmp_path / "package.json").write_text(
        json.dumps({"name": "hand", "version": "1.0.0", "dependencies": {"a": "^1.0.0", "c": "^1"}})
    )
    for name, version, deps in [
        ("a", "1.0.0", {"b": "^2.0.0"}),
        ("b", "1.5.0", {}),
        ("x", "1.0.0", {}),
    ]:
        folder = tmp_path / "node_modules" / name
        folder.mkdir(parents=True)
        (folder / "package.json").write_text(
            json.dumps({"name": name, "version": version, "dependencies": deps})
        )
    tree = run_npm_ls(tmp_path, timeout=120)
    problems = {(p.kind, p.path) for p in find_problems(tree)}
    assert problems == {
        (ProblemKind.MISSING, ("c",)),
        (ProblemKind.INVALID, ("a", "b")),
        (ProblemKind.EXTRANEOUS, ("x",)),
    }


@pytest.mark.npm
@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not on PATH")
def test_real_npm_ls_says_dev_and_optional(tmp_path: Path) -> None:
    """The scan's own npm ls run must give dev and optional flags: without ``--long`` every
    package came back as a production dependency and dev-only leaks weighed in full."""
    (tmp_path / "package.json").write_text(
        json.dumps(
            {
                "name": "flags",
                "version": "1.0.0",
                "dependencies": {"a": "^1.0.0"},
                "devDependencies": {"d": "^1.0.0"},
                "optionalDependencies": {"o": "^1.0.0"},
            }
        )
    )
    for name, deps in [
        ("a", {"b": "^1"}),
        ("b", {}),
        ("d", {"e": "^1"}),
        ("e", {}),
        ("o", {"f": "^1"}),
        ("f", {}),
    ]:
        folder = tmp_path / "node_modules" / name
        folder.mkdir(parents=True)
        (folder / "package.json").write_text(
            json.dumps({"name": name, "version": "1.0.0", "dependencies": deps})
        )
    tree = run_npm_ls(tmp_path, timeout=120)
    flags = {p.name: (p.dev, p.optional) for p in tree.packages}
    assert flags == {
        "a": (False, False),
        "b": (False, False),
        "d": (True, False),
        "e": (True, False),
        "o": (False, True),
        "f": (False, True),
    }


def test_without_long_the_flags_are_said_to_be_unknown() -> None:
    short = NpmLsSource().load(PROJECTS / "broken" / "npm-ls.json")
    long = NpmLsSource().load(PROJECTS / "broken" / "npm-ls-long.json")
    assert any("without --long" in w for w in short.warnings)
    assert not any("without --long" in w for w in long.warnings)
    # broken/ has is-odd as its only devDependency: --long says so, the short output cannot
    assert {p.name for p in long.packages if p.dev} >= {"is-odd"}
    assert not any(p.dev for p in short.packages)


@pytest.mark.parametrize(
    "project", sorted(p.name for p in PROJECTS.iterdir() if (p / "npm-ls-long.json").is_file())
)
def test_long_output_gives_the_lockfile_folder_of_every_placement(project: str) -> None:
    """With --long each placement is its folder, as package-lock keys it, so a report can
    point into the lockfile (SARIF lines) whichever view of the tree was read."""
    tree = NpmLsSource().load(PROJECTS / project / "npm-ls-long.json")
    lock = json.loads((PROJECTS / project / "package-lock.json").read_text())
    from_lock = PackageLockSource().load(PROJECTS / project / "package-lock.json")
    keys = set(lock["packages"])
    # broken/ has a package replaced by hand after npm install: npm says it is invalid
    invalid = {p.path for p in tree.reported_problems if p.kind is ProblemKind.INVALID}
    assert tree.packages
    for pkg in tree.packages:
        if pkg.extraneous:
            continue  # installed by hand, so not in the lockfile
        assert pkg.location in keys, pkg
        if pkg.path not in invalid:
            assert lock["packages"][pkg.location]["version"] == pkg.version
            # and the same path and flags as the lockfile's own reader gives that folder
            locked = from_lock.at(pkg.location)
            assert locked is not None
            assert (pkg.path, pkg.dev, pkg.optional) == (locked.path, locked.dev, locked.optional)


def test_long_paths_outside_the_root_keep_a_synthetic_location() -> None:
    text = json.dumps(
        {
            "name": "r",
            "path": "/p/root",
            "dependencies": {
                "a": {"version": "1.0.0", "path": "/p/root/node_modules/a"},
                "b": {"version": "1.0.0", "path": "/p/root/../elsewhere/b"},
                "c": {"version": "1.0.0", "path": "/p/other/node_modules/c"},
            },
        }
    )
    locations = {p.name: p.location for p in parse_npm_ls(text, "x").packages}
    assert locations["a"] == "node_modules/a"
    assert locations["b"].startswith("npm-ls:") and locations["c"].startswith("npm-ls:")


@pytest.mark.parametrize(
    ("saved", "kind"),
    [("npm-ls-long.json", ProblemKind.PEER_INVALID), ("npm-ls.json", ProblemKind.INVALID)],
)
def test_an_invalid_mark_belongs_to_the_dependent_npm_names(saved: str, kind: ProblemKind) -> None:
    """react-dom 18 with react 17 (npm 11, --legacy-peer-deps). npm marks every appearance of
    react `invalid: "^18.2.0" from node_modules/react-dom`; only react-dom's edge is broken
    (the root asks for 17.0.2; use-sync-external-store accepts ^17). Without --long the edge
    cannot be told to be a peer edge."""
    project = PROJECTS / "peer-invalid-legacy"
    tree = NpmLsSource().load(project / saved)
    broken = {
        (p.kind, p.path)
        for p in find_problems(tree)
        if p.kind in (ProblemKind.INVALID, ProblemKind.PEER_INVALID)
    }
    assert broken == {(kind, ("react-dom", "react"))}


def test_combined_view_takes_npms_flags_from_the_lockfile(tmp_path: Path) -> None:
    """npm ls --long lists no optionalDependencies for bundled packages (seen with npm's own
    bundle: `encoding` under minipass-fetch), so from its edges alone an optional package
    looks required; where node_modules holds what the lockfile says, the lockfile's flags
    (npm's own computation) are taken."""
    from depaudit.sources.loader import combine

    lock = {
        "name": "app",
        "lockfileVersion": 3,
        "packages": {
            "": {"name": "app", "dependencies": {"a": "^1.0.0"}},
            "node_modules/a": {"version": "1.0.0", "optionalDependencies": {"b": "^1.0.0"}},
            "node_modules/b": {"version": "1.0.0", "optional": True},
        },
    }
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    listed = {
        "name": "app",
        "path": "<p>",
        "_dependencies": {"a": "^1.0.0"},
        "dependencies": {
            "a": {
                "version": "1.0.0",
                "path": "<p>/node_modules/a",
                "_dependencies": {"b": "^1.0.0"},
                "dependencies": {"b": {"version": "1.0.0", "path": "<p>/node_modules/b"}},
            }
        },
    }
    installed = parse_npm_ls(json.dumps(listed), "npm ls")
    assert {p.name: p.optional for p in installed.packages} == {"a": False, "b": False}
    both = combine(installed, PackageLockSource().load(tmp_path / "package-lock.json"))
    assert {p.name: p.optional for p in both.packages} == {"a": False, "b": True}


def test_a_production_install_is_not_reported_as_missing_its_dev_dependencies() -> None:
    """npm 11, `npm ci --omit=dev` (a production image): npm ls calls the devDependency
    is-odd missing and fsevents (darwin only) is absent; neither is a problem of the
    installed tree, and a warning says why dev dependencies are not checked."""
    from depaudit.sources.loader import combine

    project = PROJECTS / "omit-dev"
    installed = NpmLsSource().load(project / "npm-ls-long.json")
    assert {(p.kind, p.name) for p in find_problems(installed)} >= {(ProblemKind.MISSING, "is-odd")}
    both = combine(installed, PackageLockSource().load(project / "package-lock.json"))
    assert [p for p in find_problems(both) if p.kind is not ProblemKind.DEDUPED] == []
    assert any("--omit=dev" in w and "is-odd" in w for w in both.warnings)
    assert not any("differs from" in w for w in both.warnings)  # fsevents is optional


def test_a_dependencys_dev_dependencies_do_not_replace_its_peers() -> None:
    """issue 16.7: real npm 11 output; redux-thunk declares redux as peer and dev: npm ignores
    a non-root package's devDependencies, so the missing redux is an unmet peer."""
    from depaudit.tree import find_problems

    folder = Path(__file__).resolve().parent.parent / "assets" / "projects" / "peer-dev-same-name"
    tree = NpmLsSource().load(folder / "npm-ls-long.json")
    problems = [p for p in find_problems(tree) if p.kind.value != "deduped"]
    assert [(p.kind.value, p.name, p.path, p.wanted) for p in problems] == [
        ("peer-missing", "redux", ("redux-thunk", "redux"), "^4")
    ]
