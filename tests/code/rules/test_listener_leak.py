"""Shapes the listener-leak rule must (and must not) report, beyond the corpus
(:mod:`depaudit.code.rules.listener_leak`)."""

from __future__ import annotations

from depaudit.code.engine import analyse_source


def _findings(source: str, grammar: str = "javascript") -> list[tuple[str, int]]:
    result = analyse_source(source.encode(), grammar)  # type: ignore[arg-type]
    return [(f["rule"], f["line"]) for f in result["f"]]


def test_listener_on_the_request_itself_is_fine_but_on_process_is_not() -> None:
    source = """
const app = require('express')();
app.get('/x', (req, res) => {
  req.on('close', () => {});
  process.on('exit', () => res.end());
  res.end();
});
"""
    assert _findings(source) == [("listener-leak", 5)]


def test_a_removal_of_another_function_does_not_count() -> None:
    source = """
const bus = new (require('events'))();
const app = require('express')();
app.get('/x', (req, res) => {
  const a = () => res.write('a');
  bus.on('tick', a);
  res.on('close', () => bus.off('tick', other));
});
function other() {}
"""
    assert _findings(source) == [("listener-leak", 6)]


def test_a_listener_added_once_per_socket_behind_a_guard_is_fine() -> None:
    # fastify's keep-alive tracking: one 'close' listener per socket, not per request
    source = """
const tracked = new Set();
function handler(req, res) {
  if (tracked.has(req.socket) === false) {
    tracked.add(req.socket);
    req.socket.on('close', () => tracked.delete(req.socket));
  }
  req.socket.on('timeout', () => {});
}
"""
    assert _findings(source) == [("listener-leak", 8)]
