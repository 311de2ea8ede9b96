// Modelled on https://github.com/socketio/socket.io/issues/1303 (the Redis store's subscriber
// accumulated 'message' listeners for each connected client).
const { Server } = require('socket.io');
const Redis = require('ioredis');

const io = new Server(3000);
const sub = new Redis();
sub.subscribe('news');

io.on('connection', (socket) => {
  sub.on('message', (channel, message) => { // LEAK listener-leak
    socket.emit('news', message);
  });
  socket.on('disconnect', () => {
    console.log('client gone', socket.id);
  });
});
