// Dispatch sets adapted to route targets, as the proxy core uses them: the sets built from the list,
// the shared destination table, the configured set and algorithm, and the per-thread round-robin and
// weight counters. Selection itself is the pure src/dispatch/algorithms.ts; the table is what its
// DestReader reads (load, latency, overload reports, generations).
import type { SipMessage } from '../parser/index.js';
import { METHOD_INVITE } from '../parser/constants.generated.js';
import { select, createSetRuntime, type DestReader, type SelectOptions } from '../dispatch/algorithms.js';
import { compileTemplate, hashKey, type CompiledTemplate } from '../dispatch/keys.js';
import { buildSets, type Destination, type DestinationSet } from '../dispatch/sets.js';
import type { DestinationRecord } from '../dispatch/list-file.js';
import { rewriteUser } from '../dispatch/rewrite.js';
import { recordSockets } from '../dispatch/sockets.js';
import type { ListenAddress } from '../config/types.js';
import type { DestTable } from '../shared/dest-table.js';
import { canonicalHost } from '../sip/responses.js';
import type { CoreConfig } from './core-config.js';
import type { Peer, RouteTarget } from './types.js';

/** Every destination of every set in one list: set id ascending, then Kamailio's order in the set. */
export function flatten(sets: ReadonlyMap<number, DestinationSet>): Destination[] {
  return [...sets.keys()].sort((a, b) => a - b).flatMap((id) => [...sets.get(id)!.destinations]);
}

/**
 * Route targets in the shared state table's order; `records` must hold resolved addresses, and
 * their socket attrs were checked against `listen` at load (server.ts loadDestinations).
 */
export function targetsFrom(records: readonly DestinationRecord[], listen: readonly ListenAddress[]): RouteTarget[] {
  return flatten(buildSets(records)).map((d, index) => ({
    index,
    id: d.id,
    setId: d.setId,
    uri: d.uri,
    address: d.address,
    port: d.port,
    strip: d.attrs.strip,
    prefix: d.attrs.prefix ?? '',
    maxload: d.attrs.maxload,
    socket: socketOf(d, listen),
  }));
}

function socketOf(d: DestinationRecord, listen: readonly ListenAddress[]): number {
  const s = recordSockets(d, listen);
  return typeof s === 'string' ? -1 : s.socket;
}

export class TargetSelector {
  readonly #sets: Map<number, DestinationSet>;
  readonly #targetOf = new Map<string, RouteTarget>();
  readonly #template: CompiledTemplate | undefined;
  /** `address|port` of every destination of every set: who may route in-dialog requests towards a caller. */
  readonly #destinations: ReadonlySet<string>;
  /** SIPLB_SET, and this thread's round-robin, weight and algorithm 11/64 state for it. */
  readonly #set: DestinationSet | undefined;
  readonly #runtime = createSetRuntime();
  readonly #usable: (d: Destination) => boolean;
  readonly #opts: SelectOptions;

  constructor(
    private readonly config: CoreConfig,
    private readonly states: DestTable,
    /** Wall-clock ms (Date.now in service): what overload reports are valid until. */
    now: () => number = Date.now,
  ) {
    this.#sets = buildSets(config.records);
    flatten(this.#sets).forEach((d, i) => this.#targetOf.set(d.id, config.targets[i]!));
    this.#template = config.alg === 7 ? compileTemplate(config.hashTemplate) : undefined;
    this.#destinations = new Set(config.targets.map((t) => `${canonicalHost(t.address)}|${t.port}`));
    this.#set = this.#sets.get(config.set);
    // table index by position in the set: selection reads the table with no lookup by id
    const at = Int32Array.from(this.#set?.destinations ?? [], (d) => this.#targetOf.get(d.id)!.index);
    this.#usable = (d) => states.usable(at[d.index]!);
    const reader: DestReader = {
      load: (d) => states.load(at[d.index]!),
      latency: (d, out) => states.readLatency(at[d.index]!, out),
      overload: (d, out) => states.readOverload(at[d.index]!, out),
      now,
      usableGeneration: () => states.usableGeneration,
      latencyGeneration: () => states.latencyGeneration,
    };
    this.#opts = { limit: config.limit, hashMode: config.hashMode, useDefault: config.useDefault, failover: config.failover, reader };
  }

  /** True when `address` and `port` (a datagram's source, as Node reports it) are a destination of the list. */
  isDestination(address: string, port: number): boolean {
    return this.#destinations.has(`${address}|${port}`);
  }

  /** The ordered destinations for a new request (first = chosen), empty when none is usable. */
  select(m: SipMessage, src: Peer): RouteTarget[] {
    const cfg = this.config;
    const set = this.#set;
    if (!set) return [];
    const key = hashKey(cfg.alg, m, {
      userOnly: cfg.userOnly,
      ...(this.#template ? { template: this.#template } : {}),
      sourceIp: src.address,
      sourcePort: src.port,
    });
    const picked = select(set, cfg.alg, { key, invite: m.methodId === METHOD_INVITE }, this.#usable, this.#opts, this.#runtime);
    return picked.map((d) => this.#targetOf.get(d.id)!);
  }

  byId(id: string): RouteTarget | undefined {
    return this.#targetOf.get(id);
  }

  usable(t: RouteTarget): boolean {
    return this.states.usable(t.index);
  }

  /** The failover mark (SIPLB_MARK_FAILED), through the table's state machine. */
  markFailed(t: RouteTarget, state: number): void {
    this.states.markFailed(t.index, state);
  }

  /** The Request-URI with the destination's strip=/prefix= applied to its user, or undefined if unchanged. */
  rewriteRequestUri(m: SipMessage, t: RouteTarget): string | undefined {
    if (t.strip === 0 && t.prefix === '') return undefined;
    const uri = m.requestUri;
    if (!uri || uri.user === undefined) return undefined;
    const user = rewriteUser(uri.user, { attrs: { strip: t.strip, prefix: t.prefix } });
    if (user === undefined || user === uri.user) return undefined;
    const raw = uri.raw;
    const colon = raw.indexOf(':');
    return `${raw.slice(0, colon + 1)}${user}${raw.slice(colon + 1 + uri.user.length)}`;
  }
}
