"""depaudit.models: DependencyTree.evolve and best_runtime."""

from __future__ import annotations

from dataclasses import replace

import pytest

from depaudit.models import (
    DependencyTree,
    Package,
    PlacementRuntime,
    Runtime,
    SourceInfo,
    best_runtime,
)


def _tree() -> DependencyTree:
    return DependencyTree(
        source=SourceInfo(kind="package-lock", path="package-lock.json", lockfile_version=3),
        root_name="app",
        root_version="1.0.0",
        packages=(
            Package("a", "1.0.0", "node_modules/a", ("a",)),
            Package("a", "2.0.0", "node_modules/b/node_modules/a", ("b", "a")),
            Package("b", "1.0.0", "node_modules/b", ("b",)),
        ),
        warnings=("w",),
    )


def test_evolve_is_replace_and_keeps_the_indexes() -> None:
    tree = _tree()
    runtime = {"node_modules/a": PlacementRuntime(Runtime.LOADED)}
    new = tree.evolve(runtime=runtime, warnings=("w", "x"))
    assert new == replace(tree, runtime=runtime, warnings=("w", "x"))
    assert new.runtime is runtime and new.warnings == ("w", "x")
    assert tree.warnings == ("w",) and not tree.runtime  # the original is unchanged
    assert new.at("node_modules/b") is tree.at("node_modules/b")
    assert new.placements("a") == tree.placements("a") and len(new.placements("a")) == 2
    assert new.placements("a", "2.0.0")[0].location == "node_modules/b/node_modules/a"
    assert new.runtime_of("a", "1.0.0") == PlacementRuntime(Runtime.LOADED)


def test_evolve_with_new_placements_rebuilds_the_indexes() -> None:
    tree = _tree()
    new = tree.evolve(packages=tree.packages[:1])
    assert new.at("node_modules/b") is None
    assert new.placements("a") == tree.packages[:1]


def test_evolve_refuses_unknown_and_derived_fields() -> None:
    with pytest.raises(TypeError, match="nope"):
        _tree().evolve(nope=1)
    with pytest.raises(TypeError, match="_by_location"):
        _tree().evolve(_by_location={})


def test_best_runtime_takes_the_first_best_status() -> None:
    lazy_a = PlacementRuntime(Runtime.LAZY, "a")
    lazy_b = PlacementRuntime(Runtime.LAZY, "b")
    unknown = PlacementRuntime(Runtime.UNKNOWN)
    not_loaded = PlacementRuntime(Runtime.NOT_LOADED, "dev only")
    assert best_runtime([]) is None
    assert best_runtime([not_loaded, unknown]) is unknown
    assert best_runtime([not_loaded, lazy_a, unknown, lazy_b]) is lazy_a
    assert best_runtime([lazy_b, PlacementRuntime(Runtime.LOADED), lazy_a]).status is Runtime.LOADED
