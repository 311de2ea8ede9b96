// npm's own lockfile loader in-process: the Arborist that ships inside the installed npm,
// loadVirtual() on a project folder (what `npm ls --package-lock-only` runs), timed after one
// warm-up. Prints JSON {median_s, runs, nodes}.
// usage: node arborist_load.js <npm root -g> <project folder> <runs>
"use strict";
const path = require("node:path");

async function main() {
  const [npmRoot, project, runsArg] = process.argv.slice(2);
  const Arborist = require(path.join(npmRoot, "npm", "node_modules", "@npmcli", "arborist"));
  const runs = Number(runsArg || 5);
  const load = async () => new Arborist({ path: project }).loadVirtual();
  const tree = await load();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await load();
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  times.sort((a, b) => a - b);
  const mid = Math.floor(times.length / 2);
  const median = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
  process.stdout.write(JSON.stringify({ median_s: median, runs, nodes: tree.inventory.size }));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
  process.exit(1);
});
