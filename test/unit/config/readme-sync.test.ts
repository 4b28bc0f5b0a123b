// The README documents every SIPLB_* variable with the row configMarkdownTable() generates, and
// src/config/README-table.md (the table to paste) is the current output. Change a variable's
// type, default or description and both must follow: regenerate the file, paste it into README.md.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configMarkdownRow, configMarkdownTable } from '../../../src/config/help.js';
import { CONFIG_VARS } from '../../../src/config/schema.js';
import { EVENT_ENV_NAMES } from '../../../src/events/event.js';

const root = join(import.meta.dirname, '..', '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const pasteFile = 'src/config/README-table.md';

describe('README configuration table', () => {
  it(`${pasteFile} is the current configMarkdownTable() output`, () => {
    const hint = `regenerate ${pasteFile} from configMarkdownTable()`;
    expect(readFileSync(join(root, pasteFile), 'utf8'), hint).toBe(configMarkdownTable());
  });

  it.each(CONFIG_VARS.map((v) => v.name))('README.md has the current row for %s', (name) => {
    const row = configMarkdownRow(name);
    expect(row, 'configMarkdownTable() has no row for it').toBeDefined();
    expect(readme.split('\n'), `paste ${pasteFile} into README.md`).toContain(row);
  });

  it('README.md documents no SIPLB_* variable that does not exist', () => {
    // the environment of SIPLB_EVENT_COMMAND (README, Destination events) is documented there too
    const known = new Set([...CONFIG_VARS.map((v) => v.name), ...EVENT_ENV_NAMES]);
    const documented = new Set(readme.match(/\bSIPLB_(?!ERR_)[A-Z0-9_]*[A-Z0-9]\b/g) ?? []);
    for (const name of documented) expect(known, `README mentions unknown ${name}`).toContain(name);
  });

  it('names every variable an event command gets, none of them a configuration variable', () => {
    const config = new Set(CONFIG_VARS.map((v) => v.name));
    for (const name of EVENT_ENV_NAMES) {
      expect(config, `${name} is both`).not.toContain(name);
      expect(readme, `README does not name ${name}`).toContain(`\`${name}\``);
    }
  });
});
