// What each routing rule (SIPLB_ROUTES) selects with, made ready for the hot path: the set's view
// onto the shared state table, the algorithm, its options and key settings, and the per-thread
// runtime (round-robin position, weight table) of its (set, algorithm) pair. The last choice is the
// default rule: SIPLB_SET and SIPLB_ALG with their options.
import type { CompiledRoutes } from '../dispatch/routes.js';
import { createSetRuntime, type DestReader, type SelectOptions, type SetRuntime } from '../dispatch/algorithms.js';
import { compileTemplate, type CompiledTemplate } from '../dispatch/keys.js';
import type { Destination, DestinationSet } from '../dispatch/sets.js';
import type { CoreConfig } from './core-config.js';

/** One set as this thread selects from it; `set` and `at` are replaced when the sets are rebuilt. */
export interface SetView {
  set: DestinationSet | undefined;
  /** Table index of each destination of `set`, by its position in the set. */
  at: Int32Array;
  readonly usable: (d: Destination) => boolean;
  readonly reader: DestReader;
}

export interface Choice {
  /** Status to answer instead of routing; 0 = route. */
  readonly reject: number;
  readonly reason: string;
  readonly setId: number;
  readonly alg: number;
  readonly view: SetView;
  readonly opts: SelectOptions;
  readonly userOnly: boolean;
  readonly template: CompiledTemplate | undefined;
  readonly runtime: SetRuntime;
}

/**
 * The choices of `routes` (one per rule, then the default). `runtimes` holds a runtime per
 * `set|alg`: rules sharing a pair share its round-robin, as Kamailio keeps one per set, and a
 * new rules file keeps the positions of the pairs it still uses.
 */
export function buildChoices(
  cfg: CoreConfig,
  routes: CompiledRoutes | undefined,
  viewOf: (setId: number) => SetView,
  runtimes: Map<string, SetRuntime>,
): Choice[] {
  const specs = [...(routes?.config.rules ?? []), undefined];
  const used = new Map<string, SetRuntime>();
  const choices = specs.map((r): Choice => {
    const setId = r?.set ?? cfg.set;
    const alg = r?.alg ?? cfg.alg;
    const pair = `${setId}|${alg}`;
    const runtime = used.get(pair) ?? runtimes.get(pair) ?? createSetRuntime();
    used.set(pair, runtime);
    const view = viewOf(setId);
    const hashTemplate = r?.hash_template ?? cfg.hashTemplate;
    return {
      reject: r?.reject ?? 0,
      reason: r?.reason ?? '',
      setId,
      alg,
      view,
      opts: {
        limit: r?.limit ?? cfg.limit,
        hashMode: r?.hash_mode ?? cfg.hashMode,
        useDefault: r?.use_default ?? cfg.useDefault,
        failover: r?.failover ?? cfg.failover,
        reader: view.reader,
      },
      userOnly: r?.hash_user_only ?? cfg.userOnly,
      template: alg === 7 ? compileTemplate(hashTemplate) : undefined,
      runtime,
    };
  });
  runtimes.clear();
  for (const [k, v] of used) runtimes.set(k, v);
  return choices;
}

/** Algorithms some choice uses: the core keeps algorithm 10's call tracking when 10 is one of them. */
export function usesAlg(choices: readonly Choice[], alg: number): boolean {
  return choices.some((c) => c.reject === 0 && c.alg === alg);
}
