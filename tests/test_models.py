"""depaudit.models: DependencyTree.evolve, PackageFacts.evolve and merge, best_runtime."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from depaudit.models import (
    DependencyTree,
    Package,
    PackageFacts,
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


def _facts() -> PackageFacts:
    when = datetime(2024, 5, 1, tzinfo=UTC)
    return PackageFacts(
        "a",
        "1.0.0",
        in_registry=True,
        latest="2.0.0",
        created=when,
        last_release=when,
        versions_behind=3,
        libyears=1.5,
        deprecation_known=True,
        repository="r",
    )


def test_facts_evolve_is_replace() -> None:
    facts = _facts()
    changes = {"created": None, "libyears": None, "deprecation_known": False}
    new = facts.evolve(**changes)
    assert new == replace(facts, **changes)
    assert (new.created, new.libyears, new.deprecation_known) == (None, None, False)
    assert facts.created is not None and facts.libyears == 1.5  # the original is unchanged
    assert {f.name: getattr(new, f.name) for f in fields(new) if f.name not in changes} == {
        f.name: getattr(facts, f.name) for f in fields(facts) if f.name not in changes
    }
    assert facts.evolve() == facts
    with pytest.raises(TypeError, match="nope"):
        facts.evolve(nope=1)


def test_facts_merge_keeps_known_values() -> None:
    facts = _facts()
    other = PackageFacts("a", "1.0.0", latest="9.9.9", majors_behind=1, repository=None)
    merged = facts.merge(other)
    assert merged.latest == "2.0.0" and merged.majors_behind == 1 and merged.repository == "r"
    assert merged == replace(facts, majors_behind=1)
    assert PackageFacts("a", "1.0.0").merge(facts) == replace(facts)


def test_best_runtime_takes_the_first_best_status() -> None:
    lazy_a = PlacementRuntime(Runtime.LAZY, "a")
    lazy_b = PlacementRuntime(Runtime.LAZY, "b")
    unknown = PlacementRuntime(Runtime.UNKNOWN)
    not_loaded = PlacementRuntime(Runtime.NOT_LOADED, "dev only")
    assert best_runtime([]) is None
    assert best_runtime([not_loaded, unknown]) is unknown
    assert best_runtime([not_loaded, lazy_a, unknown, lazy_b]) is lazy_a
    assert best_runtime([lazy_b, PlacementRuntime(Runtime.LOADED), lazy_a]).status is Runtime.LOADED


# -- slot_init: the frozen models' faster __init__ --------------------------------------------


def _slot_init_classes() -> list[type]:
    from depaudit.cache import CacheEntry
    from depaudit.models import Dependency, TreeProblem
    from depaudit.scoring.context import Target

    return [Dependency, Package, TreeProblem, PlacementRuntime, PackageFacts, Target, CacheEntry]


def _reference(cls: type) -> type:
    """The class as ``dataclass`` alone would make it (its own frozen ``__init__``)."""
    import dataclasses

    return dataclasses.make_dataclass(
        cls.__name__,
        [
            (f.name, f.type, f.default)
            if f.default is not dataclasses.MISSING
            else (f.name, f.type)
            for f in fields(cls)
        ],
        frozen=True,
        slots=True,
    )


@pytest.mark.parametrize("cls", _slot_init_classes(), ids=lambda c: c.__name__)
def test_slot_init_takes_the_same_parameters(cls: type) -> None:
    import inspect

    mine = inspect.signature(cls.__init__).parameters
    theirs = inspect.signature(_reference(cls).__init__).parameters
    assert [(p.name, p.kind, p.default) for p in mine.values()] == [
        (p.name, p.kind, p.default) for p in theirs.values()
    ]
    assert cls.__init__.__code__.co_filename == "<string>"  # it is the generated one


_VALUES = st.one_of(st.none(), st.booleans(), st.text(max_size=3), st.tuples(st.text(max_size=2)))


@pytest.mark.parametrize("cls", _slot_init_classes(), ids=lambda c: c.__name__)
@given(data=st.data())
def test_slot_init_builds_what_the_dataclass_init_builds(cls: type, data: st.DataObject) -> None:
    """Any mix of positional, keyword and left-out arguments gives the same fields, or the
    same TypeError (a missing, repeated, unknown or extra argument); the object stays frozen
    and equal objects hash alike."""
    import dataclasses

    reference = _reference(cls)
    args: list[object] = []
    kwargs: dict[str, object] = {}
    positional = True
    for f in fields(cls):
        how = data.draw(st.sampled_from(["positional", "keyword", "out"]))
        if how == "positional" and positional:
            args.append(data.draw(_VALUES))
        elif how == "keyword" or (how == "positional" and not positional):
            positional = False
            kwargs[f.name] = data.draw(_VALUES)
        else:
            positional = False  # a left-out field ends the positional ones
    if data.draw(st.booleans()):
        kwargs[data.draw(st.sampled_from(["unknown", fields(cls)[0].name]))] = 1
    if data.draw(st.integers(0, 9)) == 0:
        args.append("extra")

    def build(kind: type) -> object:
        try:
            return kind(*args, **kwargs)
        except TypeError:
            return TypeError

    mine, theirs = build(cls), build(reference)
    if theirs is TypeError:
        assert mine is TypeError
        return
    assert mine is not TypeError
    assert [getattr(mine, f.name) for f in fields(cls)] == [
        getattr(theirs, f.name) for f in fields(cls)
    ]
    with pytest.raises(dataclasses.FrozenInstanceError):
        mine.__setattr__(fields(cls)[0].name, "changed")
    copy = replace(mine)  # type: ignore[type-var]
    assert copy == mine
    try:
        assert hash(copy) == hash(mine)
    except TypeError:  # a field holds something unhashable (a list): as for the dataclass
        with pytest.raises(TypeError):
            hash(theirs)


def test_slot_init_refuses_what_it_cannot_copy() -> None:
    from dataclasses import dataclass, field

    from depaudit.slots import slot_init

    @dataclass(frozen=True, slots=True)
    class WithFactory:
        items: list[int] = field(default_factory=list)

    @dataclass(frozen=True)
    class WithoutSlots:
        name: str

    for cls in (WithFactory, WithoutSlots):
        with pytest.raises(TypeError, match="slot_init"):
            slot_init(cls)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([f.name for f in fields(PackageFacts)]),
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        max_size=8,
    )
)
def test_facts_evolve_is_replace_for_any_fields(changes: dict[str, object]) -> None:
    """Any set of fields, any values: the same object ``dataclasses.replace`` makes, and the
    original unchanged."""
    facts = _facts()
    before = {f.name: getattr(facts, f.name) for f in fields(facts)}
    new = facts.evolve(**changes)
    assert {f.name: getattr(new, f.name) for f in fields(new)} == {
        f.name: getattr(replace(facts, **changes), f.name) for f in fields(facts)
    }
    assert {f.name: getattr(facts, f.name) for f in fields(facts)} == before
    assert type(new) is PackageFacts


def test_runtime_label_is_each_status_value_and_a_dash_when_not_analysed() -> None:
    from depaudit.models import PlacementRuntime, Runtime, runtime_label

    assert runtime_label(None) == "-"
    for status in Runtime:
        label = runtime_label(PlacementRuntime(status, "why"))
        assert label == status.value and type(label) is str
