// Modelled on https://github.com/mheap/socketio-chat-example/pull/3 ("Removing the socket that
// is disconnected from the clients object").
const express = require('express');
const http = require('http');
const socketio = require('socket.io');

const app = express();
const server = http.createServer(app);
const io = socketio(server);
const clients = [];

io.sockets.on('connection', (socket) => {
  clients.push(socket); // LEAK growing-collection
  socket.on('chat', (msg) => {
    clients.forEach((c) => c.emit('chat', msg));
  });
});

server.listen(3000);
