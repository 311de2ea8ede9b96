// Modelled on https://github.com/ottomated/CrewLink-server/pull/53 ("Fix memory leak with
// playerIds and disconnecting users": the map was filled on 'id' and never emptied).
import { Server, Socket } from 'socket.io';

const io = new Server(9736);
const playerIds = new Map<string, number>();

io.on('connection', (socket: Socket) => {
  socket.on('id', (id: number) => {
    playerIds.set(socket.id, id); // LEAK growing-collection
    socket.broadcast.emit('setId', socket.id, id);
  });
  socket.on('disconnect', () => {
    socket.broadcast.emit('left', socket.id);
  });
});
