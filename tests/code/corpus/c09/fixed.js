// Fixed shape of https://github.com/socketio/socket.io/issues/1303: the same function is
// removed when the client disconnects.
const { Server } = require('socket.io');
const Redis = require('ioredis');

const io = new Server(3000);
const sub = new Redis();
sub.subscribe('news');

io.on('connection', (socket) => {
  const onMessage = (channel, message) => {
    socket.emit('news', message);
  };
  sub.on('message', onMessage);
  socket.on('disconnect', () => {
    sub.removeListener('message', onMessage);
  });
});
