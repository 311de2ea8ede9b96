// Well-written state (no finding expected): bounded caches, collections that shrink, one
// module-level timer, per-connection timers cleared on close, start-up registration.
const { LRUCache } = require('lru-cache');
const memoize = require('memoizee');
const { WebSocketServer } = require('ws');
const express = require('express');

const app = express();
const wss = new WebSocketServer({ noServer: true });
const sessions = new LRUCache({ max: 10000, ttl: 3600000 });
const recent = [];
const timers = new Map();
const seen = new Set();
const routes = [];
const lookup = memoize((id) => ({ id }), { max: 500 });
const byId = new WeakMap();

routes.push('/health');
routes.push('/ready');

setInterval(() => {
  seen.clear();
}, 60000);

app.get('/s/:id', (req, res) => {
  sessions.set(req.params.id, { at: Date.now() });
  recent.push(req.params.id);
  if (recent.length > 100) recent.shift();
  seen.add(req.ip);
  byId.set(req, Date.now());
  res.json(lookup(req.params.id));
});

wss.on('connection', (ws, req) => {
  const id = req.headers['sec-websocket-key'];
  timers.set(id, setInterval(() => ws.ping(), 30000));
  ws.on('close', () => {
    clearInterval(timers.get(id));
    timers.delete(id);
  });
});

module.exports = { app, wss };
