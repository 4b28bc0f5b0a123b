// Dispatch sets adapted to route targets, as the proxy core uses them: the sets built from the list,
// the shared destination table, the configured set and algorithm, and the per-thread round-robin and
// weight counters. Selection itself is the pure src/dispatch/algorithms.ts; the table is what its
// DestReader reads (load, latency, overload reports, generations).
import type { SipMessage } from '../parser/index.js';
import { METHOD_INVITE } from '../parser/constants.generated.js';
import { select, createSetRuntime, type DestReader, type SelectOptions } from '../dispatch/algorithms.js';
import { compileTemplate, hashKey, type CompiledTemplate } from '../dispatch/keys.js';
import { buildSets, flatten, type Destination, type DestinationSet } from '../dispatch/sets.js';

export { flatten };
import type { DestinationRecord } from '../dispatch/list-file.js';
import { rewriteUser } from '../dispatch/rewrite.js';
import { recordSockets } from '../dispatch/sockets.js';
import type { ListenAddress } from '../config/types.js';
import type { DestTable } from '../shared/dest-table.js';
import type { Binding, BindingTable } from '../shared/binding-table.js';
import { DS_DISABLED, DS_INACTIVE, DS_PROBING, DS_TRYING } from '../shared/dest-state.js';
import { EMPTY_ATTRS } from '../dispatch/attrs.js';
import { parseDestinationUri } from '../dispatch/dest-uri.js';
import { canonicalHost } from '../sip/responses.js';
import type { CoreConfig } from './core-config.js';
import type { Peer, RouteTarget } from './types.js';

/** A binding as a list record: what buildSets makes a destination of (flagged probing, as pinged). */
function bindingRecord(b: Binding): DestinationRecord | undefined {
  const u = parseDestinationUri(b.uri);
  if (!u.ok) return undefined;
  return { ...u.value, address: b.address, port: b.port, setId: b.setId, flags: DS_PROBING, priority: b.priority, attrs: EMPTY_ATTRS, line: 0 };
}


/**
 * Route targets in the shared state table's order; `records` must hold resolved addresses, and
 * their socket attrs were checked against `listen` at load (server.ts loadDestinations).
 */
export function targetsFrom(records: readonly DestinationRecord[], listen: readonly ListenAddress[]): RouteTarget[] {
  return flatten(buildSets(records)).map((d) => ({
    index: d.slot,
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
  #sets: Map<number, DestinationSet>;
  readonly #targetOf = new Map<string, RouteTarget>();
  readonly #template: CompiledTemplate | undefined;
  /** `address|port` of every destination of every set: who may route in-dialog requests towards a caller. */
  #destinations: ReadonlySet<string>;
  /** `address|port` -> table slot, for the per-destination counters (the first slot when two share an address). */
  #slotOf = new Map<string, number>();
  /** SIPLB_SET, and this thread's round-robin, weight and algorithm 11/64 state for it. */
  #set: DestinationSet | undefined;
  /** Table index of each destination of #set, by its position in the set (no lookup by id per selection). */
  #at = new Int32Array(0);
  readonly #runtime = createSetRuntime();
  readonly #usable: (d: Destination) => boolean;
  readonly #opts: SelectOptions;
  /** The binding table generation the sets were built from; -1 when there are no registration sets. */
  #bindingGen = -1;

  constructor(
    private config: CoreConfig,
    private readonly states: DestTable,
    /** Wall-clock ms (Date.now in service): what overload reports are valid until. */
    now: () => number = Date.now,
    /** Registration-based destinations (SIPLB_REGISTER_SETS): their sets follow this table. */
    private readonly bindings?: BindingTable,
  ) {
    this.#sets = buildSets(config.records);
    this.#destinations = new Set();
    this.#template = config.alg === 7 ? compileTemplate(config.hashTemplate) : undefined;
    this.#usable = (d) => states.usable(this.#at[d.index]!);
    const reader: DestReader = {
      load: (d) => states.load(this.#at[d.index]!),
      latency: (d, out) => states.readLatency(this.#at[d.index]!, out),
      overload: (d, out) => states.readOverload(this.#at[d.index]!, out),
      now,
      usableGeneration: () => states.usableGeneration,
      latencyGeneration: () => states.latencyGeneration,
    };
    this.#opts = { limit: config.limit, hashMode: config.hashMode, useDefault: config.useDefault, failover: config.failover, reader };
    this.#build([]);
  }

  /**
   * The sets from the list plus the live bindings: every binding is a destination of its
   * registration set, at table index `list slots + slot`: the binding slots are the table's last
   * `registerSlots` entries (server.ts sizes the table so).
   */
  #build(bindings: readonly Binding[]): void {
    const cfg = this.config;
    const base = this.states.count - cfg.registerSlots;
    const extra: DestinationRecord[] = [];
    // set|uri -> slots in binding order: buildSets numbers records of one URI in that order too
    const slotsOf = new Map<string, number[]>();
    for (const b of bindings) {
      const r = bindingRecord(b);
      if (r === undefined) continue;
      extra.push(r);
      const key = `${r.setId}|${r.uri}`;
      slotsOf.set(key, [...(slotsOf.get(key) ?? []), b.slot]);
    }
    this.#sets = extra.length === 0 && this.#bindingGen < 0 ? this.#sets : buildSets([...cfg.records, ...extra]);
    this.#targetOf.clear();
    const fromList = new Map(flatten(buildSets(cfg.records)).map((d, i) => [d.id, cfg.targets[i]!]));
    for (const d of flatten(this.#sets)) {
      const listed = d.line > 0 ? fromList.get(d.id) : undefined;
      if (listed) {
        this.#targetOf.set(d.id, listed);
        continue;
      }
      const slot = slotsOf.get(`${d.setId}|${d.uri}`)?.shift();
      if (slot === undefined) continue;
      this.#targetOf.set(d.id, { index: base + slot, id: d.id, setId: d.setId, uri: d.uri, address: d.address, port: d.port, strip: 0, prefix: '', maxload: 0, socket: -1 });
    }
    this.#destinations = new Set([...this.#targetOf.values()].map((t) => `${canonicalHost(t.address)}|${t.port}`));
    this.#slotOf = new Map();
    for (const t of [...this.#targetOf.values()].sort((a, b) => a.index - b.index)) {
      const key = `${canonicalHost(t.address)}|${t.port}`;
      if (!this.#slotOf.has(key)) this.#slotOf.set(key, t.index);
    }
    this.#set = this.#sets.get(cfg.set);
    this.#at = Int32Array.from(this.#set?.destinations ?? [], (d) => this.#targetOf.get(d.id)?.index ?? -1);
  }

  /**
   * A reloaded list (server.ts reload): `config` is the same but for its records and targets. The
   * sets are rebuilt; this thread's round-robin and weight positions stay, and what was derived
   * from the old sets (algorithm 11's table, 64's skip patterns) is derived again at next use.
   */
  reload(config: CoreConfig): void {
    this.config = config;
    this.#sets = buildSets(config.records);
    this.#runtime.rwTable = undefined;
    this.#runtime.oc = [];
    this.#build(this.bindings?.all() ?? []);
  }

  /** Rebuilds the sets when a binding came, changed or went (one atomic load when none did). */
  #refresh(): void {
    const b = this.bindings;
    if (b === undefined) return;
    const g = b.generation;
    if (g === this.#bindingGen) return;
    this.#bindingGen = g;
    this.#build(b.all());
  }

  /** True when `address` and `port` (a datagram's source, as Node reports it) are a destination of the list. */
  isDestination(address: string, port: number): boolean {
    this.#refresh();
    return this.#destinations.has(`${address}|${port}`);
  }

  /** The table slot of the destination at `address` and `port` (as isDestination), -1 if none. */
  slotOf(address: string, port: number): number {
    this.#refresh();
    return this.#slotOf.get(`${address}|${port}`) ?? -1;
  }

  /** The ordered destinations for a new request (first = chosen), empty when none is usable. */
  select(m: SipMessage, src: Peer): RouteTarget[] {
    this.#refresh();
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
    this.#refresh();
    return this.#targetOf.get(id);
  }

  usable(t: RouteTarget): boolean {
    return this.states.usable(t.index);
  }

  /** The failover mark (SIPLB_MARK_FAILED), through the table's state machine. */
  /**
   * The failover mark (SIPLB_MARK_FAILED), through the table's state machine, except on the last
   * usable destination of its set: marked, it would leave every new call of the set a 503 until a
   * keepalive brings something back, where a slow destination still answers most of them. Kamailio
   * marks it anyway. False when the mark was not applied for that reason.
   */
  markFailed(t: RouteTarget, state: number): boolean {
    this.#refresh();
    if (state & (DS_INACTIVE | DS_TRYING | DS_DISABLED)) {
      const others = this.#sets.get(t.setId)?.destinations.some((d) => {
        const o = this.#targetOf.get(d.id);
        return o !== undefined && o.index !== t.index && this.states.usable(o.index);
      });
      if (others !== true) return false;
    }
    this.states.markFailed(t.index, state);
    return true;
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
