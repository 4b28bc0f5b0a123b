// The answer of `siplb.routes` (JSON-RPC) and GET /api/routes: every routing rule in order, what it
// matches, where it sends, and how many new requests it took since start (or since its rules were
// put in service), the workers' counts summed; the default rule (SIPLB_SET, SIPLB_ALG) last.
import type { RoutesConfig } from '../config/routes.js';
import { matchSummary } from '../dispatch/routes.js';

export interface RouteRow {
  /** 1-based rule number as in the file; the default rule has the next number. */
  readonly number: number;
  readonly name: string;
  readonly match: string;
  /** Where it routes; for a rule that rejects, set and alg are null and reject is the status. */
  readonly set: number | null;
  readonly alg: number | null;
  readonly reject: number | null;
  readonly hits: number;
  readonly default: boolean;
}

export interface RoutesAnswer {
  /** The rules file (SIPLB_ROUTES), or null when there is none and everything takes the default. */
  readonly file: string | null;
  readonly rules: readonly RouteRow[];
}

/**
 * Sums per-thread hit counts (each: one per rule, the default last). A count of another length
 * comes from a thread that has not yet put the current rules in service: left out.
 */
export function sumRouteHits(perThread: readonly ArrayLike<number>[], rules: number): number[] {
  const out = new Array<number>(rules + 1).fill(0);
  for (const h of perThread) {
    if (h.length !== out.length) continue;
    for (let i = 0; i < out.length; i++) out[i]! += h[i]!;
  }
  return out;
}

/** The answer for `routes` (undefined: no rules file) with the default rule's set and algorithm. */
export function routesAnswer(routes: RoutesConfig | undefined, defaults: { set: number; alg: number }, hits: readonly number[]): RoutesAnswer {
  const rules = routes?.rules ?? [];
  const rows: RouteRow[] = rules.map((r, i) => ({
    number: i + 1,
    name: r.name ?? '',
    match: matchSummary(r),
    set: r.reject === undefined ? (r.set ?? defaults.set) : null,
    alg: r.reject === undefined ? (r.alg ?? defaults.alg) : null,
    reject: r.reject ?? null,
    hits: hits[i] ?? 0,
    default: false,
  }));
  rows.push({
    number: rules.length + 1,
    name: 'default',
    match: rules.length === 0 ? 'any request' : 'no rule above matched',
    set: defaults.set,
    alg: defaults.alg,
    reject: null,
    hits: hits[rules.length] ?? 0,
    default: true,
  });
  return { file: routes?.file ?? null, rules: rows };
}
