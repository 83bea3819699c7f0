#!/usr/bin/env -S node --max-semi-space-size=2
// A small young generation keeps the server's memory flat while it streams large files (see README).
import { main } from '../dist/cli/main.js';

main(process.argv).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
