// Fixed shape of https://github.com/socketio/socket.io/issues/1334: the loop stops once the
// socket is gone.
const io = require('socket.io')(3000);

const chat = io.of('/chat');

chat.on('connection', (socket) => {
  function report() {
    console.log('still here', socket.id);
    if (socket.connected) {
      setTimeout(report, 1000);
    }
  }
  report();
});
