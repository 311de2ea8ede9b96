"""One place that turns JavaScript/TypeScript source into a tree-sitter syntax tree.

tree-sitter and its grammars are imported on first use only (start-up time is a feature: a scan
that reads no source never pays for them). Parsers are per thread (a ``tree_sitter.Parser`` is not
safe to share between threads) and per grammar.

Consumers cache what they *extract* from a tree (imports, findings), never the tree itself.
"""

from __future__ import annotations

import threading
from pathlib import PurePath
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from tree_sitter import Language, Node, Parser, Tree

Grammar = Literal["javascript", "typescript", "tsx"]

#: File extensions read as the app's source, and the grammar for each. The JavaScript grammar
#: reads JSX too; ``.ts`` must not be read with the TSX grammar (``<T>x`` casts differ).
GRAMMAR_BY_SUFFIX: dict[str, Grammar] = {
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
}

SOURCE_SUFFIXES = frozenset(GRAMMAR_BY_SUFFIX)

_languages: dict[Grammar, Language] = {}
_lock = threading.Lock()
_local = threading.local()


def grammar_for(path: str | PurePath) -> Grammar | None:
    """The grammar for a file name, or None when it is not JavaScript or TypeScript source.

    A ``.d.ts`` declaration file has no runtime code; it is TypeScript all the same.
    """
    return GRAMMAR_BY_SUFFIX.get(PurePath(path).suffix.lower())


def _language(grammar: Grammar) -> Language:
    with _lock:
        language = _languages.get(grammar)
        if language is None:
            from tree_sitter import Language

            if grammar == "javascript":
                import tree_sitter_javascript

                language = Language(tree_sitter_javascript.language())
            else:
                import tree_sitter_typescript

                language = Language(
                    tree_sitter_typescript.language_tsx()
                    if grammar == "tsx"
                    else tree_sitter_typescript.language_typescript()
                )
            _languages[grammar] = language
        return language


def language(grammar: Grammar) -> Language:
    """The tree-sitter language of ``grammar`` (for queries); loaded once per process."""
    return _language(grammar)


def _parser(grammar: Grammar) -> Parser:
    parsers: dict[Grammar, Parser] | None = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = {}
        _local.parsers = parsers
    parser = parsers.get(grammar)
    if parser is None:
        from tree_sitter import Parser

        parser = Parser(_language(grammar))
        parsers[grammar] = parser
    return parser


def parse(source: bytes, grammar: Grammar) -> Tree:
    """Parse source text. tree-sitter never fails: syntax errors become ERROR nodes, so a file
    that does not parse cleanly still yields what can be read (``tree.root_node.has_error``)."""
    return _parser(grammar).parse(source)


def text(node: Node) -> str:
    """The source text of a node (tree-sitter keeps bytes; lone surrogates cannot occur)."""
    raw = node.text
    return raw.decode("utf-8", "replace") if raw is not None else ""


def string_value(node: Node) -> str | None:
    """The value of a string literal or a template string without substitutions, else None."""
    if node.type == "string":
        return "".join(text(child) for child in node.named_children if child.type != "comment")
    if node.type == "template_string":
        if any(child.type == "template_substitution" for child in node.named_children):
            return None
        return text(node)[1:-1]
    return None
