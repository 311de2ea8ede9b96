'use strict';
// express-session with its default MemoryStore; every request without a cookie
// gets a new session, and the MemoryStore only drops them when they expire.
const http = require('http');
const session = require('express-session');

const sessions = session({ secret: 'heap-test', resave: false, saveUninitialized: true });

function handle(req, res) {
  sessions(req, res, () => {
    req.session.visits = (req.session.visits || 0) + 1;
    res.end('ok');
  });
}

module.exports = http.createServer(handle);
