"""depaudit.code.engine: one file analysed, its `// depaudit-ignore-next-line` comments applied."""

from __future__ import annotations

from depaudit.code.engine import analyse_source


def test_suppression_needs_the_rule_and_covers_one_line() -> None:
    source = """
const app = require('express')();
const a = [];
const b = [];
app.get('/x', (req, res) => {
  // depaudit-ignore-next-line listener-leak wrong rule
  a.push(1);
  // depaudit-ignore-next-line growing-collection bounded by the tenant list
  b.push(1);
  res.end();
});
"""
    result = analyse_source(source.encode(), "javascript")
    assert [(f["rule"], f["line"]) for f in result["f"]] == [("growing-collection", 7)]
    assert result["s"] == 1
