// Fixed shape of https://github.com/mheap/socketio-chat-example/pull/3.
const express = require('express');
const http = require('http');
const socketio = require('socket.io');

const app = express();
const server = http.createServer(app);
const io = socketio(server);
const clients = [];

io.sockets.on('connection', (socket) => {
  clients.push(socket);
  socket.on('chat', (msg) => {
    clients.forEach((c) => c.emit('chat', msg));
  });
  socket.on('disconnect', () => {
    clients.splice(clients.indexOf(socket), 1);
  });
});

server.listen(3000);
