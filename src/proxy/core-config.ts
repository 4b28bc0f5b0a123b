// The proxy core's view of the configuration: the slice of the validated SiplbConfig it reads, in
// the shape it reads it on the hot path (flags decoded, our addresses listed once). Built from
// SiplbConfig in every thread: SiplbConfig crosses to workers by structured clone; functions cannot,
// so they are made here.
import { isFailoverStatus } from '../config/parse.js';
import { DS_FLAG_FAILOVER, DS_FLAG_HASH_USER_ONLY, type SiplbConfig } from '../config/types.js';
import type { DestinationRecord } from '../dispatch/list-file.js';
import type { CidrList } from '../shared/cidr.js';
import { parseStateArg } from '../shared/dest-state.js';
import { targetsFrom } from './targets.js';
import { compileRoutes, type CompiledRoutes } from '../dispatch/routes.js';
import type { RouteTarget } from './types.js';

export interface CoreConfig {
  readonly mode: 'stateful' | 'stateless';
  readonly set: number;
  readonly alg: number;
  readonly limit: number;
  readonly failover: boolean;
  readonly userOnly: boolean;
  readonly useDefault: boolean;
  readonly hashMode: 'rehash' | 'kamailio';
  readonly hashTemplate: string;
  /** SIPLB_ROUTES compiled in this thread (regexes cannot cross threads); undefined = no rules. */
  readonly routes: CompiledRoutes | undefined;
  /** SIPLB_DS_HASH_EXPIRE and SIPLB_DS_HASH_INITEXPIRE, in ms (algorithm 10's call tracking). */
  readonly dsHashExpire: number;
  readonly dsHashInitExpire: number;
  readonly recordRoute: boolean;
  readonly forceRport: boolean;
  readonly frTimer: number;
  readonly frInvTimer: number;
  readonly t1: number;
  readonly t2: number;
  readonly isFailoverCode: (status: number) => boolean;
  /** SIPLB_MARK_FAILED as state bits (src/shared/dest-state.ts), undefined when empty. */
  readonly markFailed: number | undefined;
  /** SIPLB_FAILOVER_AFTER_PROVISIONAL: a branch that rang and then timed out fails over too. */
  readonly failoverAfterProvisional: boolean;
  readonly noDestCode: number;
  readonly noDestReason: string;
  readonly maxMessageSize: number;
  /** Queueing delay (ms) from which new requests are shed; 0 = never. */
  readonly overloadDelay: number;
  readonly overloadRetryAfter: number;
  readonly foreignRoute: 'reject' | 'drop';
  readonly allow: CidrList;
  /** SIPLB_REGISTER_SETS' addresses-of-record (lower-case user@host): REGISTERs for these go to the registrar. */
  readonly registerAors: ReadonlySet<string>;
  /** SIPLB_REGISTER_ALLOW. */
  readonly registerAllow: CidrList;
  /** SIPLB_REGISTER_MAX: binding slots after the list's destinations in the shared table (0 = none). */
  readonly registerSlots: number;
  /** Lower-case User-Agent substrings of scanners (dropped silently). */
  readonly scannerUserAgents: readonly string[];
  /** Most server transactions (stateful) or cached routes (stateless) this core holds. */
  readonly maxTransactions: number;
  readonly rrSecret: string;
  readonly serverHeader: string;
  /** Written into our Via and Record-Route. */
  readonly advertise: { readonly host: string; readonly port: number; readonly hostport: string };
  /** Per listening socket, in SIPLB_LISTEN order: its family and the host:port we write in Via and
   *  Record-Route when we send from it (SIPLB_ADVERTISE replaces the first one's). */
  readonly sockets: readonly { readonly family: 4 | 6; readonly hostport: string }[];
  /** Every address that is us, for Route pre-processing and response matching. */
  readonly ours: readonly { host: string; port: number }[];
  /** The list's records, addresses resolved (every thread builds its sets from them). */
  readonly records: readonly DestinationRecord[];
  /** The flat destination list in the order of the shared state table. */
  readonly targets: readonly RouteTarget[];
}

export function coreConfig(c: SiplbConfig, records: readonly DestinationRecord[]): CoreConfig {
  const adv = c.advertise;
  const host = adv.host.includes(':') && !adv.host.startsWith('[') ? `[${adv.host}]` : adv.host;
  const ours = [{ host: adv.host, port: adv.port }, ...c.listen.map((l) => ({ host: l.address, port: l.port }))];
  return {
    mode: c.mode,
    set: c.set,
    alg: c.alg,
    limit: c.limit,
    failover: (c.flags & DS_FLAG_FAILOVER) !== 0,
    userOnly: (c.flags & DS_FLAG_HASH_USER_ONLY) !== 0,
    useDefault: c.useDefault,
    hashMode: c.hashMode,
    hashTemplate: c.hashTemplate,
    routes: c.routes === undefined ? undefined : compileRoutes(c.routes, c.routes.file),
    dsHashExpire: c.dsHashExpire * 1000,
    dsHashInitExpire: c.dsHashInitExpire * 1000,
    recordRoute: c.recordRoute,
    forceRport: c.forceRport,
    frTimer: c.frTimer,
    frInvTimer: c.frInvTimer,
    t1: c.t1,
    t2: c.t2,
    isFailoverCode: (status) => isFailoverStatus(c.failoverCodes, status),
    markFailed: parseStateArg(c.markFailed),
    failoverAfterProvisional: c.failoverAfterProvisional,
    noDestCode: c.noDestCode,
    noDestReason: c.noDestReason,
    maxMessageSize: c.maxMessageSize,
    overloadDelay: c.overloadDelay,
    overloadRetryAfter: c.overloadRetryAfter,
    foreignRoute: c.foreignRoute,
    allow: c.allow,
    registerAors: new Set(c.registerSets.keys()),
    registerAllow: c.registerAllow,
    registerSlots: c.registerSets.size > 0 ? c.registerMax : 0,
    scannerUserAgents: c.scannerUserAgents,
    maxTransactions: c.maxTransactions,
    rrSecret: c.rrSecret,
    serverHeader: c.serverHeader,
    advertise: { host: adv.host, port: adv.port, hostport: `${host}:${adv.port}` },
    sockets: c.listen.map((l, i) => ({
      family: l.family,
      hostport: i === 0 ? `${host}:${adv.port}` : `${l.family === 6 ? `[${l.address}]` : l.address}:${l.port}`,
    })),
    ours,
    records,
    targets: targetsFrom(records, c.listen),
  };
}
