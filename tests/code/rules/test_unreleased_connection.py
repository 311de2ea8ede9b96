"""Shapes the unreleased-connection rule must (and must not) report, beyond the corpus
(:mod:`depaudit.code.rules.unreleased_connection`)."""

from __future__ import annotations

from depaudit.code.engine import analyse_source


def _findings(source: str, grammar: str = "javascript") -> list[tuple[str, int]]:
    result = analyse_source(source.encode(), grammar)  # type: ignore[arg-type]
    return [(f["rule"], f["line"]) for f in result["f"]]


def test_a_connection_returned_to_the_caller_is_not_reported() -> None:
    source = """
async function getConn(pool) { const conn = await pool.getConnection(); return conn; }
async function getConn2(pool) { return pool.getConnection(); }
"""
    assert _findings(source) == []


def test_never_released_checkout() -> None:
    source = """
async function count(pool) {
  const conn = await pool.getConnection();
  const [rows] = await conn.query('SELECT COUNT(*) AS n FROM t');
  return rows[0].n;
}
"""
    assert _findings(source) == [("unreleased-connection", 3)]


def test_the_package_comes_from_the_imports() -> None:
    source = """
import { createPool } from 'mysql2/promise';
const pool = createPool({});
export async function handler(req, res) {
  const conn = await pool.getConnection();
  res.json(await conn.query('x'));
}
"""
    result = analyse_source(source.encode(), "javascript")
    assert [(f["rule"], f["package"]) for f in result["f"]] == [("unreleased-connection", "mysql2")]
