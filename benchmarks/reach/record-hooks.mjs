// Loader hooks for record.mjs: append every loaded file: URL to the record file.
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let out;
export function initialize(data) {
  out = data.out;
}
export async function load(url, context, nextLoad) {
  if (url.startsWith('file:')) appendFileSync(out, `esm ${fileURLToPath(url)}\n`);
  return nextLoad(url, context);
}
