// Fixed shape of https://github.com/pocesar/node-jsonrpc2/pull/13: per-request cleanup on
// the response, not on the shared socket.
const http = require('http');

const pending = new Set();

const server = http.createServer((req, res) => {
  const call = { id: Date.now(), res };
  pending.add(call);
  res.once('close', () => {
    pending.delete(call);
  });
  res.end('{}');
});

server.listen(8080);
