// Modelled on https://github.com/socketio/socket.io/issues/3000 (a setInterval started in every
// connection handler; the advice was one timer outside the handler, or clearing it).
const io = require('socket.io')(3000);

function generateData() {
  return { t: Date.now(), v: Math.random() };
}

io.on('connection', (socket) => {
  setInterval(() => { // LEAK uncleared-timer
    socket.emit('data', generateData());
  }, 100);
});
