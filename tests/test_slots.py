"""``depaudit.slots.dataclass`` makes every class exactly as ``dataclasses.dataclass`` does,
without five of its six ``exec`` s: each model class is held to a twin the standard decorator
makes from the same fields, over any field values."""

from __future__ import annotations

import copy
import dataclasses
import importlib
import inspect
import pickle
import pkgutil
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import depaudit
from depaudit import slots


def _all_dataclasses() -> list[type]:
    found: dict[str, type] = {}
    for info in pkgutil.walk_packages(depaudit.__path__, "depaudit."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and value.__module__ == info.name
                and "__dataclass_fields__" in value.__dict__
            ):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[key] for key in sorted(found)]


def _made_here(cls: type) -> bool:
    return getattr(cls.__eq__, "__code__", None) is not None and (
        cls.__eq__.__code__.co_filename == slots.__file__
    )


FAST = [cls for cls in _all_dataclasses() if _made_here(cls)]


# classes of the shapes the models do not all have: no field, one, and every field option
@slots.dataclass(frozen=True, slots=True)
class NoField:
    """No field."""


@slots.dataclass(frozen=True, slots=True)
class OneField:
    """One field."""

    only: Any


@slots.dataclass(frozen=True, slots=True)
class Options:
    first: Any
    hidden: Any = dataclasses.field(default=None, repr=False)
    ignored: Any = dataclasses.field(default=0, compare=False)
    unhashed: Any = dataclasses.field(default=1, hash=False)
    hashed_only: Any = dataclasses.field(default=2, compare=False, hash=True)
    kind: ClassVar[str] = "options"


@slots.dataclass(frozen=True, slots=True)
class Factories:
    """Fields with default factories, between plain ones."""

    first: Any
    items: list[int] = dataclasses.field(default_factory=list)
    plain: Any = None
    table: dict[str, int] = dataclasses.field(default_factory=dict, repr=False)


SHAPES = [NoField, OneField, Options, Factories]


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_default_factories_are_called_as_dataclass_calls_them(data: st.DataObject) -> None:
    """Each instance that leaves a factory's field out gets a new value from it; one given
    is kept; any other mix of arguments builds what the standard class builds, or fails the
    same way."""
    twin = _twin(Factories)
    count = data.draw(st.integers(0, 5))
    args = [data.draw(_VALUES) for _ in range(count)]
    ours, theirs = _outcome(Factories, *args), _outcome(twin, *args)
    assert ours[0] == theirs[0]
    if ours[0] == "raised":  # too many arguments: the same TypeError, word for word
        assert ours[1:] == theirs[1:]
    else:
        assert repr(ours[1]) == repr(theirs[1])
        again = Factories(*args)
        if count < 2:
            assert again.items == [] and again.items is not ours[1].items
        else:
            assert again.items is args[1]
        if count < 4:
            assert again.table == {} and again.table is not ours[1].table


def test_the_fast_path_makes_most_model_classes() -> None:
    """Not a test that passes on none: the scan's frozen models take the fast path (where
    this Python is one it knows), and the rest are what it leaves to the standard one."""
    if not slots.FAST_DATACLASSES:
        assert FAST == []
        return
    assert all(_made_here(cls) for cls in SHAPES)
    names = {cls.__name__ for cls in FAST}
    assert {"Package", "Dependency", "TreeProblem", "PackageFacts", "CacheEntry"} <= names
    assert len(FAST) >= 40


def _twin(cls: type) -> type:
    """The class as ``dataclasses.dataclass(frozen=True, slots=True)`` makes it."""
    specs = []
    for f in dataclasses.fields(cls):
        options: dict[str, Any] = {"repr": f.repr, "compare": f.compare, "hash": f.hash}
        if f.default is not dataclasses.MISSING:
            options["default"] = f.default
        if f.default_factory is not dataclasses.MISSING:
            options["default_factory"] = f.default_factory
        specs.append((f.name, f.type, dataclasses.field(**options)))
    twin = dataclasses.make_dataclass(cls.__name__, specs, frozen=True, slots=True)
    twin.__qualname__ = cls.__qualname__
    return twin


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=False, width=16),
    st.text(max_size=3),
    st.tuples(st.text(max_size=2)),
    st.lists(st.integers(0, 2), max_size=2),  # unhashable
)


def _bare(kind: type, values: list[Any]) -> Any:
    """An instance holding ``values``, past any ``__init__``."""
    made = object.__new__(kind)
    for f, value in zip(dataclasses.fields(kind), values, strict=True):
        object.__setattr__(made, f.name, value)
    return made


def _outcome(call: Any, *args: Any) -> Any:
    try:
        return ("ok", call(*args))
    except Exception as exc:  # noqa: BLE001 - the exception is what is compared
        return ("raised", type(exc), str(exc))


@pytest.mark.parametrize("cls", FAST + SHAPES, ids=lambda c: c.__qualname__)
def test_each_class_is_described_as_the_standard_one_describes_it(cls: type) -> None:
    twin = _twin(cls)
    ours_params, their_params = cls.__dataclass_params__, twin.__dataclass_params__  # type: ignore[attr-defined]
    for name in ("init", "repr", "eq", "order", "unsafe_hash", "frozen"):
        assert getattr(ours_params, name) == getattr(their_params, name), name
    assert cls.__match_args__ == twin.__match_args__  # type: ignore[attr-defined]
    assert str(inspect.signature(cls)) == str(inspect.signature(twin))
    assert cls.__slots__ == twin.__slots__  # type: ignore[attr-defined]
    if cls.__doc__ and cls.__doc__.startswith(cls.__name__ + "("):  # no docstring of its own
        assert cls.__doc__ == twin.__doc__
    for name in ("__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__", "__init__"):
        assert getattr(cls, name).__qualname__ == f"{cls.__qualname__}.{name}"


@settings(max_examples=40, deadline=None)
@pytest.mark.parametrize("cls", FAST + SHAPES, ids=lambda c: c.__qualname__)
@given(data=st.data())
def test_each_class_behaves_as_the_standard_one_makes_it(cls: type, data: st.DataObject) -> None:
    """repr (recursive too), ==, !=, hash, the refusals of a frozen class (their messages
    included), pickling, copying and ``replace``, over any field values."""
    twin = _twin(cls)
    found = dataclasses.fields(cls)
    first = [data.draw(_VALUES) for _ in found]
    second = list(first)
    if found and data.draw(st.booleans()):
        second[data.draw(st.integers(0, len(found) - 1))] = data.draw(_VALUES)
    recursive = bool(found) and data.draw(st.integers(0, 4)) == 0
    own, their_own = list(first), list(first)
    if recursive:  # an instance inside its own field: "..."
        own[0], their_own[0] = [], []
    ours = (_bare(cls, own), _bare(cls, second))
    theirs = (_bare(twin, their_own), _bare(twin, second))
    if recursive:
        own[0].append(ours[0])
        their_own[0].append(theirs[0])
    assert repr(ours[0]) == repr(theirs[0])
    assert _outcome(lambda: repr(ours[1])) == _outcome(lambda: repr(theirs[1]))
    assert _outcome(lambda: ours[0] == ours[1]) == _outcome(lambda: theirs[0] == theirs[1])
    assert _outcome(lambda: ours[0] != ours[1]) == _outcome(lambda: theirs[0] != theirs[1])
    assert ours[0].__eq__(theirs[0]) is NotImplemented
    assert (ours[0] == object()) is False
    assert _outcome(lambda: hash(ours[1])) == _outcome(lambda: hash(theirs[1]))
    for name in [f.name for f in found[:1]] + ["not_a_field"]:
        assert _outcome(setattr, ours[1], name, 1) == _outcome(setattr, theirs[1], name, 1)
        assert _outcome(delattr, ours[1], name) == _outcome(delattr, theirs[1], name)
    assert [getattr(ours[1], f.name) for f in found] == second  # nothing was changed
    assert ours[1].__getstate__() == theirs[1].__getstate__()
    restored = copy.copy(ours[1])
    assert type(restored) is cls
    assert [getattr(restored, f.name) for f in found] == second
    replaced = dataclasses.replace(ours[1])
    assert [getattr(replaced, f.name) for f in found] == second


@settings(max_examples=20, deadline=None)
@given(values=st.lists(st.integers(-2, 2) | st.text(max_size=2), min_size=1, max_size=3))
def test_a_class_made_here_pickles_and_builds_as_the_standard_one(values: list[Any]) -> None:
    from depaudit.models import Dependency, PlacementRuntime
    from depaudit.overrides import Override

    for cls in (Dependency, PlacementRuntime, Override):
        if not _made_here(cls):
            continue
        twin = _twin(cls)
        count = len(dataclasses.fields(cls))
        args = (values * count)[:count]
        assert repr(cls(*args)) == repr(twin(*args))
        made = _bare(cls, args)
        assert pickle.loads(pickle.dumps(made)) == made


def test_what_the_fast_path_leaves_to_the_standard_decorator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Other options, a field not in ``__init__``, ``__post_init__``, ``InitVar``, a
    dataclass base, a method of its own, or another Python: the standard decorator makes
    all of it."""

    def standard(cls: type) -> bool:
        return not _made_here(cls)

    @slots.dataclass(frozen=True)
    class Unslotted:
        a: int

    @slots.dataclass(frozen=True, slots=True)
    class NotInInit:
        a: int = dataclasses.field(default=0, init=False)

    @slots.dataclass(frozen=True, slots=True)
    class PostInit:
        a: int

        def __post_init__(self) -> None:
            pass

    @slots.dataclass(frozen=True, slots=True)
    class WithInitVar:
        a: int
        b: dataclasses.InitVar[int] = 0

    @slots.dataclass(frozen=True, slots=True)
    class OwnEq:
        a: int

        def __eq__(self, other: object) -> bool:
            return True

    @slots.dataclass(frozen=True, slots=True)
    class Base:
        a: int

    @slots.dataclass(frozen=True, slots=True)
    class Derived(Base):
        b: int = 0

    @slots.dataclass(frozen=True, slots=True)
    class WithClassVar:
        a: int
        kind: ClassVar[str] = "k"

    for cls in (Unslotted, NotInInit, PostInit, WithInitVar, OwnEq, Derived):
        assert standard(cls), cls
    assert OwnEq(1) == OwnEq(2)  # its own __eq__ kept
    assert Derived(1, 2) != Derived(1, 3) and Derived(1).a == 1
    if slots.FAST_DATACLASSES:
        assert not standard(Base) and not standard(WithClassVar)
        assert WithClassVar(1) == WithClassVar(1) and WithClassVar.kind == "k"
        assert [f.name for f in dataclasses.fields(WithClassVar)] == ["a"]
    monkeypatch.setattr(slots, "FAST_DATACLASSES", False)

    @slots.dataclass(frozen=True, slots=True)
    class Elsewhere:
        a: int

    assert standard(Elsewhere)
    with pytest.raises(dataclasses.FrozenInstanceError):
        Elsewhere(1).a = 2  # type: ignore[misc]
