// Fixed shape of https://github.com/CMDco/subql/issues/12: forget the id on close.
const { WebSocketServer } = require('ws');

const wss = new WebSocketServer({ port: 8081 });
const connected = new Set();
let nextId = 0;

wss.on('connection', (ws) => {
  const id = ++nextId;
  connected.add(id);
  ws.on('message', (data) => {
    ws.send(`${id}:${data}`);
  });
  ws.once('close', () => connected.delete(id));
});
