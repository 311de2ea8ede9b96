"""tree.sharing: deduped placements, duplicate versions and every path to a placement."""

from __future__ import annotations

import nodesemver
from hypothesis import given, settings
from hypothesis import strategies as st
from small_trees import make_tree, pkg

from depaudit.models import Dependency, DepType, Importer, ProblemKind
from depaudit.tree import find_problems
from depaudit.tree.sharing import MAX_DEPENDENTS, MAX_PATHS, all_paths
from depaudit.versions import order_key


def test_deduped_names_every_other_dependent_and_is_capped() -> None:
    ms = pkg("ms", "2.1.3", ("ms",))
    users = [
        pkg(f"u{i:02}", "1.0.0", (f"u{i:02}",), Dependency("ms", "^2", DepType.PROD, ms.location))
        for i in range(MAX_DEPENDENTS + 3)
    ]
    root = Importer(
        "root",
        "1.0.0",
        "",
        (
            Dependency("ms", "^2.1.0", DepType.PROD, ms.location),
            *(Dependency(u.name, "1", DepType.PROD, u.location) for u in users),
        ),
    )
    [dedup] = [
        p for p in find_problems(make_tree([ms, *users], [root])) if p.kind is ProblemKind.DEDUPED
    ]
    assert dedup.path == ("ms",)
    assert f"shared by {MAX_DEPENDENTS + 4} dependents" in dedup.detail
    assert "u00 > ms (^2)" in dedup.detail
    assert "and 3 more" in dedup.detail


def test_duplicate_versions_lists_every_path() -> None:
    old = pkg("debug", "2.6.9", ("express", "debug"))
    express = pkg(
        "express", "4.0.0", ("express",), Dependency("debug", "2", DepType.PROD, old.location)
    )
    send = pkg("send", "1.0.0", ("send",), Dependency("debug", "2", DepType.PROD, old.location))
    new = pkg("debug", "4.4.3", ("debug",))
    root = Importer(
        "root",
        "1.0.0",
        "",
        tuple(Dependency(p.name, "*", DepType.PROD, p.location) for p in (express, send, new)),
    )
    [dup] = [
        p
        for p in find_problems(make_tree([old, express, send, new], [root]))
        if p.kind is ProblemKind.DUPLICATE_VERSIONS
    ]
    assert dup.found == "2.6.9, 4.4.3"
    assert dup.detail == "2 versions: 2.6.9 at express > debug, send > debug; 4.4.3 at debug"


def test_duplicate_versions_shows_one_path_per_dependent_up_to_the_cap() -> None:
    old = pkg("debug", "2.6.9", ("u00", "debug"))
    users = [
        pkg(
            f"u{i:02}", "1.0.0", (f"u{i:02}",), Dependency("debug", "2", DepType.PROD, old.location)
        )
        for i in range(MAX_PATHS + 5)
    ]
    new = pkg("debug", "4.4.3", ("debug",))
    root = Importer(
        "root",
        "1.0.0",
        "",
        tuple(Dependency(p.name, "*", DepType.PROD, p.location) for p in (*users, new)),
    )
    [dup] = [
        p
        for p in find_problems(make_tree([old, *users, new], [root]))
        if p.kind is ProblemKind.DUPLICATE_VERSIONS
    ]
    shown = dup.detail.split("; ")[0]
    assert shown.startswith("2 versions: 2.6.9 at u00 > debug, u01 > debug")
    assert f"u{MAX_PATHS - 1:02} > debug and 5 more" in shown
    assert f"u{MAX_PATHS:02} > debug" not in shown


def test_all_paths_one_per_dependent_and_no_cycle() -> None:
    ms = pkg("ms", "2.1.3", ("a", "ms"))
    a = pkg("a", "1.0.0", ("a",), Dependency("ms", "2", DepType.PROD, ms.location))
    b = pkg("b", "1.0.0", ("b",), Dependency("ms", "2", DepType.PROD, ms.location))
    # ms depends back on a: a is on ms's own path, so that edge is no path to a
    ms = pkg("ms", "2.1.3", ("a", "ms"), Dependency("a", "1", DepType.PROD, a.location))
    root = Importer(
        "root",
        "1.0.0",
        "",
        tuple(Dependency(p.name, "1", DepType.PROD, p.location) for p in (a, b)),
    )
    paths = all_paths(make_tree([a, b, ms], [root]))
    assert paths[ms.location] == ([("a", "ms"), ("b", "ms")], 0)
    assert paths[a.location] == ([("a",)], 0)


@given(
    st.lists(
        st.one_of(
            st.builds(lambda a, b, c: f"{a}.{b}.{c}", *(st.integers(0, 12) for _ in range(3))),
            st.builds(
                lambda a, b: f"{a}.0.{b}-{'rc.1' if b % 2 else 'beta'}",
                st.integers(0, 12),
                st.integers(0, 12),
            ),
            st.sampled_from(["v1.2.3", "1.0.0beta2", "=2.0.0", "1.2", "not-a-version", "1.2.3+b"]),
        ),
        min_size=2,
        max_size=8,
    )
)
@settings(max_examples=200, deadline=None)
def test_versions_are_listed_in_node_semvers_order(versions: list[str]) -> None:
    """The versions a duplicate-versions problem (and the duplicate-stateful rule) names, in
    the order node-semver's triples give them (without importing it for plain releases and
    prereleases: ``versions.order_key``)."""

    def expected(version: str) -> tuple[int, object]:
        try:
            parsed = nodesemver.make_semver(version, loose=True)
        except ValueError:
            return (1, version)
        if parsed.micro_versions:
            return (1, version)
        return (0, (parsed.major, parsed.minor, parsed.patch, version))

    assert sorted(set(versions), key=order_key) == sorted(set(versions), key=expected)
