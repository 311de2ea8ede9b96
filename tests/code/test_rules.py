"""Shapes each rule must (and must not) report, beyond the corpus."""

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


def test_a_helper_in_the_same_file_called_from_a_handler_is_per_request() -> None:
    source = """
const express = require('express');
const app = express();
const audit = [];
function record(entry) {
  audit.push(entry);
}
app.post('/login', (req, res) => {
  record({ user: req.body.user });
  res.end();
});
"""
    assert _findings(source) == [("growing-collection", 6)]


def test_the_same_helper_called_only_at_start_up_is_not() -> None:
    source = """
const audit = [];
function record(entry) {
  audit.push(entry);
}
record({ boot: Date.now() });
"""
    assert _findings(source) == []


def test_an_exported_collection_may_be_shrunk_elsewhere_and_is_not_reported() -> None:
    source = """
const app = require('express')();
const queue = [];
app.post('/q', (req, res) => { queue.push(req.body); res.end(); });
module.exports = { app, queue };
"""
    assert _findings(source) == []


def test_a_size_check_bounds_a_collection() -> None:
    source = """
const app = require('express')();
const samples = [];
app.get('/x', (req, res) => {
  if (samples.length < 1000) samples.push(Date.now());
  res.end();
});
"""
    assert _findings(source) == []


def test_literal_keys_do_not_grow_a_map() -> None:
    source = """
const app = require('express')();
const stats = new Map();
app.get('/x', (req, res) => { stats.set('last', Date.now()); res.end(); });
"""
    assert _findings(source) == []


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


def test_typescript_and_tsx_parse() -> None:
    source = """
import express, { Request, Response } from 'express';
const app = express();
const hits: string[] = [];
app.get('/x', (req: Request, res: Response) => { hits.push(req.ip as string); res.end(); });
"""
    assert _findings(source, "typescript") == [("growing-collection", 5)]
    tsx = "const C = () => <div onClick={() => setInterval(() => {}, 1)} />;"
    assert _findings(tsx, "tsx") == []


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
