// Preload hook for benchmarks/reach_measure.py: records every file the process loads.
// node --import ./record.mjs server.js   (REACH_RECORD=/path/out.txt)
// CommonJS loads are read from require.cache at exit; ES modules through a loader hook
// (module.register), which runs on its own thread and appends each loaded URL itself.
import { register, createRequire } from 'node:module';
import { appendFileSync, writeFileSync } from 'node:fs';

const out = process.env.REACH_RECORD;
if (out) {
  writeFileSync(out, '');
  register('./record-hooks.mjs', import.meta.url, { data: { out } });
  const require = createRequire(import.meta.url);
  const dump = () => {
    const files = Object.keys(require.cache);
    appendFileSync(out, files.map((f) => `cjs ${f}\n`).join(''));
  };
  process.on('exit', dump);
}
