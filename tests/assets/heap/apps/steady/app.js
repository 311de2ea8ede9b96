'use strict';
// The same server shape as the leaking apps, with nothing kept per request.
const http = require('http');
const createDebug = require('debug');

const log = createDebug('x:steady');
let requests = 0;

function handle(req, res) {
  requests++;
  log('request %s %d', req.url, requests);
  res.end('ok');
}

module.exports = http.createServer(handle);
