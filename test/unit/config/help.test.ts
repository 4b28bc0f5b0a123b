// `siplb --help` text and the README table, both generated from CONFIG_VARS; and the shipped
// dispatcher.list that the default SIPLB_LIST_FILE points at.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configHelp, configMarkdownTable } from '../../../src/config/help.js';
import { loadConfig } from '../../../src/config/load.js';
import { CONFIG_VARS } from '../../../src/config/schema.js';

describe('configHelp', () => {
  const help = configHelp();

  it('lists every variable with its default, within 80 columns', () => {
    for (const v of CONFIG_VARS) {
      expect(help).toContain(`  ${v.name}  ${v.type}`);
      // a long default list is wrapped after its commas
      expect(help.replace(/,\n +/g, ',')).toContain(`(default: ${v.default === '' ? 'empty' : v.default})`);
    }
    for (const line of help.trimEnd().split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
  });

  it('keeps every word of each description', () => {
    const words = help.split(/\s+/);
    for (const v of CONFIG_VARS) for (const w of v.description.split(' ')) expect(words).toContain(w);
  });
});

describe('configMarkdownTable', () => {
  const rows = configMarkdownTable().trimEnd().split('\n');

  it('has a header, a rule and one four-column row per variable, in order', () => {
    expect(rows).toHaveLength(CONFIG_VARS.length + 2);
    CONFIG_VARS.forEach((v, i) => {
      const row = rows[i + 2] ?? '';
      expect(row.startsWith(`| \`${v.name}\` |`)).toBe(true);
      expect(row.split(/(?<!\\)\|/)).toHaveLength(6);
    });
  });

  it('code-formats literal defaults, not computed ones', () => {
    expect(rows).toContain(rows.find((r) => r.startsWith('| `SIPLB_ALG` | 0-15, 64 | `4` |')));
    expect(rows.find((r) => r.startsWith('| `SIPLB_RR_SECRET` |'))).toContain('| random per start |');
    expect(rows.find((r) => r.startsWith('| `SIPLB_DS_PING_REPLY_CODES` |'))).toContain('| (empty) |');
  });

  it('has one-line descriptions', () => {
    for (const v of CONFIG_VARS) expect(v.description, v.name).not.toMatch(/[\n|]/);
  });
});

describe('shipped dispatcher.list', () => {
  const path = loadConfig({}).listFile;
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l !== '');

  it('is the default SIPLB_LIST_FILE, at the package root', () => {
    expect(path).toBe(join(import.meta.dirname, '..', '..', '..', 'dispatcher.list'));
  });

  it('holds the two probed demo destinations of set 1, and nothing else active', () => {
    expect(lines.map((l) => l.split(/\s+/))).toEqual([
      ['1', 'sip:127.0.0.1:5070', '8', '0', 'duid=ms1;weight=50'],
      ['1', 'sip:127.0.0.1:5072', '8', '0', 'duid=ms2;weight=50'],
    ]);
  });
});
