// Fixed shape of https://github.com/socketio/socket.io/issues/3000: one timer for all clients.
const io = require('socket.io')(3000);

function generateData() {
  return { t: Date.now(), v: Math.random() };
}

setInterval(() => {
  io.emit('data', generateData());
}, 100);

io.on('connection', (socket) => {
  socket.emit('hello');
});
