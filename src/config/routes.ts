// Routing rules files (SIPLB_ROUTES): read, parse (YAML or JSON by extension), check against
// ROUTES_SCHEMA, then the checks a schema cannot make. The result is plain data (lists always
// lists, method names upper-case): it crosses to workers inside the configuration by structured
// clone, and every thread compiles it for matching (src/dispatch/routes.ts). Any problem is one
// SiplbConfigError line naming SIPLB_ROUTES, the file, the rule number and the field.
import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { SiplbConfigError } from '../errors.js';
import { compileTemplate } from '../dispatch/keys.js';
import { parseCidrList } from '../shared/cidr.js';
import { checkSchema } from './json-schema.js';
import { ROUTES_SCHEMA } from './routes-schema.js';
import type { DispatchAlgorithm, HashMode, ProxyMode } from './types.js';

export interface HeaderCondition {
  readonly name: string;
  readonly regex: string;
}

export interface RouteMatchSpec {
  readonly method?: readonly string[];
  readonly prefix?: readonly string[];
  readonly user_regex?: string;
  readonly domain?: readonly string[];
  readonly source?: readonly string[];
  readonly header?: readonly HeaderCondition[];
}

/** One rule as written (lists normalised); absent target fields take the SIPLB_* values. */
export interface RouteRuleSpec {
  readonly name?: string;
  readonly match: RouteMatchSpec;
  readonly set?: number;
  readonly alg?: DispatchAlgorithm;
  readonly limit?: number;
  readonly failover?: boolean;
  readonly hash_user_only?: boolean;
  readonly use_default?: boolean;
  readonly hash_mode?: HashMode;
  readonly hash_template?: string;
  readonly reject?: number;
  readonly reason?: string;
}

export interface RoutesConfig {
  /** The file the rules came from (absolute), for messages and `siplb ctl routes`. */
  readonly file: string;
  readonly rules: readonly RouteRuleSpec[];
}

const VARIABLE = 'SIPLB_ROUTES';
const TARGET_FIELDS = ['set', 'alg', 'limit', 'failover', 'hash_user_only', 'use_default', 'hash_mode', 'hash_template'] as const;

export interface RoutesOptions {
  /** SIPLB_MODE: algorithm 12 (forking) needs a stateful proxy. */
  readonly mode?: ProxyMode;
  /** SIPLB_ALG: a rule without `alg` uses it (algorithm 7 and 12 checks apply to it too). */
  readonly alg?: number;
}

/** SIPLB_ROUTES: empty = no rules; otherwise the file, read and checked completely. */
export function routesFile(raw: string, name: string, opts: RoutesOptions = {}): RoutesConfig | undefined {
  if (raw === '') return undefined;
  const file = resolve(raw);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new SiplbConfigError(name, `cannot read ${file}: ${why}`, { cause: err });
  }
  return parseRoutes(text, file, opts);
}

/**
 * Checks a rules file's text (parsed by the file's extension) or an already parsed object. Throws
 * SiplbConfigError: `SIPLB_ROUTES: <file>: rule <n>: <field>: <why>`.
 */
export function parseRoutes(input: unknown, file: string, opts: RoutesOptions = {}): RoutesConfig {
  const fail = (where: string, why: string): never => {
    throw new SiplbConfigError(VARIABLE, `${file}: ${where}${why}`);
  };
  let doc: unknown = input;
  if (typeof input === 'string') {
    const ext = extname(file).toLowerCase();
    try {
      if (ext === '.json') doc = JSON.parse(input);
      else if (ext === '.yaml' || ext === '.yml') doc = parseYaml(input);
      else fail('', `expected a .yaml, .yml or .json file (the extension says how to read it), got "${ext}"`);
    } catch (err) {
      if (err instanceof SiplbConfigError) throw err;
      fail('', `not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  const problem = checkSchema(doc, ROUTES_SCHEMA);
  if (problem) {
    const [top, index, ...rest] = problem.path;
    if (top === 'rules' && typeof index === 'number') fail(ruleLabel(doc, index), `${fieldPath(rest) || 'the rule'}: ${problem.message}`);
    fail('', `${fieldPath(problem.path) || 'the file'}: ${problem.message}`);
  }
  const raw = (doc as { rules: Record<string, unknown>[] }).rules;
  const rules = raw.map((r, i) => normaliseRule(r, (field, why) => fail(ruleLabel(doc, i), `${field}: ${why}`), opts));
  return { file, rules };
}

/** `match.method (item 2)`: list items counted from 1, as rules are. */
function fieldPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? ` (item ${p + 1})` : `${out === '' ? '' : '.'}${p}`;
  return out;
}

function ruleLabel(doc: unknown, index: number): string {
  const name = (doc as { rules?: { name?: unknown }[] }).rules?.[index]?.name;
  return `rule ${index + 1}${typeof name === 'string' ? ` (${name})` : ''}: `;
}

const list = <T>(v: T | readonly T[] | undefined): readonly T[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? (v as readonly T[]) : [v as T]);

function regexError(source: string): string | undefined {
  try {
    new RegExp(source);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

type Fail = (field: string, why: string) => never;

function normaliseRule(r: Record<string, unknown>, fail: Fail, opts: RoutesOptions): RouteRuleSpec {
  const m = (r.match ?? {}) as Record<string, unknown>;
  const match: RouteMatchSpec = {
    ...(m.method !== undefined ? { method: list(m.method as string)!.map((x) => x.toUpperCase()) } : {}),
    ...(m.prefix !== undefined ? { prefix: list(m.prefix as string) } : {}),
    ...(m.user_regex !== undefined ? { user_regex: m.user_regex as string } : {}),
    ...(m.domain !== undefined ? { domain: list(m.domain as string)!.map((x) => x.toLowerCase()) } : {}),
    ...(m.source !== undefined ? { source: list(m.source as string) } : {}),
    ...(m.header !== undefined ? { header: list(m.header as HeaderCondition) } : {}),
  };
  if (match.user_regex !== undefined) {
    const e = regexError(match.user_regex);
    if (e !== undefined) fail('match.user_regex', e);
  }
  match.header?.forEach((h, i) => {
    const e = regexError(h.regex);
    if (e !== undefined) fail(m.header === h ? 'match.header.regex' : `match.header (item ${i + 1}).regex`, e);
  });
  match.source?.forEach((s, i) => {
    const parsed = parseCidrList(s);
    if ('error' in parsed) fail(`match.source${m.source === s ? '' : ` (item ${i + 1})`}`, parsed.error);
  });
  const rule = { ...r, match } as RouteRuleSpec;
  if (rule.reject !== undefined) {
    const extra = TARGET_FIELDS.find((f) => rule[f] !== undefined);
    if (extra !== undefined) fail(extra, 'a rule that rejects routes nowhere: remove the field or the reject');
  } else if (rule.reason !== undefined) fail('reason', 'only a rule with reject has a reason');
  const alg = rule.alg ?? opts.alg;
  if (rule.hash_template !== undefined) {
    try {
      compileTemplate(rule.hash_template);
    } catch (err) {
      fail('hash_template', (err as Error).message.replace(/^SIPLB_HASH_TEMPLATE: /, ''));
    }
  }
  if (rule.reject === undefined && alg === 12 && opts.mode === 'stateless') fail('alg', 'algorithm 12 (parallel forking) needs SIPLB_MODE=stateful');
  return rule;
}
