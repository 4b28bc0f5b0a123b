#!/usr/bin/env node
// Launcher: the CLI is compiled TypeScript in dist/. Kept tiny so `npm link` and `npx siplb` work
// from a clone as soon as `npm ci` (whose prepare step builds) has run.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('siplb: dist/src/main.js is missing; run `npm run build` (or `npm ci`) first.\n');
  process.exitCode = 2;
} else {
  const { main } = await import(entry.href);
  process.exitCode = await main(process.argv.slice(2));
}
