// The example service (depaudit reads its imports; it is not run here: no node_modules).
const http = require('http');
const express = require('express');
const request = require('request');
const redis = require('redis');
const winston = require('winston');
const redisAdapter = require('socket.io-redis');

const app = express();
const server = http.createServer(app);
const io = require('socket.io')(server);
io.adapter(redisAdapter({ pubClient: redis.createClient(), subClient: redis.createClient() }));

let pool;
function db() {
  // the MySQL pool is created on the first query only
  pool = pool || require('mysql').createPool({ connectionLimit: 5 });
  return pool;
}

app.get('/avatar/:user', (req, res) => request(`https://avatars.invalid/${req.params.user}`).pipe(res));
app.get('/users/:id', (req, res) => db().query('select 1', (err, rows) => res.json(rows)));
io.on('connection', (socket) => winston.info(`connected ${socket.id}`));
server.listen(process.env.PORT || 3000);
