#!/usr/bin/env -S node --max-semi-space-size=2 --expose-gc
// A small young generation, and young collections while big files stream (core/memory.ts), keep the server's memory flat (see README).
const entry = new URL('../dist/cli/main.js', import.meta.url);

import(entry.href).then(
  ({ main }) => main(process.argv),
  (err) => {
    if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes(entry.pathname)) {
      throw new Error('DreamLake is not built yet: run `npm run build` (npm install does it once) and try again.');
    }
    throw err;
  },
).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
