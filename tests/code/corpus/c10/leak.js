// Modelled on https://github.com/pocesar/node-jsonrpc2/pull/13 (listeners on the request's
// connection 'end' event piled up: the keep-alive socket serves many requests).
const http = require('http');

const pending = new Set();

const server = http.createServer((req, res) => {
  const call = { id: Date.now(), res };
  pending.add(call);
  req.connection.on('end', () => { // LEAK listener-leak
    pending.delete(call);
  });
  res.end('{}');
});

server.listen(8080);
