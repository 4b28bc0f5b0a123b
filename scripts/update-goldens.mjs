#!/usr/bin/env node
// Writes test/fixtures/rfc4475/golden/<name>.json: message.toJSON() of every corpus message that
// expectations.json says parses OK. Runs against the built parser (dist/, brought up to date by
// scripts/build.mjs first). A golden is a claim about the message, not a record of what the parser
// did: review every changed file field by field against the raw message and index.tsv before keeping
// it (test/fixtures/rfc4475/README.md).
//   --check   write nothing; exit 1 when a golden is missing, stale or differs
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const corpus = join(root, 'test/fixtures/rfc4475');
const goldenDir = join(corpus, 'golden');
const check = process.argv.includes('--check');

execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
const { createParser } = await import(pathToFileURL(join(root, 'dist/src/parser/index.js')).href);

/** The golden text of a message: toJSON() through JSON, so undefined fields are left out. */
const goldenText = (message) => JSON.stringify(message.toJSON(), null, 2) + '\n';

const expectations = JSON.parse(readFileSync(join(corpus, 'expectations.json'), 'utf8'));
const parser = createParser();
const wanted = new Set();
const changed = [];
let failures = 0;

for (const { file, parse } of expectations) {
  if (parse !== 'ok') continue;
  const name = file.replace(/\.dat$/, '');
  wanted.add(`${name}.json`);
  const result = parser.parse(readFileSync(join(corpus, file)));
  if (!result.ok) {
    console.error(`${file}: expectations.json says ok, the parser says ${result.name} at offset ${result.offset}`);
    failures++;
    continue;
  }
  const text = goldenText(result);
  const path = join(goldenDir, `${name}.json`);
  const old = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  if (old === text) continue;
  changed.push(`${old === undefined ? 'new' : 'changed'}: golden/${name}.json`);
  if (!check) {
    mkdirSync(goldenDir, { recursive: true });
    writeFileSync(path, text);
  }
}
for (const stale of existsSync(goldenDir) ? readdirSync(goldenDir) : []) {
  if (wanted.has(stale)) continue;
  changed.push(`stale: golden/${stale}`);
  if (!check) rmSync(join(goldenDir, stale));
}

for (const line of changed) console.log(line);
console.log(`${wanted.size} goldens, ${changed.length} ${check ? 'differ' : 'written or removed'}${changed.length && !check ? ': review each one before keeping it' : ''}`);
if (failures > 0 || (check && changed.length > 0)) process.exit(1);
