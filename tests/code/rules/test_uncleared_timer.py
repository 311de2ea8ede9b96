"""Shapes the uncleared-timer rule must (and must not) report, beyond the corpus
(:mod:`depaudit.code.rules.uncleared_timer`)."""

from __future__ import annotations

from depaudit.code.engine import analyse_source


def _findings(source: str, grammar: str = "javascript") -> list[tuple[str, int]]:
    result = analyse_source(source.encode(), grammar)  # type: ignore[arg-type]
    return [(f["rule"], f["line"]) for f in result["f"]]


def test_a_timer_cleared_through_a_map_is_cleared() -> None:
    source = """
const io = require('socket.io')(3000);
const timers = new Map();
io.on('connection', (socket) => {
  timers.set(socket.id, setInterval(() => socket.emit('t'), 1000));
  socket.on('disconnect', () => {
    clearInterval(timers.get(socket.id));
    timers.delete(socket.id);
  });
});
"""
    assert _findings(source) == []


def test_a_one_shot_timeout_per_request_is_fine() -> None:
    source = """
const app = require('express')();
app.get('/x', (req, res) => { setTimeout(() => res.end(), 10); });
"""
    assert _findings(source) == []


def test_a_module_level_interval_is_fine() -> None:
    assert _findings("setInterval(() => console.log(Date.now()), 1000);") == []
