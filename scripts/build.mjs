#!/usr/bin/env node
// Builds what is stale, and only that: the generated constants, the wasm parser (asc) and the
// TypeScript output (tsc). Runs on `npm ci` (prepare), before `npm start`, `npm test` and the
// benchmarks, so a fresh clone and an edited tree both run current code.
//   --force      rebuild everything
//   --wasm-only  stop after the wasm module
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const force = process.argv.includes('--force');
const wasmOnly = process.argv.includes('--wasm-only');
const bin = (name) => join(root, 'node_modules', '.bin', name);

/** Newest modification time of the files under the given paths (0 when none exist). */
function newest(paths, filter = () => true) {
  let t = 0;
  for (const p of paths) {
    const abs = join(root, p);
    if (!existsSync(abs)) continue;
    const st = statSync(abs);
    if (st.isDirectory()) {
      for (const entry of readdirSync(abs)) t = Math.max(t, newest([join(p, entry)], filter));
    } else if (filter(p)) {
      t = Math.max(t, st.mtimeMs);
    }
  }
  return t;
}
const mtime = (p) => (existsSync(join(root, p)) ? statSync(join(root, p)).mtimeMs : 0);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

// 1. Generated constants follow wasm/assembly/constants.ts.
const constantsSrc = mtime('wasm/assembly/constants.ts');
if (force || constantsSrc > mtime('src/parser/constants.generated.ts') || constantsSrc > mtime('wasm/assembly/header-table.generated.ts')) {
  run(process.execPath, [join(root, 'scripts/gen-constants.mjs')]);
}

// 2. The wasm parser follows wasm/assembly and asconfig.json.
const wasmOut = 'wasm/build/parser.wasm';
if (force || newest(['wasm/assembly', 'asconfig.json']) > mtime(wasmOut)) {
  mkdirSync(join(root, 'wasm/build'), { recursive: true });
  console.error('siplb build: compiling the wasm parser');
  run(bin('asc'), ['--config', 'asconfig.json', '--target', 'release']);
}
if (wasmOnly) process.exit(0);

// 3. The TypeScript output follows src, bench and the tsconfig files. A stamp file records the
// last successful build, so an unchanged tree costs a directory walk and no compiler start.
const stamp = 'dist/.build-stamp';
const tsInputs = newest(['src', 'bench', 'tsconfig.json', 'tsconfig.build.json', 'package.json'], (p) => !p.includes('bench/results'));
/** A source whose .js is gone (a deleted output is not newer than the stamp, but still stale). */
function missingOutput(dir) {
  const abs = join(root, dir);
  if (!existsSync(abs)) return false;
  for (const entry of readdirSync(abs, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (p !== join('bench', 'results') && missingOutput(p)) return true;
    } else if (p.endsWith('.ts') && !p.endsWith('.d.ts') && !existsSync(join(root, 'dist', p.replace(/\.ts$/, '.js')))) {
      return true;
    }
  }
  return false;
}
if (force || tsInputs > mtime(stamp) || missingOutput('src') || missingOutput('bench')) {
  console.error('siplb build: compiling TypeScript');
  run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json']);
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(join(root, stamp), new Date().toISOString() + '\n');
}
