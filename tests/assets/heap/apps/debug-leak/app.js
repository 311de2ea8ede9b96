'use strict';
// One debug() logger per request, as a per-request child logger is often written.
// debug 3.x pushes every instance onto createDebug.instances and never lets go.
const http = require('http');
const createDebug = require('debug');

let requests = 0;

function handle(req, res) {
  const id = requests++;
  const log = createDebug('x:' + id);
  log('request %s', req.url);
  res.end('ok');
}

module.exports = http.createServer(handle);
