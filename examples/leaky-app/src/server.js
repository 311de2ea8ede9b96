// A small service with one instance of each leak pattern `depaudit code` finds
// (README: "App code: depaudit code"). Do not copy: every shape here is the leaking one.
const express = require('express');
const { Pool } = require('pg');
const Redis = require('ioredis');
const memoize = require('memoizee');
const { Server } = require('socket.io');

const app = express();
const pool = new Pool();
const sub = new Redis();
const online = new Map();
const render = memoize((slug) => `<h1>${slug}</h1>`);

app.get('/accounts/:id', async (req, res) => {
  const client = await pool.connect();
  const { rows } = await client.query('SELECT * FROM accounts WHERE id = $1', [req.params.id]);
  client.release();
  res.json(rows[0]);
});

app.get('/pages/:slug', (req, res) => {
  res.send(render(req.params.slug));
});

const io = new Server(app.listen(3000));

io.on('connection', (socket) => {
  online.set(socket.id, socket.handshake.auth.user);
  sub.on('message', (channel, message) => socket.emit(channel, message));
  setInterval(() => socket.emit('ping'), 25000);
});
