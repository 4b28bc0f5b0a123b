// The destination column of a dispatcher list: a SIP URI naming where to send. Kamailio parses it
// with parse_uri and retries with "sip:" in front when that fails (pack_dest in dispatch.c), so
// "10.0.0.1:5060" and "media1.example.com" are valid destinations; we do the same.
import { isIPv4, isIPv6 } from 'node:net';

export type DestinationTransport = 'udp' | 'tcp' | 'tls' | 'sctp' | 'ws' | 'wss';
const TRANSPORTS: ReadonlySet<string> = new Set<DestinationTransport>(['udp', 'tcp', 'tls', 'sctp', 'ws', 'wss']);

export interface DestinationUri {
  /** The URI as written, with "sip:" put in front when it had no scheme. */
  readonly uri: string;
  readonly scheme: 'sip' | 'sips';
  /** User part, rarely present in a destination. */
  readonly user: string | undefined;
  /** Host as written; an IPv6 reference keeps its brackets ("[2001:db8::1]"). */
  readonly host: string;
  /** Host without brackets: what a socket is given. */
  readonly address: string;
  /** Port, or the scheme's default (5060 sip, 5061 sips) when the URI has none. */
  readonly port: number;
  /** `transport=` parameter, lower case; udp for sip, tls for sips (RFC 3261 §26.2: no downgrade). */
  readonly transport: DestinationTransport;
}

export type UriResult = { ok: true; value: DestinationUri } | { ok: false; reason: string };

const fail = (reason: string): UriResult => ({ ok: false, reason });

// Labels of letters, digits, '-' and '_' (container and SRV-style names use '_'), dot separated;
// DS_HN_SIZE - 2 = 254 is Kamailio's limit on the host length.
const HOSTNAME = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*\.?$/i;
const MAX_HOST = 254;

function parseHostPort(hostport: string): { host: string; address: string; port: string | undefined } | string {
  let host: string;
  let rest: string;
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    if (close < 0) return 'unterminated IPv6 reference (missing "]")';
    host = hostport.slice(0, close + 1);
    rest = hostport.slice(close + 1);
    if (!isIPv6(host.slice(1, -1))) return `"${host}" is not an IPv6 address`;
    if (rest !== '' && !rest.startsWith(':')) return `unexpected "${rest}" after the IPv6 reference`;
  } else {
    const colon = hostport.indexOf(':');
    if (colon >= 0 && hostport.indexOf(':', colon + 1) >= 0) return 'an IPv6 address must be written in brackets, e.g. [2001:db8::1]:5060';
    host = colon < 0 ? hostport : hostport.slice(0, colon);
    rest = colon < 0 ? '' : hostport.slice(colon);
    if (host === '') return 'no host';
    if (host.length > MAX_HOST) return `host longer than ${MAX_HOST} characters`;
    if (/^[0-9.]+$/.test(host) ? !isIPv4(host) : !HOSTNAME.test(host)) return `"${host}" is not a valid host name or IPv4 address`;
  }
  const address = host.startsWith('[') ? host.slice(1, -1) : host;
  return { host, address, port: rest === '' ? undefined : rest.slice(1) };
}

/** Whether a destination URI (as parsed: "sip:" or "sips:" in front) names a port: RFC 3263 looks up SRV only when it does not. */
export function uriHasPort(uri: string): boolean {
  let rest = uri.slice(uri.indexOf(':') + 1);
  rest = rest.slice(rest.indexOf('@') + 1);
  const end = rest.search(/[;?]/);
  const hostport = end < 0 ? rest : rest.slice(0, end);
  return hostport.startsWith('[') ? hostport.includes(']:') : hostport.includes(':');
}

/** Parses one destination URI; the reason of a failure reads after "bad destination URI: ". */
export function parseDestinationUri(text: string): UriResult {
  let uri = text;
  const scheme = /^(sips?):/i.exec(text);
  if (!scheme) {
    // "host:5060" has no scheme, "tel:+1555" has a foreign one: a digit after the colon tells them apart.
    const foreign = /^([a-z][a-z0-9+.-]*):(?![0-9])/i.exec(text);
    if (foreign && !text.startsWith('[')) return fail(`unsupported scheme "${foreign[1]}:" (only sip: and sips:)`);
    uri = `sip:${text}`;
  }
  const schemeName = scheme ? (scheme[1]!.toLowerCase() as 'sip' | 'sips') : 'sip';
  let rest = uri.slice(uri.indexOf(':') + 1);

  let user: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    user = userinfo.split(':')[0];
    if (user === '') return fail('empty user part before "@"');
    rest = rest.slice(at + 1);
  }
  const end = rest.search(/[;?]/);
  const hostport = end < 0 ? rest : rest.slice(0, end);
  const paramText = end < 0 || rest[end] === '?' ? '' : rest.slice(end + 1).split('?')[0]!;

  const hp = parseHostPort(hostport);
  if (typeof hp === 'string') return fail(hp);
  let port = schemeName === 'sips' ? 5061 : 5060;
  if (hp.port !== undefined) {
    if (!/^[0-9]{1,5}$/.test(hp.port) || Number(hp.port) < 1 || Number(hp.port) > 65535) {
      return fail(`port "${hp.port}" is not a number from 1 to 65535`);
    }
    port = Number(hp.port);
  }

  let transport: DestinationTransport = schemeName === 'sips' ? 'tls' : 'udp';
  for (const param of paramText.split(';')) {
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).toLowerCase() !== 'transport') continue;
    const value = param.slice(eq + 1).toLowerCase();
    if (!TRANSPORTS.has(value)) return fail(`unsupported transport "${value}" (udp, tcp, tls, sctp, ws, wss)`);
    transport = value as DestinationTransport;
  }
  if (schemeName === 'sips' && (transport === 'udp' || transport === 'tcp' || transport === 'ws')) {
    return fail(`a sips: destination cannot use transport=${transport} (RFC 3261 §26.2)`);
  }
  return { ok: true, value: { uri, scheme: schemeName, user, host: hp.host, address: hp.address, port, transport } };
}
