// Well-written cleanup of listeners (no finding expected): once, AbortSignal, disposers,
// removal of the same function, listeners on per-request objects.
const { EventEmitter, once } = require('events');
const express = require('express');
const mitt = require('mitt');

const jobs = new EventEmitter();
const bus = mitt();
const app = express();

jobs.on('error', (err) => console.error(err)); // module level: added once

app.get('/jobs/:id/wait', async (req, res) => {
  const ac = new AbortController();
  req.on('close', () => ac.abort());
  const [result] = await once(jobs, `done:${req.params.id}`, { signal: ac.signal });
  res.json(result);
});

app.get('/jobs/:id/next', (req, res) => {
  jobs.once(`done:${req.params.id}`, (result) => res.json(result));
});

app.get('/feed', (req, res) => {
  const onItem = (item) => res.write(JSON.stringify(item));
  jobs.on('item', onItem);
  res.on('close', () => jobs.off('item', onItem));
});

app.get('/bus', (req, res) => {
  const off = bus.on('tick', (t) => res.write(String(t)));
  req.on('close', off);
});

app.post('/upload', (req, res) => {
  req.on('data', (chunk) => res.write(chunk.length.toString()));
  req.on('end', () => res.end());
});

module.exports = app;
