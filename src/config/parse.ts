// Value parsers for SIPLB_* variables. Each takes the raw text and the variable's name, returns the
// typed value or throws SiplbConfigError saying what the variable accepts and what it got. Pure:
// no environment, no file system (load.ts does both, once).
import { isIPv4, isIPv6 } from 'node:net';
import { SiplbConfigError } from '../errors.js';
import { parseCidrList, type CidrList } from '../shared/cidr.js';

/** A parser for one variable's text. */
export type Parse<T> = (raw: string, name: string) => T;

/** Throws the one error shape every variable uses: `NAME: expected ACCEPTS, got "RAW"`. */
export function fail(name: string, accepts: string, raw: string): never {
  throw new SiplbConfigError(name, `expected ${accepts}, got ${JSON.stringify(raw)}`);
}

const DECIMAL = /^[0-9]+$/;
const HEX = /^0x[0-9a-f]+$/i;

/** A decimal integer from min to max inclusive; `unit` (e.g. "ms") only shapes the message. */
export function intIn(min: number, max: number, unit = ''): Parse<number> {
  const accepts = `an integer from ${min} to ${max}${unit === '' ? '' : ` (${unit})`}`;
  return (raw, name) => {
    const n = DECIMAL.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) fail(name, accepts, raw);
    return n;
  };
}

/** One of a fixed list of integers, e.g. the algorithm numbers. */
export function intOneOf<T extends number>(allowed: readonly T[]): Parse<T> {
  return (raw, name) => {
    const found = DECIMAL.test(raw) ? allowed.find((v) => v === Number(raw)) : undefined;
    if (found === undefined) fail(name, `one of ${allowed.join(',')}`, raw);
    return found;
  };
}

/** A bitmask, decimal or `0x` hex, using only the given bits. */
export function bitmask(known: number, accepts: string): Parse<number> {
  return (raw, name) => {
    const n = DECIMAL.test(raw) || HEX.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(n) || (n & ~known) !== 0 || n > known) fail(name, accepts, raw);
    return n;
  };
}

/** One of a fixed list of words, compared case-insensitively, returned as listed. */
export function oneOf<T extends string>(allowed: readonly T[]): Parse<T> {
  return (raw, name) => {
    const lower = raw.toLowerCase();
    const found = allowed.find((v) => v === lower);
    if (found === undefined) fail(name, `one of ${allowed.map((v) => (v === '' ? '"" (empty)' : v)).join(', ')}`, raw);
    return found;
  };
}

const TRUE = new Set(['1', 'true', 'yes']);
const FALSE = new Set(['0', 'false', 'no']);

/** 0/1, true/false, yes/no, any case. */
export const bool: Parse<boolean> = (raw, name) => {
  const lower = raw.toLowerCase();
  if (TRUE.has(lower)) return true;
  if (FALSE.has(lower)) return false;
  return fail(name, 'a boolean (1, 0, true, false, yes, no)', raw);
};

/** The first Node.js releases whose dgram sockets take `reusePort` (SO_REUSEPORT): 22.12 and 23.1. */
export function nodeHasReusePort(version: string): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

/**
 * SIPLB_REUSE_PORT: a boolean that can only be true on a Node.js with `reusePort`. Older Node
 * ignores the option silently (the second bind then fails with EADDRINUSE, as without it): say so
 * at start instead, with the version needed. `nodeVersion` is process.versions.node, passed in.
 */
export function reusePortFlag(nodeVersion: string): Parse<boolean> {
  return (raw, name) => {
    const on = bool(raw, name);
    if (on && !nodeHasReusePort(nodeVersion)) {
      throw new SiplbConfigError(name, `needs Node.js 22.12 or later (or 23.1 or later) for SO_REUSEPORT on UDP sockets; this is Node.js ${nodeVersion}`);
    }
    return on;
  };
}

// Control characters would end up inside SIP header lines (Server, reason phrase): refuse them.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Free text without control characters, minLen..maxLen characters. */
export function text(minLen: number, maxLen: number): Parse<string> {
  const size = minLen === 0 ? `at most ${maxLen}` : `${minLen} to ${maxLen}`;
  return (raw, name) => {
    if (CONTROL.test(raw) || raw.length < minLen || raw.length > maxLen) {
      fail(name, `${size} characters without control characters`, raw);
    }
    return raw;
  };
}

/**
 * SIPLB_EVENT_WEBHOOK: an http:// or https:// URL with a host, returned as URL.href (a string:
 * the config crosses postMessage, and a URL object does not clone); empty = off. Whitespace and
 * control characters are refused rather than left to the URL parser, which drops tabs and line
 * breaks silently.
 */
export const webhookUrl: Parse<string> = (raw, name) => {
  if (raw === '') return '';
  let url: URL | undefined;
  try {
    url = /\s/.test(raw) || CONTROL.test(raw) ? undefined : new URL(raw);
  } catch {
    // refused below, with the one message every variable uses
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    fail(name, 'an http:// or https:// URL, e.g. http://127.0.0.1:8080/siplb-events, or empty (off)', raw);
  }
  return url.href;
};

/** A bind address of SIPLB_LISTEN. `host` is written as in a Via (IPv6 bracketed), `address` as for bind(). */
export interface ListenAddress {
  readonly transport: 'udp';
  /** Kamailio's socket name (`listen=... name "lan"`), for the sockname attr; undefined = none. */
  readonly name?: string;
  readonly host: string;
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
}

const LISTEN_ACCEPTS = 'a comma-separated list of [udp:]host:port[ name NAME], host an IPv4 address or a bracketed IPv6 one';
const HOST_PORT = /^(\[[^\]]*\]|[^:[\]]+):([0-9]{1,5})$/;

function port(text: string): number | undefined {
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** Lower-cases an IPv6 address but not its zone (`%eth0`: interface names are case-sensitive). */
function ipv6Lower(address: string): string {
  const zone = address.indexOf('%');
  return zone < 0 ? address.toLowerCase() : address.slice(0, zone).toLowerCase() + address.slice(zone);
}

function listenOne(item: string, name: string, raw: string): ListenAddress {
  const named = /^(\S+)\s+name\s+"?([A-Za-z0-9_.-]{1,64})"?$/.exec(item);
  if (named) return { ...listenOne(named[1]!, name, raw), name: named[2]! };
  const rest = item.replace(/^udp:/i, '');
  if (/^(?:tcp|tls|sctp|wss?):/i.test(rest)) {
    throw new SiplbConfigError(name, `only UDP is supported, got ${JSON.stringify(item)}`);
  }
  const m = HOST_PORT.exec(rest);
  const host = m?.[1];
  const p = m?.[2] === undefined ? undefined : port(m[2]);
  if (host === undefined || p === undefined) return fail(name, LISTEN_ACCEPTS, raw);
  if (host.startsWith('[')) {
    const address = host.slice(1, -1);
    if (!isIPv6(address)) fail(name, LISTEN_ACCEPTS, raw);
    const normal = ipv6Lower(address);
    return { transport: 'udp', host: `[${normal}]`, address: normal, port: p, family: 6 };
  }
  if (!isIPv4(host)) fail(name, LISTEN_ACCEPTS, raw);
  return { transport: 'udp', host, address: host, port: p, family: 4 };
}

/** SIPLB_LISTEN: at least one address, none twice. */
export const listenList: Parse<readonly ListenAddress[]> = (raw, name) => {
  const items = raw.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) fail(name, LISTEN_ACCEPTS, raw);
  const list = items.map((item) => listenOne(item, name, raw));
  const seen = new Set<string>();
  for (const a of list) {
    const key = `${a.address}|${a.port}`;
    if (seen.has(key)) throw new SiplbConfigError(name, `${a.host}:${a.port} is listed twice`);
    seen.add(key);
  }
  const names = list.flatMap((a) => (a.name === undefined ? [] : [a.name]));
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new SiplbConfigError(name, `the socket name ${twice} is given twice`);
  return list;
};

/** Whether a listen address binds every interface, so it cannot be written into a Via. */
export const isWildcard = (a: ListenAddress): boolean => a.address === '0.0.0.0' || /^[0:]+$/.test(a.address);

/** Host and port siplb writes into its Via and Record-Route. */
export interface AdvertiseAddress {
  readonly host: string;
  readonly port: number;
}

const ADVERTISE_ACCEPTS = 'host[:port], host a DNS name, an IPv4 address or a bracketed IPv6 one, port 1 to 65535';
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/** SIPLB_ADVERTISE: `host[:port]`; the port falls back to `defaultPort`. */
export function advertise(raw: string, name: string, defaultPort: number): AdvertiseAddress {
  const m = /^(\[[^\]]*\]|[^:[\]]+)(?::([0-9]{1,5}))?$/.exec(raw);
  const host = m?.[1];
  const p = m?.[2] === undefined ? defaultPort : port(m[2]);
  if (host === undefined || p === undefined) return fail(name, ADVERTISE_ACCEPTS, raw);
  const ok = host.startsWith('[') ? isIPv6(host.slice(1, -1)) : isIPv4(host) || (DNS_NAME.test(host) && !/^[0-9.]+$/.test(host));
  if (!ok) fail(name, ADVERTISE_ACCEPTS, raw);
  return { host: host.toLowerCase(), port: p };
}

/** Which final responses move a call to the next destination: exact codes and whole classes (5 = 5xx). */
export interface FailoverCodes {
  readonly codes: ReadonlySet<number>;
  readonly classes: ReadonlySet<number>;
}

/** A Set whose mutators throw, so Object.freeze really freezes it. */
export function frozenSet<T>(values: Iterable<T>): ReadonlySet<T> {
  const set = new Set(values);
  for (const method of ['add', 'delete', 'clear']) {
    Object.defineProperty(set, method, {
      value: () => {
        throw new TypeError(`Cannot ${method}: the set is frozen`);
      },
    });
  }
  return Object.freeze(set);
}

/** SIPLB_FAILOVER_CODES: `5xx,408`; empty means only a timeout fails over. */
export const failoverCodes: Parse<FailoverCodes> = (raw, name) => {
  const codes: number[] = [];
  const classes: number[] = [];
  const accepts = 'a comma-separated list of codes 300-599 or classes 3xx-5xx, e.g. 5xx,408';
  for (const item of raw.split(',').map((s) => s.trim().toLowerCase())) {
    if (item === '' && raw.trim() === '') continue;
    const cls = /^([3-6])xx$/.exec(item)?.[1];
    // RFC 3261 16.7 step 6: after a 6xx the proxy starts no new branch
    if (item.startsWith('6')) throw new SiplbConfigError(name, `6xx cannot fail over (RFC 3261 16.7: a 6xx ends the search): remove ${JSON.stringify(item)}`);
    if (cls !== undefined) classes.push(Number(cls));
    else if (/^[3-6][0-9][0-9]$/.test(item)) codes.push(Number(item));
    else fail(name, accepts, raw);
  }
  return { codes: frozenSet(codes), classes: frozenSet(classes) };
};

/** Whether a final response status triggers failover under `fc`. */
export function isFailoverStatus(fc: FailoverCodes, status: number): boolean {
  return fc.codes.has(status) || fc.classes.has(Math.floor(status / 100));
}

// `$name` or `$name(arg)` (Kamailio pseudo-variables such as $ci, $fU, $hdr(X-Tenant)), with
// literal text between them. The dispatcher compiles it and knows which names exist.
const PVAR = /\$[a-z][a-z0-9_]*(?:\([^()\s$]+\))?/gi;

/** SIPLB_HASH_TEMPLATE: at least one `$name` token, every `$` starting one. */
export const hashTemplate: Parse<string> = (raw, name) => {
  const literal = raw.replace(PVAR, '');
  if (literal.length === raw.length || literal.includes('$') || /\s/.test(raw)) {
    fail(name, 'a template of $name tokens and literal text without spaces, e.g. $ci or $fU@$ci', raw);
  }
  return raw;
};

/** SIPLB_TRUSTED, SIPLB_ALLOW: a comma-separated list of addresses and CIDR blocks; empty = none. */
export const cidrList: Parse<CidrList> = (raw, name) => {
  const list = parseCidrList(raw);
  if ('error' in list) {
    throw new SiplbConfigError(name, `expected a comma-separated list of IPv4/IPv6 addresses or CIDR blocks (10.0.0.0/8, 2001:db8::/32), got ${JSON.stringify(raw)}: ${list.error}`);
  }
  return list;
};

/** SIPLB_SCANNER_UA: comma-separated substrings, matched case-insensitively; empty = none. */
export const substringList: Parse<readonly string[]> = (raw, name) => {
  const items = raw.split(',').map((s) => s.trim().toLowerCase());
  if (raw.trim() === '') return [];
  if (items.some((s) => s === '' || CONTROL.test(s))) fail(name, 'a comma-separated list of non-empty words', raw);
  return items;
};

/** SIPLB_DS_PING_REPLY_CODES (Kamailio ds_ping_reply_codes): `class=2;code=480;code=404`. */
export interface ReplyCodes {
  readonly classes: ReadonlySet<number>;
  readonly codes: ReadonlySet<number>;
}

const REPLY_CODES_ACCEPTS = 'class=N and code=NNN items separated by ";" (N 1-6, NNN 100-699), e.g. class=2;code=480';
export const replyCodes: Parse<ReplyCodes> = (raw, name) => {
  const classes: number[] = [];
  const codes: number[] = [];
  for (const item of raw.split(';').map((s) => s.trim())) {
    if (item === '') continue;
    const m = /^(class|code)\s*=\s*([0-9]+)$/i.exec(item);
    const n = Number(m?.[2]);
    if (m?.[1]?.toLowerCase() === 'class' && n >= 1 && n <= 6) classes.push(n);
    else if (m?.[1]?.toLowerCase() === 'code' && n >= 100 && n <= 699) codes.push(n);
    else fail(name, REPLY_CODES_ACCEPTS, raw);
  }
  return Object.freeze({ classes: frozenSet(classes), codes: frozenSet(codes) });
};

/** A keepalive reply accepted as alive: any 2xx (always, as Kamailio), or a configured code or class. */
export function isAcceptedReply(rc: ReplyCodes, status: number): boolean {
  return (status >= 200 && status < 300) || rc.codes.has(status) || rc.classes.has(Math.floor(status / 100));
}

/** A SIP method token (RFC 3261 §25.1 token), upper-case by convention. */
export const methodToken: Parse<string> = (raw, name) => {
  if (!/^[A-Za-z0-9.!%*_+`'~-]{1,32}$/.test(raw)) fail(name, 'a SIP method name such as OPTIONS or INFO', raw);
  return raw;
};

/** A sip: or sips: URI without spaces or angle brackets, as written in a From header. */
export const sipUri: Parse<string> = (raw, name) => {
  if (!/^sips?:[^\s<>"]+$/i.test(raw) || raw.length > 256) fail(name, 'a sip: URI such as sip:dispatcher@localhost', raw);
  return raw;
};

/** SIPLB_ADMIN: a host:port for the control channel, or empty for none. */
export interface AdminAddress {
  readonly host: string;
  readonly port: number;
}

const isLoopback = (host: string): boolean => (host.startsWith('127.') && isIPv4(host)) || host === '::1' || host === 'localhost';

/**
 * SIPLB_ADMIN. Loopback only unless SIPLB_ADMIN_TOKEN (parsed before it, `done.adminToken`) is
 * set: the channel changes destination states, so anyone who can reach it without a token must
 * already be on this host.
 */
export const adminAddress = (raw: string, name: string, done: { readonly adminToken?: string | undefined } = {}): AdminAddress | undefined => {
  if (raw === '') return undefined;
  const m = HOST_PORT.exec(raw);
  const p = m?.[2] === undefined ? undefined : port(m[2]);
  const host = m?.[1]?.replace(/^\[(.*)\]$/, '$1');
  if (host === undefined || p === undefined) fail(name, 'host:port, or empty for none', raw);
  if (!isLoopback(host) && done.adminToken === undefined) {
    throw new SiplbConfigError(name, `${JSON.stringify(raw)} is not a loopback address (127.0.0.0/8, ::1); set SIPLB_ADMIN_TOKEN to listen there`);
  }
  return Object.freeze({ host, port: p });
};

/**
 * SIPLB_ADMIN_TOKEN: the bearer token every admin request must carry, or empty for none. At least
 * 16 visible ASCII characters (RFC 6750 b64token is narrower; anything a header can carry is
 * taken). The message never repeats the value: it is a secret.
 */
export const adminToken: Parse<string | undefined> = (raw, name) => {
  if (raw === '') return undefined;
  if (!/^[\x21-\x7e]+$/.test(raw)) throw new SiplbConfigError(name, 'expected visible ASCII characters without spaces (the value is not shown)');
  if (raw.length < 16 || raw.length > 1024) throw new SiplbConfigError(name, `expected 16 to 1024 characters, got ${raw.length} (the value is not shown)`);
  return raw;
};

const REGISTER_SETS_ACCEPTS = 'comma-separated set=user@host pairs, e.g. 10=media@lb.example.com';
/** SIPLB_REGISTER_SETS: `10=media@lb.example.com,11=conf@lb.example.com`, keys lower-cased. */
export const registerSets: Parse<ReadonlyMap<string, number>> = (raw, name) => {
  const out = new Map<string, number>();
  for (const item of raw.split(',').map((s) => s.trim())) {
    if (item === '') continue;
    const m = /^([0-9]{1,9})\s*=\s*(?:sip:)?([^@\s;,<>]+@[^@\s;,<>:]+)$/i.exec(item);
    if (!m) fail(name, REGISTER_SETS_ACCEPTS, raw);
    const aor = m[2]!.toLowerCase();
    if (out.has(aor)) throw new SiplbConfigError(name, `${aor} is listed twice`);
    out.set(aor, Number(m[1]));
  }
  return out;
};
