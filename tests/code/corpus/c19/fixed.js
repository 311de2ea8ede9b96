// Fixed shape of https://github.com/yjs/y-websocket/pull/30: cleared on close.
const { WebSocketServer } = require('ws');

const wss = new WebSocketServer({ port: 1234 });

wss.on('connection', (conn, req) => {
  let pongReceived = true;
  const pingInterval = setInterval(() => {
    if (!pongReceived) {
      conn.terminate();
      clearInterval(pingInterval);
    } else {
      pongReceived = false;
      conn.ping();
    }
  }, 30000);
  conn.on('pong', () => {
    pongReceived = true;
  });
  conn.on('close', () => clearInterval(pingInterval));
});
