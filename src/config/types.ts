// The validated configuration: one field per SIPLB_* variable (schema.ts maps them), every default
// applied, deep-frozen by loadConfig(). Workers get it at start; nothing reads the environment later.
import type { AdminAddress, AdvertiseAddress, FailoverCodes, ListenAddress, ReplyCodes } from './parse.js';
import type { CidrList } from '../shared/cidr.js';
import type { RoutesConfig } from './routes.js';
import type { DbColumns } from './db.js';

export type { AdminAddress, AdvertiseAddress, FailoverCodes, ListenAddress, ReplyCodes } from './parse.js';

/** Kamailio dispatcher algorithm numbers siplb implements (the `alg` of ds_select_dst). */
export const ALGORITHMS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 64] as const;
export type DispatchAlgorithm = (typeof ALGORITHMS)[number];

/** Module flag 1 (Kamailio `flags`): hash only the user part of From/To/Request-URI. */
export const DS_FLAG_HASH_USER_ONLY = 1;
/** Module flag 2 (Kamailio `flags`): selection returns an ordered list to fail over along. */
export const DS_FLAG_FAILOVER = 2;

/** ds_mark_dst letters: inactive or trying, optionally probing; '' leaves the state alone. */
export const MARK_FAILED = ['', 'i', 't', 'ip', 'tp'] as const;
export type MarkFailed = (typeof MARK_FAILED)[number];

/** SIPLB_FOREIGN_ROUTE: what a new request whose Route is not ours gets. */
export const FOREIGN_ROUTE = ['reject', 'drop'] as const;
export type ForeignRoute = (typeof FOREIGN_ROUTE)[number];

export const HASH_MODES = ['rehash', 'kamailio'] as const;
export type HashMode = (typeof HASH_MODES)[number];

/** SIPLB_WORKER_SEND: dispatch workers send on their own descriptors, or through the main thread. */
export const WORKER_SEND = ['direct', 'ring'] as const;
export type WorkerSend = (typeof WORKER_SEND)[number];

export const PROXY_MODES = ['stateful', 'stateless'] as const;
export type ProxyMode = (typeof PROXY_MODES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface SiplbConfig {
  /** SIPLB_LISTEN: UDP addresses to bind, in the order given; never empty, no duplicates. */
  readonly listen: readonly ListenAddress[];
  /** SIPLB_ADVERTISE: host and port written into our Via and Record-Route (never a wildcard). */
  readonly advertise: AdvertiseAddress;
  /** SIPLB_LIST_FILE: absolute path of the dispatcher list file; it existed at load time. */
  readonly listFile: string;
  /** SIPLB_DS_LOAD_MODE: 1 = a bad line aborts the (re)load, 0 = skip it with a warning. */
  readonly dsLoadMode: 0 | 1;
  /** SIPLB_DB_URL: PostgreSQL or MySQL/MariaDB URL of the destination table; '' = read listFile. */
  readonly dbUrl: string;
  /** SIPLB_DB_TABLE: the destination table's name (or schema.name). */
  readonly dbTable: string;
  /** SIPLB_DB_COLUMNS: its column names, Kamailio's where not configured. */
  readonly dbColumns: DbColumns;
  /** SIPLB_DS_DNS_INTERVAL, s: the list's names are looked up again this often; 0 = at load only. */
  readonly dsDnsInterval: number;
  /** SIPLB_DNS_SERVERS: `ip`, `ip:port` or `[ipv6]:port` each; empty = the system resolver. */
  readonly dnsServers: readonly string[];
  /** SIPLB_SET: destination set new requests go to. */
  readonly set: number;
  /** SIPLB_ALG: Kamailio algorithm number used with `set`. */
  readonly alg: DispatchAlgorithm;
  /** SIPLB_LIMIT: most entries in a selection list, the chosen one included; 0 = no cap. */
  readonly limit: number;
  /** SIPLB_FLAGS: module flags bitmask; test with DS_FLAG_HASH_USER_ONLY and DS_FLAG_FAILOVER. */
  readonly flags: number;
  /** SIPLB_USE_DEFAULT: the last destination of a set is kept back as the last resort. */
  readonly useDefault: boolean;
  /** SIPLB_HASH_MODE: a down hash pick is rehashed over live destinations, or walks on as Kamailio does. */
  readonly hashMode: HashMode;
  /** SIPLB_HASH_TEMPLATE: algorithm 7 key template; syntax checked here, compiled by the dispatcher. */
  readonly hashTemplate: string;
  /** SIPLB_DS_HASH_EXPIRE, s: algorithm 10 drops a call's load this long after its INVITE (no BYE seen). */
  readonly dsHashExpire: number;
  /** SIPLB_DS_HASH_INITEXPIRE, s: the same for a call no 2xx confirmed. */
  readonly dsHashInitExpire: number;
  /** SIPLB_MODE: transaction-stateful or stateless forwarding. */
  readonly mode: ProxyMode;
  /** SIPLB_ROUTES: the routing rules, read and checked at load; undefined = none (SIPLB_SET, SIPLB_ALG for all). */
  readonly routes: RoutesConfig | undefined;
  /** SIPLB_WORKERS: dispatch worker threads; 0 = dispatch inline on the main thread. */
  readonly workers: number;
  /** SIPLB_WORKER_SEND: how dispatch workers send. */
  readonly workerSend: WorkerSend;
  /** SIPLB_RECORD_ROUTE: add Record-Route (`;lr`) to dialog-creating requests. */
  readonly recordRoute: boolean;
  /** SIPLB_FORCE_RPORT: answer to the packet's source address and port (RFC 3581). */
  readonly forceRport: boolean;
  /** SIPLB_FR_TIMER, ms: no response at all in this time fails the branch over (non-INVITE: 408). */
  readonly frTimer: number;
  /** SIPLB_FR_INV_TIMER, ms: after a provisional response to an INVITE, wait this long for a final one. */
  readonly frInvTimer: number;
  /** SIPLB_T1, ms: RFC 3261 §17.1.1.1 RTT estimate, first UDP retransmission interval. */
  readonly t1: number;
  /** SIPLB_T2, ms: RFC 3261 §17.1.2.2 cap of the retransmission interval; always >= t1. */
  readonly t2: number;
  /** SIPLB_FAILOVER_CODES: final responses that fail over; test with isFailoverStatus(). */
  readonly failoverCodes: FailoverCodes;
  /** SIPLB_FAILOVER_AFTER_PROVISIONAL: an INVITE branch that rang and timed out fails over too. */
  readonly failoverAfterProvisional: boolean;
  /** SIPLB_MARK_FAILED: ds_mark_dst state given to a destination a call failed over from. */
  readonly markFailed: MarkFailed;
  /** SIPLB_DS_PING_INTERVAL, s: between two keepalives to a destination; 0 = none. */
  readonly pingInterval: number;
  /** SIPLB_DS_PING_METHOD: method of the keepalives. */
  readonly pingMethod: string;
  /** SIPLB_DS_PING_FROM: From URI of the keepalives. */
  readonly pingFrom: string;
  /** SIPLB_DS_PING_TIMEOUT, ms: no final reply in this time is a failed keepalive. */
  readonly pingTimeout: number;
  /** SIPLB_DS_PROBING_THRESHOLD: failures from trying to inactive. */
  readonly probingThreshold: number;
  /** SIPLB_DS_INACTIVE_THRESHOLD: successes from inactive to active. */
  readonly inactiveThreshold: number;
  /** SIPLB_DS_PROBING_MODE: which destinations are pinged (dest-state.ts PROBE_*). */
  readonly probingMode: 0 | 1 | 2 | 3;
  /** SIPLB_DS_PING_REPLY_CODES: replies accepted besides 2xx. */
  readonly pingReplyCodes: ReplyCodes;
  /** SIPLB_DS_PING_LATENCY_STATS: keep round-trip statistics per destination. */
  readonly pingLatencyStats: boolean;
  /** SIPLB_DS_LATENCY_ESTIMATOR_ALPHA, thousandths: weight of the old estimate. */
  readonly latencyEstimatorAlpha: number;
  /** SIPLB_REGISTER_SETS: lower-case user@host of each registration address-of-record, to its set id. */
  readonly registerSets: ReadonlyMap<string, number>;
  /** SIPLB_REGISTER_ALLOW: who may REGISTER to them. */
  readonly registerAllow: CidrList;
  /** SIPLB_REGISTER_MAX: binding slots, all registration sets together. */
  readonly registerMax: number;
  /** SIPLB_REGISTER_MIN_EXPIRES, s. */
  readonly registerMinExpires: number;
  /** SIPLB_REGISTER_MAX_EXPIRES, s. */
  readonly registerMaxExpires: number;
  /** SIPLB_ADMIN_TOKEN: required as a bearer token on every admin request when set. */
  readonly adminToken: string | undefined;
  /** SIPLB_ADMIN: the control channel's address; undefined = none. */
  readonly admin: AdminAddress | undefined;
  /** SIPLB_NO_DEST_CODE: status sent when no destination is left. */
  readonly noDestCode: number;
  /** SIPLB_NO_DEST_REASON: reason phrase of that response. */
  readonly noDestReason: string;
  /** SIPLB_MAX_MESSAGE_SIZE, bytes: larger requests are answered 513, larger responses dropped. */
  readonly maxMessageSize: number;
  /** SIPLB_FOREIGN_ROUTE: a new request with a Route not ours is answered 403 or dropped. */
  readonly foreignRoute: ForeignRoute;
  /** SIPLB_ALLOW: sources that may start calls; no blocks = anyone. */
  readonly allow: CidrList;
  /** SIPLB_TRUSTED: sources exempt from flood control. */
  readonly trusted: CidrList;
  /** SIPLB_FLOOD_LIMIT: datagrams per source per window before it is blocked; 0 = off. */
  readonly floodLimit: number;
  /** SIPLB_FLOOD_WINDOW, ms: the sliding window of floodLimit. */
  readonly floodWindow: number;
  /** SIPLB_FLOOD_BLOCK, s: how long a flooding source stays blocked. */
  readonly floodBlock: number;
  /** SIPLB_SCANNER_UA: lower-case User-Agent substrings of scanners, dropped silently. */
  readonly scannerUserAgents: readonly string[];
  /** SIPLB_MAX_TRANSACTIONS: per thread, most server transactions (or stateless routes) held. */
  readonly maxTransactions: number;
  /** SIPLB_OVERLOAD_DELAY, ms: queueing delay from which new requests are shed with 503; 0 = never. */
  readonly overloadDelay: number;
  /** SIPLB_OVERLOAD_RETRY_AFTER, s: Retry-After of an overload 503; 0 = none. */
  readonly overloadRetryAfter: number;
  /** SIPLB_WARMUP_CALLS: calls through a scratch core at start (proxy/warmup.ts); 0 = none. */
  readonly warmupCalls: number;
  /** SIPLB_DRAIN_TIMEOUT, ms: on shutdown, how long open transactions get to finish. */
  readonly drainTimeout: number;
  /** SIPLB_RR_SECRET: key authenticating our Record-Route token; random per start when unset. */
  readonly rrSecret: string;
  /** SIPLB_SOCKET_BUFFER, bytes: SO_RCVBUF and SO_SNDBUF of every socket; 0 = OS default. */
  readonly socketBuffer: number;
  /** SIPLB_REUSE_PORT: SO_REUSEPORT on the listening sockets (Node 22.12+), for a restart without a gap. */
  readonly reusePort: boolean;
  /** SIPLB_LOG_LEVEL: pino level of the control-plane log. */
  readonly logLevel: LogLevel;
  /** SIPLB_SERVER_HEADER: Server (responses) / User-Agent (our requests) value; '' = no header. */
  readonly serverHeader: string;
  /** SIPLB_EVENT_WEBHOOK: http(s) URL that dst-down/dst-up events are POSTed to, as URL.href; '' = none. */
  readonly eventWebhook: string;
  /** SIPLB_EVENT_COMMAND: shell command run for each event (src/events/command.ts); '' = none. */
  readonly eventCommand: string;
  /** SIPLB_EVENT_QUEUE: most events waiting for the webhook, and for the command, before the oldest is dropped. */
  readonly eventQueue: number;
  /** SIPLB_EVENT_RETRIES: webhook attempts after the first before an event is given up. */
  readonly eventRetries: number;
  /** SIPLB_MAX_DESTINATIONS: the list's entries in the shared destination table. */
  readonly maxDestinations: number;
  /** SIPLB_RELOAD_DELTA, s: least time between two reloads (ds_reload_delta). */
  readonly reloadDelta: number;
  /** SIPLB_STATE_FILE: where destination states are kept across restarts; '' = not kept. */
  readonly stateFile: string;
  /** SIPLB_STATE_INTERVAL, s: how often the state file is written. */
  readonly stateInterval: number;
  /** SIPLB_WATCH_LIST: reload the list file when it changes. */
  readonly watchList: boolean;
}
