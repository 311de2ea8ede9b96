// Modelled on https://github.com/theturtle32/WebSocket-Node/pull/1 ("call clearInterval() when
// client disconnected and config.keepalive is true").
const http = require('http');

const server = http.createServer();

server.on('upgrade', (req, socket) => {
  socket.keepaliveTimer = setInterval(() => { // LEAK uncleared-timer
    socket.write('\x89\x00');
  }, 20000);
  socket.on('data', (chunk) => socket.write(chunk));
});

server.listen(8080);
