// Routing rules files: what is accepted (and how it is normalised) and what is refused, each
// refusal one line naming SIPLB_ROUTES, the file, the rule and the field. Data, not code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SiplbConfigError } from '../../../src/errors.js';
import { parseRoutes, routesFile } from '../../../src/config/routes.js';
import { ROUTES_SCHEMA } from '../../../src/config/routes-schema.js';

const root = join(import.meta.dirname, '..', '..', '..');
const fixtures = join(root, 'test', 'fixtures', 'routes');

function errorOf(text: string, file = 'r.yaml', opts = {}): string {
  try {
    parseRoutes(text, file, opts);
  } catch (err) {
    if (err instanceof SiplbConfigError) {
      expect(err.variable).toBe('SIPLB_ROUTES');
      expect(err.message).not.toContain('\n');
      return err.message;
    }
    throw err;
  }
  throw new Error(`accepted: ${text}`);
}

// [file text (YAML unless the name says .json), message expected]
const refused: Array<[string, string, string?]> = [
  ['rules:\n  - set: 2\n    colour: blue\n', 'SIPLB_ROUTES: r.yaml: rule 1: colour: unknown field; known: name, match'],
  ['rules:\n  - name: vm\n    match: { prefx: "*97" }\n    set: 2\n', 'rule 1 (vm): match.prefx: unknown field; known: method, prefix'],
  ['rules:\n  - set: 2\n  - match: { method: 7 }\n    set: 1\n', 'rule 2: match.method: expected a string or a list, got the number 7'],
  ['rules:\n  - match: { method: [INVITE, "BY E"] }\n    set: 1\n', 'rule 1: match.method (item 2): "BY E" is not a SIP method name such as INVITE'],
  ['rules:\n  - match: { method: [] }\n    set: 1\n', 'rule 1: match.method: must not be an empty list'],
  ['rules:\n  - set: -1\n', 'rule 1: set: expected at least 0, got -1'],
  ['rules:\n  - set: 1\n    alg: 16\n', 'rule 1: alg: expected one of 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 64, got the number 16'],
  ['rules:\n  - set: "2"\n', 'rule 1: set: expected an integer, got string "2"'],
  ['rules:\n  - match: { user_regex: "^(97" }\n    set: 2\n', 'rule 1: match.user_regex: Invalid regular expression'],
  ['rules:\n  - match: { header: { name: X-A, regex: "[" } }\n    set: 2\n', 'rule 1: match.header.regex: Invalid regular expression'],
  ['rules:\n  - match: { header: [{ name: X-A, regex: a }, { name: X-B, regex: "(" }] }\n    set: 2\n', 'rule 1: match.header (item 2).regex: Invalid regular expression'],
  ['rules:\n  - match: { header: { name: X-A } }\n    set: 2\n', 'rule 1: match.header.regex: is required'],
  ['rules:\n  - match: { source: [10.0.0.0/8, 10.0.0.0/33] }\n    set: 2\n', 'rule 1: match.source (item 2): "10.0.0.0/33" has a prefix length outside 0-32'],
  ['rules:\n  - match: { source: example.com }\n    set: 2\n', 'rule 1: match.source: "example.com" is not an IPv4 or IPv6 address'],
  ['rules:\n  - match: { domain: "ex ample.com" }\n    set: 2\n', 'rule 1: match.domain: "ex ample.com" is not a host name'],
  ['rules:\n  - match: { prefix: "900" }\n    reject: 200\n', 'rule 1: reject: expected at least 300, got 200'],
  ['rules:\n  - match: { prefix: "900" }\n    reject: 403\n    set: 2\n', 'rule 1: set: a rule that rejects routes nowhere'],
  ['rules:\n  - set: 2\n    reason: Nope\n', 'rule 1: reason: only a rule with reject has a reason'],
  ['rules:\n  - set: 2\n    alg: 7\n    hash_template: "$xx"\n', 'rule 1: hash_template: unknown field $xx'],
  ['rules:\n  - set: 2\n    alg: 12\n', 'rule 1: alg: algorithm 12 (parallel forking) needs SIPLB_MODE=stateful', 'stateless'],
  ['rules:\n  - set: 2\n', 'rule 1: alg: algorithm 12', 'stateless-default-12'],
  ['rules: {}\n', 'SIPLB_ROUTES: r.yaml: rules: expected a list, got a mapping'],
  ['routes: []\n', 'SIPLB_ROUTES: r.yaml: routes: unknown field; known: $schema, rules'],
  ['- set: 2\n', 'SIPLB_ROUTES: r.yaml: the file: expected a mapping, got a list'],
  ['rules:\n  - set: 2\n    set: 3\n', 'SIPLB_ROUTES: r.yaml: not valid YAML: Map keys must be unique at line 3, column 5:'],
  ['{"rules": [', 'SIPLB_ROUTES: r.json: not valid JSON:', 'json'],
];

describe('routing rules files are refused with one line naming file, rule and field', () => {
  it.each(refused)('%j', (text, expected, variant) => {
    const file = variant === 'json' ? 'r.json' : 'r.yaml';
    const opts = variant === 'stateless' ? { mode: 'stateless' as const } : variant === 'stateless-default-12' ? { mode: 'stateless' as const, alg: 12 } : {};
    expect(errorOf(text, file, opts)).toContain(expected);
  });

  it('names a file of another kind by its extension', () => {
    expect(errorOf('rules: []', 'routes.txt')).toBe('SIPLB_ROUTES: routes.txt: expected a .yaml, .yml or .json file (the extension says how to read it), got ".txt"');
  });

  it('says when the file cannot be read', () => {
    expect(() => routesFile(join(fixtures, 'missing.yaml'), 'SIPLB_ROUTES')).toThrow(`SIPLB_ROUTES: cannot read ${join(fixtures, 'missing.yaml')}: no such file`);
  });
});

describe('routing rules files that are accepted', () => {
  it('normalises single values to lists and method names to upper case', () => {
    const r = parseRoutes('rules:\n  - match: { method: invite, prefix: "*97", domain: VM.Example.com }\n    set: 2\n', 'r.yml');
    expect(r).toEqual({ file: 'r.yml', rules: [{ match: { method: ['INVITE'], prefix: ['*97'], domain: ['vm.example.com'] }, set: 2 }] });
  });

  it('reads JSON by its extension, and an empty rule list', () => {
    expect(parseRoutes('{"$schema": "./routes.schema.json", "rules": []}', 'r.json').rules).toEqual([]);
  });

  it('reads the README example in full', () => {
    const r = routesFile(join(fixtures, 'example.yaml'), 'SIPLB_ROUTES')!;
    expect(r.rules.map((x) => x.name)).toEqual(['voicemail', 'conference', 'carriers', 'closed-premium', 'tenant-b']);
    expect(r.rules[3]).toEqual({ name: 'closed-premium', match: { prefix: ['900'] }, reject: 403, reason: 'Premium Numbers Barred' });
    expect(r.rules[4]!.match.header).toEqual([{ name: 'X-Tenant', regex: '^b(-|$)' }]);
  });

  it('the README shows this example as it is', () => {
    const body = readFileSync(join(fixtures, 'example.yaml'), 'utf8').split('\n').slice(2).join('\n');
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain(body);
  });

  it('routes.schema.json at the package root is ROUTES_SCHEMA (regenerate it from dist/src/config/routes-schema.js)', () => {
    expect(JSON.parse(readFileSync(join(root, 'routes.schema.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(ROUTES_SCHEMA)));
  });
});
