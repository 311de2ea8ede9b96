"""Frozen, slotted dataclasses made faster: ``slot_init`` (an ``__init__`` per model class
that sets each slot through its descriptor) and :func:`dataclass` (the methods a frozen
dataclass gets, made without ``exec``).

A module of its own so that what uses it without the models (``cache.CacheEntry``) does not
import them: ``depaudit cache``, ``db`` and ``code`` never need ``models``.

**Why** :func:`dataclass`: on Python 3.11 and 3.12, ``dataclasses.dataclass`` compiles every
method it makes from source with one ``exec`` each: ``__init__``, ``__repr__``, ``__eq__``,
``__hash__``, and for a frozen class ``__setattr__`` and ``__delattr__``. An offline scan
defines ~68 dataclasses, 378 such ``exec`` s: 30-50 ms of every run's start, before any work.
:func:`dataclass` asks the standard one for the class with none of them, gives it
:func:`slot_init`'s ``__init__`` (one ``exec``) and the other five as closures over the
class's field names, which behave exactly as the generated ones do on these versions
(``tests/test_slots.py`` holds every model class to a twin made by ``dataclasses.dataclass``,
over any field values; a script run by hand found no difference on 3.12 either). Every other
case is left to ``dataclasses.dataclass`` itself: another Python (3.13 makes every method with
one ``exec``, and its ``__eq__`` differs), other options than ``frozen=True, slots=True``, a
field not in ``__init__`` or keyword-only, ``InitVar``, ``__post_init__``, a dataclass base,
or a class that writes any of these methods itself.
It is marked ``typing.dataclass_transform``, so mypy checks the classes it makes as the
dataclasses they are (their ``__init__``, frozen fields, ``replace`` and ``fields``).
"""

from __future__ import annotations

import _thread
import dataclasses
import inspect
import sys
from collections.abc import Callable
from dataclasses import MISSING, FrozenInstanceError, fields
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform

_T = TypeVar("_T")


def slot_init(cls: type[_T]) -> type[_T]:
    """Give a frozen, slotted dataclass an ``__init__`` that sets each slot through its
    descriptor. The one ``dataclass`` makes for a frozen class goes through
    ``object.__setattr__`` per field: 4.2 µs against 1.8 µs for a :class:`Package`, 2.3 against
    0.9 for a :class:`TreeProblem`, and a 50,000-entry scan makes ~330,000 models. The same
    parameters in the same order with the same defaults; the class stays frozen (its
    ``__setattr__`` still refuses). Plain fields only: a field with a factory, ``init=False``
    or ``kw_only``, or a ``__post_init__``, is refused here (``tests/test_models.py`` holds the
    two ``__init__`` to the same objects). A class :func:`dataclass` made has it already."""
    if getattr(cls.__init__, "__slot_init__", False):
        return cls
    found = fields(cls)  # type: ignore[arg-type]
    if not _plain(cls, found) or not getattr(cls, "__slots__", None):
        raise TypeError(f"slot_init: {cls.__name__} is not a slotted class of plain fields")
    cls.__init__ = _slot_init_fn(cls, found)  # type: ignore[method-assign]
    return cls


def _plain(cls: type, found: tuple[Any, ...], factories: bool = False) -> bool:
    return all(
        f.init and not f.kw_only and (factories or f.default_factory is MISSING) for f in found
    ) and not hasattr(cls, "__post_init__")


def _slot_init_fn(cls: type, found: tuple[Any, ...]) -> Callable[..., None]:
    namespace: dict[str, Any] = {}
    params, body = [], []
    for f in found:
        namespace[f"_set_{f.name}"] = cls.__dict__[f.name].__set__
        value = f.name
        if f.default_factory is not MISSING:  # as dataclass: a marker default, then a call
            namespace["_HAS_DEFAULT_FACTORY"] = _FACTORY_MARK
            namespace[f"_factory_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_HAS_DEFAULT_FACTORY")
            value = f"_factory_{f.name}() if {f.name} is _HAS_DEFAULT_FACTORY else {f.name}"
        elif f.default is MISSING:
            params.append(f.name)
        else:
            namespace[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        body.append(f"    _set_{f.name}(self, {value})")
    exec(f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body or ["    pass"]), namespace)
    init: Any = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__annotations__ = {**{f.name: f.type for f in found}, "return": None}  # as dataclass's
    init.__slot_init__ = True
    return init  # type: ignore[no-any-return]


#: the Pythons whose ``dataclasses`` make the methods :func:`_frozen_methods` stands for
#: with these exact semantics (one ``exec`` each)
FAST_DATACLASSES = sys.version_info[:2] in ((3, 11), (3, 12))
#: the default a field with a factory shows in ``__init__`` (``<factory>``): dataclass's own
_FACTORY_MARK: Any = getattr(dataclasses, "_HAS_DEFAULT_FACTORY", None)

#: the methods :func:`dataclass` makes; a class that writes one itself is left to the
#: standard decorator, which would keep it
_MADE_HERE = (
    "__repr__",
    "__eq__",
    "__hash__",
    "__setattr__",
    "__delattr__",
    "__getstate__",
    "__setstate__",
)


@dataclass_transform(field_specifiers=(dataclasses.field, dataclasses.Field))
def dataclass(cls: type[_T] | None = None, /, **options: Any) -> Any:
    """``dataclasses.dataclass(cls, **options)``, the same class, made with one ``exec``
    instead of six where that is known to give the same (see the module): ``frozen=True,
    slots=True`` and nothing else, on Python 3.11 or 3.12, for a class whose fields are all
    in ``__init__`` (no ``init=False``, ``kw_only``, ``InitVar`` or ``__post_init__``; a
    default factory is called as dataclass calls it), with no dataclass among its bases and
    none of the methods made here in its body. Its ``__init__`` is :func:`slot_init`'s."""
    if cls is None:
        return lambda given: dataclass(given, **options)
    if not _fast(cls, options):
        return dataclasses.dataclass(cls, **options)
    documented = bool(cls.__doc__)
    if not documented:  # (without an __init__ yet, dataclass would sign it as object's:
        cls.__doc__ = "-"  # a tokenizing parse of a builtin's text, ~1 ms, thrown away)
    made: Any = dataclasses.dataclass(cls, slots=True, init=False, repr=False, eq=False)
    found = fields(made)
    if not _plain(made, found, factories=True):  # (what _fast could not see in the body)
        raise TypeError(f"depaudit.slots.dataclass: {cls.__name__}: a field is not plain")
    params = made.__dataclass_params__
    params.init = params.repr = params.eq = params.frozen = True  # as asked, for subclasses
    made.__init__ = _slot_init_fn(made, found)
    if not documented:  # dataclass's: the class's name and signature
        made.__doc__ = made.__name__ + str(inspect.signature(made)).replace(" -> None", "")
    _frozen_methods(made, original=cls)
    return made


def _fast(cls: type, options: dict[str, Any]) -> bool:
    annotations = cls.__dict__.get("__annotations__", {})
    return (
        FAST_DATACLASSES
        and _FACTORY_MARK is not None
        and options == {"frozen": True, "slots": True}
        and not any(hasattr(base, "__dataclass_fields__") for base in cls.__mro__[1:])
        and not any(name in cls.__dict__ for name in ("__init__", *_MADE_HERE))
        and not hasattr(cls, "__post_init__")
        and not any(
            "InitVar" in str(kind) or "KW_ONLY" in str(kind) for kind in annotations.values()
        )
        and all(_plain_default(cls.__dict__.get(name)) for name in annotations)
    )


def _plain_default(value: Any) -> bool:
    if not isinstance(value, dataclasses.Field):
        return True
    return value.init and value.kw_only in (MISSING, False)


def _frozen_methods(cls: Any, original: type) -> None:
    """``cls``'s repr, eq, hash, frozen setattr and delattr, and the pickling pair, as
    ``dataclasses`` makes them for a frozen slotted class on 3.11 and 3.12 (``original``: the
    class it was given, before slots made a new one, which the generated ``__setattr__``
    and ``__delattr__`` keep, and so ``super()`` in them refuses any other name)."""
    found = fields(cls)
    shown = tuple(f.name for f in found if f.repr)
    compared = _key([f.name for f in found if f.compare])
    hashed = _key([f.name for f in found if (f.compare if f.hash is None else f.hash)])
    names = tuple(f.name for f in found)
    running: set[tuple[int, int]] = set()
    before: Any = original

    def __repr__(self: Any) -> str:
        key = id(self), _thread.get_ident()
        if key in running:
            return "..."
        running.add(key)
        try:
            inner = ", ".join([f"{name}={getattr(self, name)!r}" for name in shown])
            return f"{self.__class__.__qualname__}({inner})"
        finally:
            running.discard(key)

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return compared(self) == compared(other)
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(hashed(self))

    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is before or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(before, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is before or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(before, self).__delattr__(name)

    def __getstate__(self: Any) -> list[Any]:
        return [getattr(self, f.name) for f in fields(self)]

    def __setstate__(self: Any, state: list[Any]) -> None:
        for f, value in zip(fields(self), state, strict=False):
            object.__setattr__(self, f.name, value)

    made = (__repr__, __eq__, __hash__, __setattr__, __delattr__, __getstate__, __setstate__)
    for method in made:
        _install(cls, method)


def _install(cls: Any, method: Callable[..., Any]) -> None:
    method.__qualname__ = f"{cls.__qualname__}.{method.__name__}"
    method.__module__ = cls.__module__
    setattr(cls, method.__name__, method)


def _key(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    """The tuple of these attributes of an object, as ``(self.a, self.b,)`` makes it."""
    if len(names) >= 2:
        return attrgetter(*names)
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return lambda obj: ()
