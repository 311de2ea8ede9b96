'use strict';
// Usage: node take_snapshots.js APPDIR OUTDIR [REQUESTS_PER_PHASE] [SNAPSHOTS]
// Starts APPDIR/app.js under serve.js, warms it up, then takes SNAPSHOTS heap
// snapshots (OUTDIR/1.heapsnapshot, 2, ...) with REQUESTS_PER_PHASE requests
// between each pair. Every request is a fresh client (no cookie).
const { fork } = require('child_process');
const http = require('http');
const path = require('path');

const [appDir, outDir, perPhase = '1000', count = '3'] = process.argv.slice(2);
// HEAP_PROF=1: also a sampling heap profile (node --heap-prof), written when the app exits
const execArgv = process.env.HEAP_PROF
  ? ['--heap-prof', '--heap-prof-interval=4096', '--heap-prof-dir=' + path.resolve(outDir)]
  : [];
// serve.js is copied into APPDIR, so that every script of the heap lies under the app
const child = fork(path.join(appDir, 'serve.js'), [appDir], { cwd: appDir, execArgv });
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

function nextMessage() {
  return new Promise((resolve) => child.once('message', resolve));
}

function request(port, i) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/item/' + i, agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
      .on('error', reject);
  });
}

async function drive(port, n, offset) {
  for (let i = 0; i < n; i += 8) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 8); j++) batch.push(request(port, offset + j));
    await Promise.all(batch);
  }
}

async function main() {
  const { port } = await nextMessage();
  await drive(port, 200, 0); // warm-up: lazy compilation, first-use caches
  for (let s = 1; s <= Number(count); s++) {
    if (s > 1) await drive(port, Number(perPhase), s * 100000);
    const file = path.resolve(outDir, s + '.heapsnapshot');
    child.send({ snapshot: file });
    await nextMessage();
    console.log(file);
  }
  agent.destroy();
  child.send({ exit: true });
}

main().catch((error) => {
  console.error(error);
  child.kill();
  process.exit(1);
});
