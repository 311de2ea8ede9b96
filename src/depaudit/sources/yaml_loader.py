"""YAML for lockfiles: PyYAML's C parser when it is compiled in, its pure-Python one otherwise.

Every scalar is read as a string (PyYAML's *Base* loaders): lockfiles are data written by
tools, and YAML 1.1's implicit typing would turn ``lockfileVersion: 5.10`` into the float
``5.1``, a package named ``no`` or ``on`` into a boolean, and ``null`` into ``None``. Readers
interpret ``"true"`` / ``"false"`` themselves where a field is a flag.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from depaudit.errors import InputError
from depaudit.sources._io import without_lone_surrogates

#: the loader used unless a caller asks for the pure-Python one (tests compare the two)
C_LOADER: type[Any] | None = getattr(yaml, "CBaseLoader", None)
PURE_LOADER: type[Any] = yaml.BaseLoader


def has_c_loader() -> bool:
    return C_LOADER is not None


#: nesting deeper than this is refused (lockfiles nest a handful of levels)
MAX_DEPTH = 500


def load_yaml(text: str, path: Path | str, *, what: str, pure: bool = False) -> Any:
    """Parse ``text``; any YAML error becomes one InputError line naming ``path``."""
    with _errors_name(path, what):
        if pure or C_LOADER is None:
            data = yaml.load(text, Loader=PURE_LOADER)  # noqa: S506 - Base loaders
            if _has_shared_node(data):
                raise SharedNode
            return without_lone_surrogates(data, text)
        documents = _from_events(text, C_LOADER)
        if len(documents) > 1:
            raise ComposerError(
                "expected a single document in the stream", None, "but found another document"
            )
        return without_lone_surrogates(documents[0], text) if documents else None


def load_yaml_documents(text: str, path: Path | str, *, what: str, pure: bool = False) -> list[Any]:
    """Every document of a multi-document stream (``---`` separated), in order."""
    with _errors_name(path, what):
        if pure or C_LOADER is None:
            documents = list(yaml.load_all(text, Loader=PURE_LOADER))  # noqa: S506 - Base
            if any(_has_shared_node(doc) for doc in documents):
                raise SharedNode
        else:
            documents = _from_events(text, C_LOADER)
        return [without_lone_surrogates(doc, text) for doc in documents]


def _from_events(text: str, loader: type[Any]) -> list[Any]:
    """The documents of ``text`` built straight from libyaml's parse events: what PyYAML's
    Base loaders build (strings, lists, dicts; tags ignored; an alias is the anchored object
    itself; a repeated key keeps its last value), without the node graph, the resolver and
    the recursive constructor in between, which cost twice the parse (measured on a
    50,000-entry pnpm-lock.yaml)."""
    documents: list[Any] = []
    anchors: dict[str, Any] = {}
    stack: list[tuple[Any, Any]] = []  # (enclosing collection, its pending key)
    current: Any = None
    key: Any = None
    event: Any
    parser = loader(text)
    get_event = parser.get_event  # one call per event (yaml.parse asks check_event first)
    try:
        while (event := get_event()) is not None:
            kind = event.__class__
            if kind is ScalarEvent:
                value: Any = event.value
                if event.anchor is not None:
                    _anchor(anchors, event, value)
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                collection: Any = {} if kind is MappingStartEvent else []
                if event.anchor is not None:
                    _anchor(anchors, event, collection)
                if len(stack) >= MAX_DEPTH:
                    raise RecursionError
                stack.append((current, key))
                current, key = collection, _NO_KEY
                continue
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                value = current
                current, key = stack.pop()
            elif kind is AliasEvent:
                if event.anchor not in anchors:
                    raise ComposerError(
                        None, None, f"found undefined alias {event.anchor!r}", event.start_mark
                    )
                value = anchors[event.anchor]
                if value.__class__ is list or value.__class__ is dict:
                    raise SharedNode  # every reader walking it would expand it again
            elif kind is DocumentStartEvent:
                anchors = {}
                continue
            else:
                continue
            if current is None:
                documents.append(value)
            elif current.__class__ is list:
                current.append(value)
            elif key is _NO_KEY:
                if value.__class__ is not str:
                    raise ConstructorError(
                        "while constructing a mapping",
                        None,
                        "found unhashable key",
                        event.start_mark,
                    )
                key = value
            else:
                current[key] = value
                key = _NO_KEY
    finally:
        parser.dispose()
    return documents


_NO_KEY = object()  # a mapping waiting for its next key


def _anchor(anchors: dict[str, Any], event: Any, value: Any) -> None:
    if event.anchor in anchors:  # as PyYAML's composers refuse it
        raise ComposerError(
            "found duplicate anchor; first occurrence", None, "second occurrence", event.start_mark
        )
    anchors[event.anchor] = value


@contextmanager
def _errors_name(path: Path | str, what: str) -> Iterator[None]:
    """Turn any YAML error into one InputError line naming ``path``."""
    try:
        yield
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = exc.problem or exc.context or "syntax error"
        raise InputError(
            path, f"is not valid YAML{where}: {problem}", f"expected a {what}"
        ) from None
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())  # a ReaderError spans two lines
        raise InputError(path, f"is not valid YAML: {detail}", f"expected a {what}") from None
    except RecursionError:
        raise InputError(path, "YAML is nested too deeply", f"expected a {what}") from None
    except SharedNode:
        raise InputError(
            path,
            "uses YAML aliases (an anchored list or mapping used again), which no package "
            "manager writes: refused, as each use would multiply the work",
            f"expected a {what}",
        ) from None


class SharedNode(Exception):
    """A list or mapping is used twice (an alias ``*a`` or a merge key ``<<: *a``): the
    Base loaders build it as a reference to the same object, so a "billion laughs" document
    loads small but every reader walking it would expand it."""


def _has_shared_node(data: Any) -> bool:
    """True when a list or mapping is reached twice (the pure-Python loader's result; the
    event builder refuses such an alias as it reads it). One pass over the containers."""
    seen: set[int] = set()
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if id(node) in seen:
            return True
        seen.add(id(node))
        stack.extend(child for child in children if isinstance(child, (dict, list)))
    return False
