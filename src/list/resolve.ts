// Host names and SRV names of the list turned into addresses, on the main thread and off the data
// path (the hot path sends to addresses; Node's resolver works on its own threads). Called at
// load, at every reload and dispatcher.add, and every SIPLB_DS_DNS_INTERVAL (service.ts).
//
// The rules, RFC 3263 §4.2 without NAPTR (README, "Host names and SRV"):
// - an IP address is taken as it is;
// - a name written as an SRV name (`_sip._udp.example.com`), or any name with flag 16, is looked
//   up as SRV only: Kamailio's flag 16 (DS_NODNSARES_DST) means "no A/AAAA lookup of this name",
//   meant for names that have only SRV or NAPTR records;
// - a name without a port is looked up as SRV first (`_sip._udp.`, `_sip._tcp.`, `_sips._tcp.`
//   by transport); one with SRV records becomes one destination per target, with its own id,
//   table entry and state (Kamailio hands the name to its core, which uses one server of the set:
//   kamailio#2376);
// - otherwise (a port given, or no SRV records) the name's A, then AAAA, records.
// A name that stops resolving keeps its last answer (said once); one never resolved is kept
// inactive (flag 1) at 0.0.0.0, as Kamailio's list load would refuse it.
import { isIP } from 'node:net';
import { DS_INACTIVE, DS_NODNS } from '../shared/dest-state.js';
import { uriHasPort } from '../dispatch/dest-uri.js';
import type { DestinationRecord } from '../dispatch/list-file.js';
import { dnsClient, type DnsClient, type SrvTarget } from './dns-client.js';

export interface ResolveLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

const SRV_PREFIX: Readonly<Record<string, string>> = { udp: '_sip._udp', tcp: '_sip._tcp', tls: '_sips._tcp', sctp: '_sip._sctp' };
/** `_service._proto.` in front: the operator wrote the SRV name itself. */
const SRV_NAME = /^_[a-z0-9-]+\._[a-z0-9-]+\./i;

/** The SRV name to look up for `r`, and whether its A/AAAA records must not be used; undefined: A/AAAA only. */
export function srvQuery(r: Pick<DestinationRecord, 'host' | 'uri' | 'flags' | 'transport'>): { name: string; only: boolean } | undefined {
  if (SRV_NAME.test(r.host)) return { name: r.host, only: true };
  const prefix = SRV_PREFIX[r.transport];
  const only = (r.flags & DS_NODNS) !== 0;
  if (prefix === undefined) return only ? { name: `_sip._udp.${r.host}`, only } : undefined;
  return only || !uriHasPort(r.uri) ? { name: `${prefix}.${r.host}`, only } : undefined;
}

/**
 * Kamailio's priority (higher first, algorithm 8) from SRV's (lower first): the targets of the
 * best SRV priority get the line's priority, those of each further level one less. The weight
 * becomes `weight` (algorithm 9, percent of the SRV set's total) and `rweight` (algorithm 11,
 * relative to the heaviest target) where the line gives none; a weight of 0 counts as 1.
 */
export function srvRecords(r: DestinationRecord, set: readonly SrvTarget[], addressOf: (name: string) => string | undefined): DestinationRecord[] {
  const sorted = [...set].sort((a, b) => a.priority - b.priority || b.weight - a.weight || (a.name < b.name ? -1 : a.name > b.name ? 1 : a.port - b.port));
  const levels = [...new Set(sorted.map((t) => t.priority))];
  const sum = sorted.reduce((s, t) => s + t.weight, 0);
  const max = sorted.reduce((m, t) => Math.max(m, t.weight), 0);
  const percent = (w: number): number => (sum === 0 ? Math.max(1, Math.floor(100 / sorted.length)) : Math.min(100, Math.max(1, Math.round((100 * w) / sum))));
  const relative = (w: number): number => (max === 0 ? 1 : Math.max(1, Math.round((100 * w) / max)));
  const seen = new Set<string>();
  return sorted.flatMap((t) => {
    const target = `${t.name}:${t.port}`;
    if (seen.has(target)) return [];
    seen.add(target);
    const address = addressOf(t.name);
    const attrs = { ...r.attrs, weight: r.attrs.weight || percent(t.weight), rweight: r.attrs.rweight || relative(t.weight) };
    const flags = address === undefined ? r.flags | DS_INACTIVE : r.flags;
    return [{ ...r, host: t.name, address: address ?? '0.0.0.0', port: t.port, priority: r.priority - levels.indexOf(t.priority), attrs, flags, target }];
  });
}

export class HostResolver {
  readonly #dns: DnsClient;
  /** Last good answers: they stand in when a name stops resolving. */
  readonly #lastAddress = new Map<string, string>();
  readonly #lastSrv = new Map<string, readonly SrvTarget[]>();
  /** Names whose failure was said: said again only after they resolve once more. */
  readonly #failing = new Set<string>();

  constructor(servers: readonly string[], private readonly log: ResolveLog) {
    this.#dns = dnsClient(servers);
  }

  /** Every record resolved, SRV names expanded; never throws. `where` names a record's place in messages. */
  async resolve(records: readonly DestinationRecord[], where: (r: DestinationRecord) => string): Promise<DestinationRecord[]> {
    const pass = { addresses: new Map<string, Promise<string | undefined>>(), srv: new Map<string, Promise<readonly SrvTarget[] | undefined>>() };
    const expanded = await Promise.all(records.map((r) => this.#expand(r, where(r), pass)));
    return expanded.flat();
  }

  async #expand(r: DestinationRecord, at: string, pass: Pass): Promise<DestinationRecord[]> {
    if (isIP(r.address)) return [r];
    const q = srvQuery(r);
    if (q !== undefined) {
      const set = await once(pass.srv, q.name, () => this.#srv(q.name, q.only, at));
      if (set !== undefined && set.length > 0) {
        const names = [...new Set(set.map((t) => t.name))];
        const found = await Promise.all(names.map((n) => once(pass.addresses, n, () => this.#address(n, at))));
        const addressOf = new Map(names.map((n, i) => [n, found[i]]));
        return srvRecords(r, set, (n) => addressOf.get(n));
      }
      if (q.only) return [{ ...r, address: '0.0.0.0', flags: r.flags | DS_INACTIVE }];
    }
    const address = await once(pass.addresses, r.address, () => this.#address(r.address, at));
    return [address === undefined ? { ...r, address: '0.0.0.0', flags: r.flags | DS_INACTIVE } : { ...r, address }];
  }

  /** The SRV set of `name`; undefined when it has none and A/AAAA may be used instead. */
  async #srv(name: string, only: boolean, at: string): Promise<readonly SrvTarget[] | undefined> {
    let reason: string;
    try {
      const set = await this.#dns.srv(name);
      if (set.length > 0) {
        this.#lastSrv.set(name, set);
        this.#recovered(name);
        return set;
      }
      reason = 'no SRV records';
    } catch (err) {
      reason = errorCode(err);
    }
    const last = this.#lastSrv.get(name);
    if (last !== undefined) {
      this.#failed(name, `${at}: SRV lookup of ${name} fails (${reason}); its last targets stay in service`);
      return last;
    }
    if (only) this.#failed(name, `${at}: SRV lookup of ${name} fails (${reason}); the destination is kept inactive`);
    return only ? [] : undefined;
  }

  /** An address of `name`: the one it had while the answer still holds it (round-robin DNS must not move destinations), else the first. */
  async #address(name: string, at: string): Promise<string | undefined> {
    const last = this.#lastAddress.get(name);
    let reason: string;
    try {
      const all = await this.#dns.addresses(name);
      if (all.length > 0) {
        const pick = last !== undefined && all.includes(last) ? last : all[0]!;
        this.#lastAddress.set(name, pick);
        this.#recovered(name);
        return pick;
      }
      reason = 'no A or AAAA records';
    } catch (err) {
      reason = errorCode(err);
    }
    this.#failed(name, last !== undefined ? `${at}: cannot resolve ${name} (${reason}); it keeps its last address ${last}` : `${at}: cannot resolve ${name} (${reason}); the destination is kept inactive`);
    return last;
  }

  #failed(name: string, message: string): void {
    if (this.#failing.has(name)) return;
    this.#failing.add(name);
    this.log.warn(message);
  }

  #recovered(name: string): void {
    if (this.#failing.delete(name)) this.log.info(`${name} resolves again`);
  }
}

interface Pass {
  addresses: Map<string, Promise<string | undefined>>;
  srv: Map<string, Promise<readonly SrvTarget[] | undefined>>;
}

/** One query per name and pass, however many lines name it. */
function once<T>(cache: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let p = cache.get(key);
  if (p === undefined) cache.set(key, (p = make()));
  return p;
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}
