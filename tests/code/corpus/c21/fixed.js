// Fixed shape of https://github.com/theturtle32/WebSocket-Node/pull/1.
const http = require('http');

const server = http.createServer();

server.on('upgrade', (req, socket) => {
  socket.keepaliveTimer = setInterval(() => {
    socket.write('\x89\x00');
  }, 20000);
  socket.on('data', (chunk) => socket.write(chunk));
  socket.on('close', () => clearInterval(socket.keepaliveTimer));
});

server.listen(8080);
