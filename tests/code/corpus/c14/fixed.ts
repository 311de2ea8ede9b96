// Fixed shape of https://github.com/ottomated/CrewLink-server/pull/53: removed on disconnect.
import { Server, Socket } from 'socket.io';

const io = new Server(9736);
const playerIds = new Map<string, number>();

io.on('connection', (socket: Socket) => {
  socket.on('id', (id: number) => {
    playerIds.set(socket.id, id);
    socket.broadcast.emit('setId', socket.id, id);
  });
  socket.on('disconnect', () => {
    playerIds.delete(socket.id);
    socket.broadcast.emit('left', socket.id);
  });
});
