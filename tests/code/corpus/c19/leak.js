// Modelled on https://github.com/yjs/y-websocket/pull/30 ("Add clearInterval calls to clean up
// closure passed to setInterval": the ping interval outlived closed connections).
const { WebSocketServer } = require('ws');

const wss = new WebSocketServer({ port: 1234 });

wss.on('connection', (conn, req) => {
  let pongReceived = true;
  const pingInterval = setInterval(() => { // LEAK uncleared-timer
    if (!pongReceived) {
      conn.terminate();
    } else {
      pongReceived = false;
      conn.ping();
    }
  }, 30000);
  conn.on('pong', () => {
    pongReceived = true;
  });
});
