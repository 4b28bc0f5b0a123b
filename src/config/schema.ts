// The schema of every SIPLB_* variable: name, type and default as documented, description, parser.
// One table drives loadConfig(), `siplb --help` and the README table, so they cannot disagree. A
// variable's default is its documented text run through its own parser, unless it has `unset`
// (defaults computed at start: the advertised address, the list file path, the random secret).
import { randomBytes } from 'node:crypto';
import { SiplbConfigError } from '../errors.js';
import {
  adminAddress,
  adminToken,
  advertise,
  bitmask,
  bool,
  cidrList,
  failoverCodes,
  hashTemplate,
  intIn,
  intOneOf,
  isWildcard,
  listenList,
  methodToken,
  oneOf,
  replyCodes,
  registerSets,
  reusePortFlag,
  sipUri,
  substringList,
  text,
  webhookUrl,
  type ListenAddress,
} from './parse.js';
import { dbColumns, dbTable, dbUrl, dnsServers } from './db.js';
import { defaultListFile, listFile } from './paths.js';
import { routesFile } from './routes.js';
import {
  ALGORITHMS,
  DS_FLAG_FAILOVER,
  DS_FLAG_HASH_USER_ONLY,
  FOREIGN_ROUTE,
  HASH_MODES,
  LOG_LEVELS,
  MARK_FAILED,
  PROXY_MODES,
  WORKER_SEND,
  type SiplbConfig,
} from './types.js';

export * from './types.js';
export { isFailoverStatus } from './parse.js';

/** One variable. `parse` and `unset` see the fields parsed before it (SCHEMA order). */
export interface VarSpec<T> {
  readonly name: string;
  /** What it accepts, for people. */
  readonly type: string;
  /** The default as documented; parsed by `parse` unless `unset` computes it. */
  readonly default: string;
  /** One line, no line breaks: shown by `siplb --help` and in the README table. */
  readonly description: string;
  readonly parse: (raw: string, name: string, done: Partial<SiplbConfig>) => T;
  readonly unset?: (name: string, done: Partial<SiplbConfig>) => T;
}

function firstListen(done: Partial<SiplbConfig>): ListenAddress {
  const first = done.listen?.[0];
  if (first === undefined) throw new Error('SCHEMA order: listen must come before advertise');
  return first;
}

const flagsBits = DS_FLAG_HASH_USER_ONLY | DS_FLAG_FAILOVER;

/** Key order is load order and documentation order. */
export const SCHEMA: { readonly [K in keyof SiplbConfig]: VarSpec<SiplbConfig[K]> } = {
  listen: {
    name: 'SIPLB_LISTEN', type: '[udp:]host:port,...', default: 'udp:127.0.0.1:5060',
    description: 'UDP addresses to listen on, comma-separated: IPv4 or bracketed IPv6 (udp:[::1]:5060).',
    parse: listenList,
  },
  advertise: {
    name: 'SIPLB_ADVERTISE', type: 'host[:port]', default: 'the first listen address',
    description: 'Host (and port; default the first listen port) written into Via and Record-Route. Required when the first listen address is 0.0.0.0 or [::].',
    parse: (raw, name, done) => advertise(raw, name, firstListen(done).port),
    unset: (name, done) => {
      const first = firstListen(done);
      if (isWildcard(first)) {
        throw new SiplbConfigError(name, `required when the first SIPLB_LISTEN address is ${first.host}: a wildcard cannot be written into a Via`);
      }
      return { host: first.host, port: first.port };
    },
  },
  listFile: {
    name: 'SIPLB_LIST_FILE', type: 'path', default: 'dispatcher.list in the package root',
    description: 'Kamailio dispatcher list file (setid destination [flags [priority [attrs]]]); a relative path is taken from the working directory.',
    parse: listFile,
    unset: (name) => listFile(defaultListFile(name), name),
  },
  dsLoadMode: {
    name: 'SIPLB_DS_LOAD_MODE', type: '0, 1', default: '1',
    description: 'Kamailio ds_load_mode: 1 = a bad line aborts the load (the old list stays in service), 0 = skip the line with a warning.',
    parse: intOneOf([0, 1] as const),
  },
  maxDestinations: {
    name: 'SIPLB_MAX_DESTINATIONS', type: 'integer 1-65536', default: '1024',
    description: 'Room in the shared destination table for the list: a reload or dispatcher.add beyond it is refused (the old list stays); about 100 bytes each.',
    parse: intIn(1, 65_536),
  },
  reloadDelta: {
    name: 'SIPLB_RELOAD_DELTA', type: 's, 0-3600', default: '5',
    description: 'Kamailio ds_reload_delta: least time between two reloads. A dispatcher.reload sooner is refused; SIGHUP or a list file change sooner waits for it.',
    parse: intIn(0, 3600, 's'),
  },
  stateFile: {
    name: 'SIPLB_STATE_FILE', type: 'path or empty', default: '',
    description: 'Destination states and keepalive latency are saved here (every SIPLB_STATE_INTERVAL and on shutdown) and restored at start for destinations still in the list with the same flags; empty = not kept.',
    parse: text(0, 4096),
  },
  stateInterval: {
    name: 'SIPLB_STATE_INTERVAL', type: 's, 1-86400', default: '30',
    description: 'How often SIPLB_STATE_FILE is written while running.',
    parse: intIn(1, 86_400, 's'),
  },
  watchList: {
    name: 'SIPLB_WATCH_LIST', type: 'boolean', default: 'false',
    description: 'Reload SIPLB_LIST_FILE by itself when the file changes (an editor\'s save or a mv over it).',
    parse: bool,
  },
  dbUrl: {
    name: 'SIPLB_DB_URL', type: 'postgres://..., mysql://..., empty', default: '',
    description: "Read the destinations from Kamailio's dispatcher table in this PostgreSQL (postgres://user:password@host:port/db) or MySQL/MariaDB (mysql://...) database instead of SIPLB_LIST_FILE; empty = the list file.",
    parse: dbUrl,
  },
  dbTable: {
    name: 'SIPLB_DB_TABLE', type: 'name or schema.name', default: 'dispatcher',
    description: 'The destination table in SIPLB_DB_URL (Kamailio table_name).',
    parse: dbTable,
  },
  dbColumns: {
    name: 'SIPLB_DB_COLUMNS', type: 'key=column,...', default: '',
    description: "Column names that differ from Kamailio's (setid_col, destination_col, ...): keys id, setid, destination, flags, priority, attrs, description, e.g. setid=grp,destination=uri; empty = Kamailio's names.",
    parse: dbColumns,
  },
  dsDnsInterval: {
    name: 'SIPLB_DS_DNS_INTERVAL', type: 's, 0-86400', default: '600',
    description: "Kamailio ds_dns_interval: host names and SRV names of the list are looked up again this often, off the data path; a changed address or SRV set is put in service keeping each destination's state. 0 = only at load and reload.",
    parse: intIn(0, 86_400, 's'),
  },
  dnsServers: {
    name: 'SIPLB_DNS_SERVERS', type: 'ip[:port],...', default: '',
    description: 'DNS servers for the list\'s host and SRV names (A, AAAA, SRV queries), e.g. 10.0.0.53,[2001:db8::53]:5353; empty = the system resolver (/etc/hosts and /etc/resolv.conf).',
    parse: dnsServers,
  },
  set: {
    name: 'SIPLB_SET', type: 'integer >= 0', default: '1',
    description: 'Destination set that new requests are dispatched to.',
    parse: intIn(0, 2 ** 31 - 1),
  },
  alg: {
    name: 'SIPLB_ALG', type: '0-15, 64', default: '4',
    description: 'Kamailio algorithm: 0 Call-ID hash, 1 From, 2 To, 3 Request-URI, 4 round-robin, 5 auth username, 6 random, 7 SIPLB_HASH_TEMPLATE, 8 priority, 9 weight, 10 call load (maxload), 11 relative weight (rweight, cc), 12 parallel forking to every usable destination (SIPLB_MODE=stateful only), 13 latency, 14 round-robin or priority, 15 SRV-like, 64 round-robin with overload control.',
    parse: intOneOf(ALGORITHMS),
  },
  limit: {
    name: 'SIPLB_LIMIT', type: 'integer >= 0', default: '0',
    description: 'Most destinations in a selection list, the first choice included (ds_select_dst limit); 0 = no cap.',
    parse: intIn(0, 2 ** 31 - 1),
  },
  flags: {
    name: 'SIPLB_FLAGS', type: 'bitmask, decimal or 0x', default: '2',
    description: 'Kamailio dispatcher module flags: 1 = hash only the URI user (algorithms 1-3), 2 = failover to the next destination. Other bits are refused.',
    parse: bitmask(flagsBits, 'a bitmask of 1 (hash user only) and 2 (failover), decimal or 0x hex: 0 to 3'),
  },
  useDefault: {
    name: 'SIPLB_USE_DEFAULT', type: 'boolean', default: 'false',
    description: 'Kamailio use_default: keep the last destination of a set back as the last resort.',
    parse: bool,
  },
  hashMode: {
    name: 'SIPLB_HASH_MODE', type: 'rehash, kamailio', default: 'rehash',
    description: "When a hashed pick is down: rehash over the live destinations (its calls spread evenly), or walk to the next one as Kamailio does.",
    parse: oneOf(HASH_MODES),
  },
  hashTemplate: {
    name: 'SIPLB_HASH_TEMPLATE', type: 'template', default: '$ci',
    description: 'What algorithm 7 hashes (Kamailio hash_pvar): $name tokens and literal text, e.g. $fU@$ci.',
    parse: hashTemplate,
  },
  dsHashExpire: {
    name: 'SIPLB_DS_HASH_EXPIRE', type: 's, 1-2592000', default: '7200',
    description: 'Algorithm 10 (Kamailio ds_hash_expire): a call\'s load is dropped this long after its INVITE if no BYE was seen.',
    parse: intIn(1, 2_592_000, 's'),
  },
  dsHashInitExpire: {
    name: 'SIPLB_DS_HASH_INITEXPIRE', type: 's, 1-2592000', default: '7200',
    description: 'Algorithm 10 (Kamailio ds_hash_initexpire): a call no 2xx confirmed loses its load this long after its INVITE (stateless mode sees no timeout: this is how it lets go).',
    parse: intIn(1, 2_592_000, 's'),
  },
  mode: {
    name: 'SIPLB_MODE', type: 'stateful, stateless', default: 'stateful',
    description: 'Transaction-stateful proxy (retransmissions, CANCEL, failover on timeout) or stateless forwarding (not with SIPLB_ALG=12).',
    parse: (raw, name, done) => {
      const mode = oneOf(PROXY_MODES)(raw, name);
      // parallel forking keeps a client transaction per branch and picks one answer among them
      // (RFC 3261 16.7): a stateless proxy has neither, it would send the request to one place
      if (mode === 'stateless' && done.alg === 12) {
        throw new SiplbConfigError(name, 'stateless cannot fork: SIPLB_ALG=12 (parallel forking) needs SIPLB_MODE=stateful, or choose another SIPLB_ALG');
      }
      return mode;
    },
  },
  routes: {
    name: 'SIPLB_ROUTES', type: 'path to .yaml, .yml or .json, or empty', default: '',
    description: 'Routing rules file: the first rule whose match (method, Request-URI user prefix or regex, domain, source CIDR, header) holds picks the set, algorithm and options, or rejects; no match = SIPLB_SET and SIPLB_ALG. Empty = no rules.',
    parse: (raw, name, done) => routesFile(raw, name, { ...(done.mode ? { mode: done.mode } : {}), ...(done.alg !== undefined ? { alg: done.alg } : {}) }),
  },
  workers: {
    name: 'SIPLB_WORKERS', type: 'integer 0-64', default: '0',
    description: 'Dispatch worker threads; 0 dispatches on the main thread (measured best on 2 cores: least CPU per call, p99 in microseconds); on 4 or more cores set it to the cores minus one.',
    parse: intIn(0, 64),
  },
  workerSend: {
    name: 'SIPLB_WORKER_SEND', type: 'direct, ring', default: 'direct',
    description: "With SIPLB_WORKERS > 0: direct = each worker sends on its own duplicate of the listening socket, so the main thread only receives; ring = workers hand every datagram to the main thread to send (the fallback, also taken by itself if direct cannot start).",
    parse: oneOf(WORKER_SEND),
  },
  recordRoute: {
    name: 'SIPLB_RECORD_ROUTE', type: 'boolean', default: 'true',
    description: 'Record-Route dialog-creating requests, so ACK, BYE and re-INVITE come back through siplb.',
    parse: bool,
  },
  forceRport: {
    name: 'SIPLB_FORCE_RPORT', type: 'boolean', default: 'true',
    description: "Answer to the request's source address and port (RFC 3581), as Kamailio's force_rport(); off, to the source address and the port its Via names (never another host).",
    parse: bool,
  },
  frTimer: {
    name: 'SIPLB_FR_TIMER', type: 'ms, 100-600000', default: '5000',
    description: 'A branch with no response at all in this time fails over (a non-INVITE with no final response gets 408).',
    parse: intIn(100, 600_000, 'ms'),
  },
  frInvTimer: {
    name: 'SIPLB_FR_INV_TIMER', type: 'ms, 100-600000', default: '120000',
    description: 'After a provisional response to an INVITE, how long to wait for a final one before failing over, like Kamailio fr_inv_timer (a phone may ring that long).',
    parse: intIn(100, 600_000, 'ms'),
  },
  t1: {
    name: 'SIPLB_T1', type: 'ms, 50-10000', default: '500',
    description: 'RFC 3261 T1, the round-trip estimate: first retransmission interval over UDP.',
    parse: intIn(50, 10_000, 'ms'),
  },
  t2: {
    name: 'SIPLB_T2', type: 'ms, 100-60000', default: '4000',
    description: 'RFC 3261 T2: longest retransmission interval of non-INVITE requests and INVITE responses; not below SIPLB_T1.',
    parse: (raw, name, done) => {
      const t2 = intIn(100, 60_000, 'ms')(raw, name);
      const t1 = done.t1 ?? 0;
      if (t2 < t1) throw new SiplbConfigError(name, `expected at least SIPLB_T1 (${t1} ms), got ${JSON.stringify(raw)}`);
      return t2;
    },
  },
  failoverCodes: {
    name: 'SIPLB_FAILOVER_CODES', type: 'codes and classes', default: '5xx,408',
    description: 'Final responses that fail over to the next destination (needs SIPLB_FLAGS bit 2); a timeout always does, a 6xx never (RFC 3261 16.7). Empty = timeouts only.',
    parse: failoverCodes,
  },
  failoverAfterProvisional: {
    name: 'SIPLB_FAILOVER_AFTER_PROVISIONAL', type: 'boolean', default: 'false',
    description: 'Fail over when a destination that already answered with a provisional (180 Ringing) reaches SIPLB_FR_INV_TIMER; off, the callee simply did not answer and the caller gets 408.',
    parse: bool,
  },
  markFailed: {
    name: 'SIPLB_MARK_FAILED', type: 'i, t, ip, tp or empty', default: 'ip',
    description: 'State given to a destination a call fails over from (Kamailio ds_mark_dst, through ds_update_state): i inactive, t trying (inactive after SIPLB_DS_PROBING_THRESHOLD failures), p probing, so that keepalives bring it back; empty = unchanged.',
    parse: oneOf(MARK_FAILED),
  },
  pingInterval: {
    name: 'SIPLB_DS_PING_INTERVAL', type: 's, 0-3600', default: '5',
    description: 'Seconds between two keepalives to a destination (Kamailio ds_ping_interval), spread evenly over the interval; 0 = no keepalives.',
    parse: intIn(0, 3600, 's'),
  },
  pingMethod: {
    name: 'SIPLB_DS_PING_METHOD', type: 'SIP method', default: 'OPTIONS',
    description: 'Method of the keepalives (ds_ping_method).',
    parse: methodToken,
  },
  pingFrom: {
    name: 'SIPLB_DS_PING_FROM', type: 'sip: URI', default: 'sip:dispatcher@localhost',
    description: 'From URI of the keepalives (ds_ping_from); the ping_from attr overrides it per destination.',
    parse: sipUri,
  },
  pingTimeout: {
    name: 'SIPLB_DS_PING_TIMEOUT', type: 'ms, 100-60000', default: '2000',
    description: 'A keepalive with no final reply in this time is a failure (Kamailio: the tm fr_timer of the OPTIONS). It is retransmitted meanwhile, at SIPLB_T1 doubling up to SIPLB_T2, so one lost datagram is not a failure.',
    parse: intIn(100, 60_000, 'ms'),
  },
  probingThreshold: {
    name: 'SIPLB_DS_PROBING_THRESHOLD', type: 'integer 1-1000', default: '1',
    description: 'Failures (keepalives, or SIPLB_MARK_FAILED=t marks) that take a destination from trying to inactive (ds_probing_threshold).',
    parse: intIn(1, 1000),
  },
  inactiveThreshold: {
    name: 'SIPLB_DS_INACTIVE_THRESHOLD', type: 'integer 1-1000', default: '1',
    description: 'Successful keepalives that bring an inactive destination back to active (ds_inactive_threshold).',
    parse: intIn(1, 1000),
  },
  probingMode: {
    name: 'SIPLB_DS_PROBING_MODE', type: '0, 1, 2, 3', default: '3',
    description: 'Which destinations get keepalives (ds_probing_mode): 0 those flagged probing (8), the flag cleared when one answers; 1 all; 2 those inactive and probing; 3 those flagged probing, the flag kept. Never the disabled (4), no-DNS (16) or no-ping (32) ones.',
    parse: intOneOf([0, 1, 2, 3] as const),
  },
  pingReplyCodes: {
    name: 'SIPLB_DS_PING_REPLY_CODES', type: 'class=N;code=NNN', default: '',
    description: 'Keepalive replies that also count as alive besides any 2xx (ds_ping_reply_codes), e.g. class=4;code=503 or code=480;code=404.',
    parse: replyCodes,
  },
  pingLatencyStats: {
    name: 'SIPLB_DS_PING_LATENCY_STATS', type: 'boolean', default: 'true',
    description: 'Keep keepalive round-trip statistics per destination (ds_ping_latency_stats): average, standard deviation, estimate, min, max, timeouts.',
    parse: bool,
  },
  latencyEstimatorAlpha: {
    name: 'SIPLB_DS_LATENCY_ESTIMATOR_ALPHA', type: 'integer 0-1000', default: '900',
    description: 'Weight of the old value in the latency estimate, in thousandths (ds_latency_estimator_alpha): estimate = estimate * alpha/1000 + sample * (1 - alpha/1000).',
    parse: intIn(0, 1000),
  },
  adminToken: {
    name: 'SIPLB_ADMIN_TOKEN', type: 'text, 16-1024 chars, or empty', default: '',
    description: 'Bearer token the control channel requires on every request (Authorization: Bearer ...); `siplb ctl` sends it. Required for a non-loopback SIPLB_ADMIN. Empty = none.',
    parse: adminToken,
  },
  admin: {
    name: 'SIPLB_ADMIN', type: 'host:port or empty', default: '127.0.0.1:5081',
    description: 'Address of the control channel (JSON-RPC, REST) that `siplb ctl` talks to; loopback unless SIPLB_ADMIN_TOKEN is set; empty = none.',
    parse: (raw, name, done) => adminAddress(raw, name, done),
  },
  registerSets: {
    name: 'SIPLB_REGISTER_SETS', type: 'set=user@host,...', default: '',
    description: 'Registration-based destinations: media servers that REGISTER to an address-of-record listed here (To URI user@host) become destinations of its set while their binding lasts, e.g. 10=media@lb.example.com. Empty = none.',
    parse: registerSets,
  },
  registerAllow: {
    name: 'SIPLB_REGISTER_ALLOW', type: 'CIDR list', default: '',
    description: 'Sources that may REGISTER to those addresses-of-record; any other gets 403. Empty = nobody (there is no digest authentication).',
    parse: cidrList,
  },
  registerMax: {
    name: 'SIPLB_REGISTER_MAX', type: 'integer 1-4096', default: '64',
    description: 'Bindings held at most, all registration sets together; a REGISTER that needs more gets 503.',
    parse: intIn(1, 4096),
  },
  registerMinExpires: {
    name: 'SIPLB_REGISTER_MIN_EXPIRES', type: 's, 1-86400', default: '60',
    description: 'Shortest binding accepted; a shorter expiry is answered 423 Interval Too Brief with Min-Expires (RFC 3261 10.3).',
    parse: intIn(1, 86_400, 's'),
  },
  registerMaxExpires: {
    name: 'SIPLB_REGISTER_MAX_EXPIRES', type: 's, 1-86400', default: '3600',
    description: 'Longest binding kept (longer requests are shortened, and the 200 says so); also the expiry of a REGISTER that names none.',
    parse: (raw, name, done) => {
      const n = intIn(1, 86_400, 's')(raw, name);
      if (done.registerMinExpires !== undefined && n < done.registerMinExpires) throw new SiplbConfigError(name, `${n} is below SIPLB_REGISTER_MIN_EXPIRES (${done.registerMinExpires})`);
      return n;
    },
  },
  noDestCode: {
    name: 'SIPLB_NO_DEST_CODE', type: 'integer 300-699', default: '503',
    description: 'Status sent when the set has no usable destination left.',
    parse: intIn(300, 699),
  },
  noDestReason: {
    name: 'SIPLB_NO_DEST_REASON', type: 'text', default: 'Service Unavailable',
    description: 'Reason phrase of that response.',
    parse: text(1, 128),
  },
  maxMessageSize: {
    name: 'SIPLB_MAX_MESSAGE_SIZE', type: 'bytes, 512-65535', default: '65535',
    description: 'Largest request accepted; a larger one is answered 513 Message Too Large.',
    parse: intIn(512, 65_535, 'bytes'),
  },
  foreignRoute: {
    name: 'SIPLB_FOREIGN_ROUTE', type: 'reject, drop', default: 'reject',
    description: 'A new request (no To tag) whose Route names another host is never followed: reject answers 403, drop discards it silently.',
    parse: oneOf(FOREIGN_ROUTE),
  },
  allow: {
    name: 'SIPLB_ALLOW', type: 'CIDR list', default: '',
    description: 'Sources that may start calls (new out-of-dialog requests), e.g. 192.0.2.0/24,2001:db8::/32; others get 403. Empty = anyone. In-dialog requests are judged by their Record-Route token instead.',
    parse: cidrList,
  },
  trusted: {
    name: 'SIPLB_TRUSTED', type: 'CIDR list', default: '127.0.0.0/8,::1',
    description: 'Sources exempt from flood control (upstream SBCs, trunks, load generators); the destinations of the list are always exempt.',
    parse: cidrList,
  },
  floodLimit: {
    // 200, not 1000: what passes before the block reaches the proxy as a burst, and 1000 new
    // INVITEs at once tripped the overload control on 2 cores (BENCHMARKS.md, "The flood test").
    name: 'SIPLB_FLOOD_LIMIT', type: 'integer 0-10000000', default: '200',
    description: 'Flood control: most datagrams one source may send per SIPLB_FLOOD_WINDOW; past it the source is blocked for SIPLB_FLOOD_BLOCK and its datagrams are dropped unanswered, before parsing. A load generator or upstream SBC above it belongs in SIPLB_TRUSTED. 0 = off.',
    parse: intIn(0, 10_000_000),
  },
  floodWindow: {
    name: 'SIPLB_FLOOD_WINDOW', type: 'ms, 100-60000', default: '1000',
    description: 'Sliding window over which SIPLB_FLOOD_LIMIT counts.',
    parse: intIn(100, 60_000, 'ms'),
  },
  floodBlock: {
    name: 'SIPLB_FLOOD_BLOCK', type: 's, 1-86400', default: '60',
    description: 'How long a flooding source stays blocked; one still over the limit when it ends is blocked again.',
    parse: intIn(1, 86_400, 's'),
  },
  scannerUserAgents: {
    name: 'SIPLB_SCANNER_UA', type: 'comma-separated words', default: 'friendly-scanner,sipvicious,sipcli,vaxsipuseragent,sundayddr,iwar,sip-scan,sivus,pplsip,siparmyknife,smap',
    description: 'Requests whose User-Agent contains one of these (any case) are dropped unanswered: known SIP scanners. Empty = none.',
    parse: substringList,
  },
  maxTransactions: {
    name: 'SIPLB_MAX_TRANSACTIONS', type: 'integer 100-10000000', default: '250000',
    description: 'Per dispatch thread: most transactions held (stateful, finished ones kept 32 s included) or routes cached (stateless); past it new requests get 503 and nothing in flight is dropped.',
    parse: intIn(100, 10_000_000),
  },
  overloadDelay: {
    name: 'SIPLB_OVERLOAD_DELAY', type: 'ms, 0-10000', default: '100',
    description: 'Load shedding: when datagrams wait this long in siplb\'s queues (socket, worker ring), a growing share of new out-of-dialog requests is refused with 503 until they do not; 0 = never.',
    parse: intIn(0, 10_000, 'ms'),
  },
  overloadRetryAfter: {
    name: 'SIPLB_OVERLOAD_RETRY_AFTER', type: 'seconds, 0-3600', default: '0',
    description: 'Retry-After of a 503 refused for overload; 0 = none (an upstream proxy that honours it would take this node out for that long).',
    parse: intIn(0, 3600, 's'),
  },
  warmupCalls: {
    name: 'SIPLB_WARMUP_CALLS', type: 'integer 0-100000', default: '2000',
    description: 'Calls carried through a scratch copy of the proxy at start, before the sockets are served, so the first real calls meet optimized code; 0 = none.',
    parse: intIn(0, 100_000),
  },
  drainTimeout: {
    name: 'SIPLB_DRAIN_TIMEOUT', type: 'ms, 0-600000', default: '5000',
    description: 'On shutdown, how long open transactions get to finish before siplb exits.',
    parse: intIn(0, 600_000, 'ms'),
  },
  rrSecret: {
    name: 'SIPLB_RR_SECRET', type: 'text, 16-1024 chars', default: 'random per start',
    description: 'Key authenticating the Record-Route token. Nodes sharing dialogs must share one value, and a random one does not survive a restart.',
    parse: text(16, 1024),
    unset: () => randomBytes(32).toString('base64url'),
  },
  socketBuffer: {
    name: 'SIPLB_SOCKET_BUFFER', type: 'bytes, 0-268435456', default: '4194304',
    description: 'SO_RCVBUF and SO_SNDBUF of each socket; 0 = OS default. Linux caps it at net.core.rmem_max/wmem_max: raise those.',
    parse: intIn(0, 268_435_456, 'bytes'),
  },
  reusePort: {
    name: 'SIPLB_REUSE_PORT', type: 'boolean', default: 'false',
    description: 'SO_REUSEPORT on the listening sockets (Node.js 22.12 or later): a new siplb binds the same addresses while the old one drains, a restart without a gap. A second siplb of the same user with it on, started by mistake, then shares the port silently instead of failing.',
    parse: reusePortFlag(process.versions.node),
  },
  logLevel: {
    name: 'SIPLB_LOG_LEVEL', type: LOG_LEVELS.join(', '), default: 'info',
    description: 'Log level of the control-plane log.',
    parse: oneOf(LOG_LEVELS),
  },
  serverHeader: {
    name: 'SIPLB_SERVER_HEADER', type: 'text', default: 'siplb',
    description: 'Server header of responses siplb makes and User-Agent of its requests; empty = no header.',
    parse: text(0, 256),
  },
  eventWebhook: {
    name: 'SIPLB_EVENT_WEBHOOK', type: 'http(s) URL or empty', default: '',
    description: 'POST each destination event (dst-down, dst-up) to this URL as JSON, one at a time in order, retried with back-off (README, Destination events); empty = none.',
    parse: webhookUrl,
  },
  eventCommand: {
    name: 'SIPLB_EVENT_COMMAND', type: 'shell command or empty', default: '',
    description: 'Run this with /bin/sh -c for each destination event, the event in SIPLB_EVENT_* environment variables (README, Destination events); at most 4 at once, killed after 10 s; empty = none.',
    parse: text(0, 4096),
  },
  eventQueue: {
    name: 'SIPLB_EVENT_QUEUE', type: 'integer 1-100000', default: '1000',
    description: 'Most events waiting for the webhook (and, apart, for the command); when full the oldest is dropped and counted.',
    parse: intIn(1, 100_000),
  },
  eventRetries: {
    name: 'SIPLB_EVENT_RETRIES', type: 'integer 0-100', default: '8',
    description: 'Webhook attempts after the first (back-off 0.5 s doubling to 30 s) before an event is given up; an event 10 minutes old is given up anyway.',
    parse: intIn(0, 100),
  },
};

/** Every variable as documented, in SCHEMA order: drives `siplb --help` and the README table. */
export interface ConfigVar {
  readonly name: string;
  readonly type: string;
  readonly default: string;
  readonly description: string;
  /** The default is worked out at start (from other values, the file system or randomness). */
  readonly computed: boolean;
}

export const CONFIG_VARS: readonly ConfigVar[] = Object.freeze(
  Object.values<VarSpec<unknown>>(SCHEMA).map(({ name, type, default: def, description, unset }) =>
    Object.freeze({ name, type, default: def, description, computed: unset !== undefined }),
  ),
);
