'use strict';
// Usage (from a folder where debug@3.1.0 is installed):
//   node --max-old-space-size=12000 make_big_snapshots.js OUTDIR [RECORDS]
// Builds a large heap of ordinary objects (records with strings, arrays, nested objects,
// Maps and closures), writes OUTDIR/1.heapsnapshot, then leaks through debug 3.1.0 (a
// logger per "request") and an app array, and writes OUTDIR/2.heapsnapshot. RECORDS sets
// the size: 1,000,000 records make snapshots of about 450 MB.
const path = require('path');
const v8 = require('v8');
const createDebug = require(require.resolve('debug', { paths: [process.cwd()] }));

const [outDir, recordsText = '1000000'] = process.argv.slice(2);
const records = Number(recordsText);

class Record {
  constructor(i) {
    this.id = i;
    this.name = 'record-' + i;
    this.tags = ['t' + (i % 97), 't' + (i % 89)];
    this.meta = { created: i * 7, owner: 'user-' + (i % 5000), flags: i & 7 };
    this.touch = () => this.id; // a closure per record, as handlers often are
  }
}

const store = [];
const index = new Map();
for (let i = 0; i < records; i++) {
  const record = new Record(i);
  store.push(record);
  if (i % 3 === 0) index.set(record.name, record);
}

function write(name) {
  const file = path.resolve(outDir, name);
  const started = Date.now();
  v8.writeHeapSnapshot(file);
  console.log(file, ((Date.now() - started) / 1000).toFixed(1) + ' s');
}

// the leaks: a debug 3.1.0 instance per request, and an app array that only grows
const recent = [];
const requests = Math.max(1000, Math.floor(records / 10));

function handle(i) {
  createDebug('x:' + i)('request %d', i);
  recent.push({ i, at: i * 3, body: 'b' + i });
}

// each snapshot from its own turn of the event loop, as a signal or an endpoint takes it
setImmediate(() => {
  write('1.heapsnapshot');
  for (let i = 0; i < requests; i++) handle(i);
  setImmediate(() => {
    write('2.heapsnapshot');
    console.log('kept', store.length, index.size, recent.length);
  });
});
