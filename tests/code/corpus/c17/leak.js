// Modelled on https://github.com/CMDco/subql/issues/12 ("Client socket IDs linger in storage
// when clients are disconnected"): a subscription registry keyed by socket id.
const { WebSocketServer } = require('ws');

const wss = new WebSocketServer({ port: 8081 });
const connected = new Set();
let nextId = 0;

wss.on('connection', (ws) => {
  const id = ++nextId;
  connected.add(id); // LEAK growing-collection
  ws.on('message', (data) => {
    ws.send(`${id}:${data}`);
  });
});
