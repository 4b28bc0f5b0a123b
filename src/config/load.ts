// loadConfig(): the only place siplb reads its environment. Each SIPLB_* variable is read once,
// parsed by its SCHEMA entry (defaults applied), and the result is deep-frozen, so every thread
// works from the same validated values and nothing re-reads process.env on the hot path
// (STYLE.md habit 9, fastify's initialConfig).
import { SiplbConfigError } from '../errors.js';
import { frozenSet } from './parse.js';
import { CONFIG_VARS, SCHEMA, type SiplbConfig, type VarSpec } from './schema.js';

const PREFIX = 'SIPLB_';
const KNOWN = new Set(CONFIG_VARS.map((v) => v.name));

/**
 * Reads, validates and freezes the configuration. Throws SiplbConfigError naming the variable and
 * what it accepts on the first bad value, and on any SIPLB_* variable it does not know (a typo
 * must not fall back to a default silently).
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): SiplbConfig {
  const given = readVars(env);
  const done: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(SCHEMA)) {
    const spec = entry as VarSpec<unknown>;
    const soFar = done as Partial<SiplbConfig>;
    const raw = given.get(spec.name);
    if (raw !== undefined) done[key] = spec.parse(raw, spec.name, soFar);
    else if (spec.unset !== undefined) done[key] = spec.unset(spec.name, soFar);
    else done[key] = spec.parse(spec.default, spec.name, soFar);
  }
  return deepFreeze(done as unknown as SiplbConfig);
}

/** One pass over the environment: the SIPLB_* values, with unknown names rejected. */
function readVars(env: Record<string, string | undefined>): Map<string, string> {
  const given = new Map<string, string>();
  const unknown: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    // Environment names are case-sensitive: siplb_alg would be ignored, so it counts as a typo.
    if (!name.toUpperCase().startsWith(PREFIX) || value === undefined) continue;
    if (KNOWN.has(name)) given.set(name, value);
    else unknown.push(name);
  }
  const first = unknown[0];
  if (first !== undefined) {
    const hint = suggest(first);
    const others = unknown.length > 1 ? `; also unknown: ${unknown.slice(1).join(', ')}` : '';
    throw new SiplbConfigError(
      first,
      `unknown variable${hint === undefined ? '' : ` (did you mean ${hint}?)`}${others}; known: ${[...KNOWN].join(', ')}`,
    );
  }
  return given;
}

/** The known name closest to a typo, if it is close (at most 3 edits). */
function suggest(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 4;
  for (const known of KNOWN) {
    const d = editDistance(name.toUpperCase(), known);
    if (d < bestDistance) [best, bestDistance] = [known, d];
  }
  return best;
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/** Freezes an object graph of plain objects, arrays and Sets, in place; returns it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  const children: Iterable<unknown> = value instanceof Set ? value.values() : Object.values(value);
  for (const child of children) deepFreeze(child);
  return Object.freeze(value);
}

/**
 * Re-freezes a configuration that crossed postMessage: a structured clone keeps the values but
 * drops the freezing, and its Sets come back mutable.
 */
export function reviveConfig(cloned: SiplbConfig): SiplbConfig {
  const failoverCodes = {
    codes: frozenSet(cloned.failoverCodes.codes),
    classes: frozenSet(cloned.failoverCodes.classes),
  };
  const pingReplyCodes = {
    codes: frozenSet(cloned.pingReplyCodes.codes),
    classes: frozenSet(cloned.pingReplyCodes.classes),
  };
  return deepFreeze({ ...cloned, failoverCodes, pingReplyCodes });
}
