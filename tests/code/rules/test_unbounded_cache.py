"""Shapes the unbounded-cache rule must (and must not) report, beyond the corpus
(:mod:`depaudit.code.rules.unbounded_cache`)."""

from __future__ import annotations

from depaudit.code.engine import analyse_source


def _findings(source: str, grammar: str = "javascript") -> list[tuple[str, int]]:
    result = analyse_source(source.encode(), grammar)  # type: ignore[arg-type]
    return [(f["rule"], f["line"]) for f in result["f"]]


def test_a_handler_known_only_by_its_parameters_is_per_request() -> None:
    # a controller in its own file: registered elsewhere, seen by its (req, res) signature
    source = """
const cache = new Map();
exports.show = async function show(req, res) {
  cache.set(req.params.id, await load(req.params.id));
  res.json(cache.get(req.params.id));
};
"""
    # exported names are not the collection: `cache` is private and grows per request
    assert _findings(source) == [("unbounded-cache", 4)]
