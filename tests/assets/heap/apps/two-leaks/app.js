'use strict';
// Two leaks in the app's own code, of different sizes.
const http = require('http');
const { EventEmitter } = require('events');

const bus = new EventEmitter();
bus.setMaxListeners(0);
const recent = [];

function handle(req, res) {
  const started = Date.now();
  // big: every request's record stays in a module-level array
  recent.push({ url: req.url, started, body: JSON.stringify({ url: req.url, pad: 'r'.repeat(400) }) });
  // small: a listener per request that is never removed
  bus.on('config', () => started);
  res.end('ok');
}

module.exports = http.createServer(handle);
