// The documentation of the SIPLB_* variables, generated from CONFIG_VARS: a block for
// `siplb --help` and the README table. test/unit/config/readme-sync.test.ts keeps the README and
// src/config/README-table.md in step with it.
import { CONFIG_VARS, type ConfigVar } from './schema.js';

const WIDTH = 80;
const INDENT = '      ';

/** Splits text into lines of at most `width` characters at spaces (a longer word keeps its line). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** Splits a comma-separated value into lines after its commas (a default list longer than a line). */
function wrapList(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const part of text.split(/(?<=,)/)) {
    if (line !== '' && line.length + part.length > width) {
      lines.push(line);
      line = part;
    } else line += part;
  }
  if (line !== '') lines.push(line);
  return lines;
}

function helpDefault(v: ConfigVar): string {
  if (v.computed) return v.default;
  return v.default === '' ? 'empty' : v.default;
}

/** The environment section of `siplb --help`: one entry per variable, wrapped to 80 columns; ends with a newline. */
export function configHelp(): string {
  const out = ['Environment (read once at start; an unknown SIPLB_* variable is an error):'];
  for (const v of CONFIG_VARS) {
    const head = `  ${v.name}  ${v.type}`;
    const def = `(default: ${helpDefault(v)})`;
    if (head.length + 2 + def.length <= WIDTH) out.push(`${head}  ${def}`);
    else out.push(head, ...wrapList(def, WIDTH - INDENT.length).map((l) => INDENT + l));
    for (const line of wrap(v.description, WIDTH - INDENT.length)) out.push(INDENT + line);
  }
  return out.join('\n') + '\n';
}

/** Escapes what would end a table cell or start a line break. */
function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|');
}

function code(text: string): string {
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
}

function tableDefault(v: ConfigVar): string {
  if (v.computed) return cell(v.default);
  return v.default === '' ? '(empty)' : cell(code(v.default));
}

/** The README table: a header and one row per variable, in CONFIG_VARS order; ends with a newline. */
export function configMarkdownTable(): string {
  const rows = [
    '| Variable | Accepts | Default | Meaning |',
    '| --- | --- | --- | --- |',
    ...CONFIG_VARS.map((v) => `| ${code(v.name)} | ${cell(v.type)} | ${tableDefault(v)} | ${cell(v.description)} |`),
  ];
  return rows.join('\n') + '\n';
}

/** The row configMarkdownTable() writes for one variable (what the README must contain). */
export function configMarkdownRow(name: string): string | undefined {
  return configMarkdownTable()
    .split('\n')
    .find((row) => row.startsWith(`| ${code(name)} |`));
}
