// Modelled on https://github.com/socketio/socket.io/issues/1334 (a namespace's connection
// handler kept a timer logging socket.id after the browser closed), as a re-arming setTimeout.
const io = require('socket.io')(3000);

const chat = io.of('/chat');

chat.on('connection', (socket) => {
  function report() {
    console.log('still here', socket.id);
    setTimeout(report, 1000); // LEAK uncleared-timer
  }
  report();
});
