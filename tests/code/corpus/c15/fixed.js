// Fixed shape of https://github.com/michaeldegroot/socket-anti-spam/issues/32.
const io = require('socket.io')(3000);

const heartbeats = {};

io.on('connection', (socket) => {
  heartbeats[socket.id] = Date.now();
  socket.on('heartbeat', () => {
    socket.emit('ack');
  });
  socket.on('disconnect', () => {
    delete heartbeats[socket.id];
  });
});
