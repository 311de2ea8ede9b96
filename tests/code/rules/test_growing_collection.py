"""Shapes the growing-collection rule must (and must not) report, beyond the corpus
(:mod:`depaudit.code.rules.growing_collection`)."""

from __future__ import annotations

from depaudit.code.engine import analyse_source


def _findings(source: str, grammar: str = "javascript") -> list[tuple[str, int]]:
    result = analyse_source(source.encode(), grammar)  # type: ignore[arg-type]
    return [(f["rule"], f["line"]) for f in result["f"]]


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
