// Routing rules compiled for the hot path: regexes built once, prefixes kept as strings, methods
// as parser ids, source blocks as the CIDR matcher's numbers. matchRoute() tries the rules in
// order and returns the first that holds; each Request-URI field is read from the parser's spans
// at most once per request, and only when some rule asks for it.
//
// compileRoutes() is also what a reload calls off the data path: it checks the text completely
// (throwing one SiplbConfigError line) before anything is swapped, and its input, the checked
// RoutesConfig, is plain data that crosses to a worker in one message to be compiled there.
import { headerId, type SipMessage } from '../parser/index.js';
import * as P from '../parser/constants.generated.js';
import { parseRoutes, type RouteRuleSpec, type RoutesConfig, type RoutesOptions } from '../config/routes.js';
import { cidrMatcher, parseCidrList, type CidrList } from '../shared/cidr.js';

/** Method name -> the parser's METHOD_* id, from the generated constants (METHOD_OTHER left out). */
const METHOD_IDS: ReadonlyMap<string, number> = new Map(
  Object.entries(P).flatMap(([k, v]) => (k.startsWith('METHOD_') && k !== 'METHOD_OTHER' && typeof v === 'number' ? [[k.slice(7), v] as const] : [])),
);

export interface CompiledRule {
  readonly spec: RouteRuleSpec;
  /** Parser METHOD_* ids; names the parser does not know are compared as text. */
  readonly methodIds: readonly number[] | undefined;
  readonly methodNames: readonly string[] | undefined;
  readonly prefixes: readonly string[] | undefined;
  readonly userRegex: RegExp | undefined;
  /** Exact hosts (lower case) and `.example.com` suffixes of `*.example.com`. */
  readonly hosts: readonly string[] | undefined;
  readonly suffixes: readonly string[] | undefined;
  readonly source: ((address: string) => boolean) | undefined;
  readonly headers: readonly { readonly name: string; readonly regex: RegExp }[] | undefined;
}

export interface CompiledRoutes {
  readonly config: RoutesConfig;
  readonly rules: readonly CompiledRule[];
}

/**
 * Checks (unless given an already checked RoutesConfig) and compiles rules. `input` is the file's
 * text, a parsed object, or a RoutesConfig; throws SiplbConfigError naming the file, rule and field.
 */
export function compileRoutes(input: string | RoutesConfig | object, file: string, opts: RoutesOptions = {}): CompiledRoutes {
  const config = isRoutesConfig(input) ? input : parseRoutes(input, file, opts);
  return { config, rules: config.rules.map(compileRule) };
}

function isRoutesConfig(v: unknown): v is RoutesConfig {
  return typeof v === 'object' && v !== null && typeof (v as RoutesConfig).file === 'string' && Array.isArray((v as RoutesConfig).rules);
}

function compileRule(spec: RouteRuleSpec): CompiledRule {
  const m = spec.match;
  const known = m.method?.filter((n) => METHOD_IDS.has(n));
  const other = m.method?.filter((n) => !METHOD_IDS.has(n));
  const domains = m.domain;
  return {
    spec,
    methodIds: known?.map((n) => METHOD_IDS.get(n)!),
    methodNames: other,
    prefixes: m.prefix,
    userRegex: m.user_regex === undefined ? undefined : new RegExp(m.user_regex),
    hosts: domains?.filter((d) => !d.startsWith('*.')),
    suffixes: domains?.filter((d) => d.startsWith('*.')).map((d) => d.slice(1)),
    source: m.source === undefined ? undefined : cidrMatcher(joinCidr(m.source)),
    // the canonical name, so a compact form given (f, i, m) finds the header in either form
    headers: m.header?.map((h) => ({ name: P.HEADER_NAMES[headerId(h.name)] || h.name, regex: new RegExp(h.regex) })),
  };
}

function joinCidr(items: readonly string[]): CidrList {
  const parsed = parseCidrList(items.join(','));
  if ('error' in parsed) throw new RangeError(parsed.error); // parseRoutes checked each item
  return parsed;
}

/** Index of the first rule that holds for request `m` from `source`, or -1. */
export function matchRoute(rules: readonly CompiledRule[], m: SipMessage, source: string): number {
  // Request-URI fields read lazily, once: null = not read yet
  let user: string | undefined | null = null;
  let host: string | undefined | null = null;
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i]!;
    if (r.methodIds !== undefined) {
      const id = m.methodId;
      const hit = r.methodIds.includes(id) || (id === P.METHOD_OTHER && r.methodNames!.includes(m.method!.toUpperCase()));
      if (!hit) continue;
    }
    if (r.prefixes !== undefined || r.userRegex !== undefined) {
      if (user === null) user = m.requestUri?.user;
      if (user === undefined) continue;
      if (r.prefixes !== undefined && !startsWithAny(user, r.prefixes)) continue;
      if (r.userRegex !== undefined && !r.userRegex.test(user)) continue;
    }
    if (r.hosts !== undefined) {
      if (host === null) host = m.requestUri?.host?.toLowerCase();
      if (host === undefined || !(r.hosts.includes(host) || endsWithAny(host, r.suffixes!))) continue;
    }
    if (r.source !== undefined && !r.source(source)) continue;
    if (r.headers !== undefined && !r.headers.every((h) => m.headers(h.name).some((v) => h.regex.test(v)))) continue;
    return i;
  }
  return -1;
}

function startsWithAny(s: string, prefixes: readonly string[]): boolean {
  for (const p of prefixes) if (s.startsWith(p)) return true;
  return false;
}

function endsWithAny(s: string, suffixes: readonly string[]): boolean {
  for (const x of suffixes) if (s.endsWith(x)) return true;
  return false;
}

/** One line per rule for people: its conditions, or "any request". */
export function matchSummary(spec: RouteRuleSpec): string {
  const m = spec.match;
  const parts: string[] = [];
  if (m.method) parts.push(`method ${m.method.join('|')}`);
  if (m.prefix) parts.push(`user ${m.prefix.map((p) => `${p}*`).join('|')}`);
  if (m.user_regex !== undefined) parts.push(`user ~ /${m.user_regex}/`);
  if (m.domain) parts.push(`domain ${m.domain.join('|')}`);
  if (m.source) parts.push(`source ${m.source.join(',')}`);
  for (const h of m.header ?? []) parts.push(`${h.name} ~ /${h.regex}/`);
  return parts.length === 0 ? 'any request' : parts.join(', ');
}
