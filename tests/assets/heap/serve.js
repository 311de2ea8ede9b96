'use strict';
// Runs an app's server (app.js exports an http.Server) in its own process and
// writes a heap snapshot when the parent asks over IPC, so that the load
// generator's own objects are not in the app's heap.
const path = require('path');
const v8 = require('v8');

const server = require(path.resolve(process.argv[2], 'app.js'));
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', (message) => {
  if (message.snapshot) {
    v8.writeHeapSnapshot(message.snapshot);
    process.send({ written: message.snapshot });
  }
  if (message.exit) {
    server.close();
    process.exit(0); // --heap-prof writes its profile on exit
  }
});
