"""What the code rules share: the finding before it has its file, the rule interface,
and the helpers over the syntax tree that more than one rule uses."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar

from depaudit.code.analysis import (
    FUNCTION_TYPES,
    FileContext,
    callee_parts,
)
from depaudit.slots import dataclass

if TYPE_CHECKING:
    from tree_sitter import Node


@dataclass(frozen=True, slots=True)
class RawFinding:
    """A finding before it is given its file: what the cache stores."""

    rule: str
    line: int
    column: int
    message: str
    evidence: tuple[str, ...]
    package: str | None = None


def package_note(package: str | None) -> str:
    return f" ({package})" if package else ""


class Rule(ABC):
    id: ClassVar[str]

    @abstractmethod
    def check(self, ctx: FileContext) -> Iterator[RawFinding]:
        """The findings of this rule in one file."""


def finally_covers(ctx: FileContext, node: Node, scope: Node) -> bool:
    """``node`` sits in a ``finally`` block (or a ``.finally(cb)`` callback) within scope."""
    parent = node.parent
    while parent is not None and parent != scope:
        if parent.type == "finally_clause":
            return True
        if parent.type in FUNCTION_TYPES:
            holder = parent.parent
            if holder is not None and holder.type == "arguments" and holder.parent is not None:
                _, method = callee_parts(holder.parent)
                if method == "finally":
                    return True
        parent = parent.parent
    return False


def within(node: Node, outer: Node | None) -> bool:
    return (
        outer is not None
        and outer.start_byte <= node.start_byte
        and node.end_byte <= outer.end_byte
    )
