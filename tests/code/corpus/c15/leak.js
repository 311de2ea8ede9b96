// Modelled on https://github.com/michaeldegroot/socket-anti-spam/issues/32 ("heartbeats is
// never cleared"; the fix adds delete heartbeats[socket.id]).
const io = require('socket.io')(3000);

const heartbeats = {};

io.on('connection', (socket) => {
  heartbeats[socket.id] = Date.now(); // LEAK growing-collection
  socket.on('heartbeat', () => {
    socket.emit('ack');
  });
});
