// Reason phrases of the responses a proxy sends itself (RFC 3261 21; the phrase is for people,
// RFC 3261 7.2, but peers and logs are easier to read with the standard one), and the test of
// Route pre-processing (RFC 3261 16.4): does a Route URI name this proxy?

const REASONS: ReadonlyMap<number, string> = new Map([
  [100, 'Trying'],
  [200, 'OK'],
  [400, 'Bad Request'],
  [403, 'Forbidden'],
  [404, 'Not Found'],
  [408, 'Request Timeout'],
  [416, 'Unsupported URI Scheme'],
  [420, 'Bad Extension'],
  [480, 'Temporarily Unavailable'],
  [481, 'Call/Transaction Does Not Exist'],
  [482, 'Loop Detected'],
  [483, 'Too Many Hops'],
  [487, 'Request Terminated'],
  [500, 'Server Internal Error'],
  [501, 'Not Implemented'],
  [502, 'Bad Gateway'],
  [503, 'Service Unavailable'],
  [504, 'Server Time-out'],
  [505, 'Version Not Supported'],
  [513, 'Message Too Large'],
]);

/** Default phrase of each class, for a code without one of its own (RFC 3261 8.1.3.2: x00 semantics). */
const CLASS_REASONS = ['', 'Trying', 'OK', 'Redirect', 'Client Error', 'Server Error', 'Global Failure'];

/** The RFC 3261 reason phrase for `status`, or its class's generic phrase. */
export function reasonPhrase(status: number): string {
  return REASONS.get(status) ?? CLASS_REASONS[Math.floor(status / 100)] ?? 'Unknown';
}

export interface HostPort {
  /** Host as written; an IPv6 reference with or without brackets. */
  host: string;
  /** Port, or 0 when absent (then 5060, RFC 3261 19.1.2). */
  port: number;
}

const DEFAULT_PORT = 5060;

/**
 * Host in a comparable form: lower case (RFC 3261 19.1.4: hosts compare case-insensitively),
 * IPv6 without brackets and in its canonical text (RFC 5952), so '[::1]', '::1' and
 * '[0:0:0:0:0:0:0:1]' are one host.
 */
export function canonicalHost(host: string): string {
  const h = host.toLowerCase();
  if (!h.includes(':')) return h;
  const bare = h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
  try {
    // WHATWG URL parsing compresses an IPv6 literal to the RFC 5952 form
    return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  } catch {
    return bare;
  }
}

function key(hp: HostPort): string {
  return `${canonicalHost(hp.host)}|${hp.port || DEFAULT_PORT}`;
}

/**
 * A matcher over our advertised addresses, built once (at start or on reload) so the per-request
 * test is one Set lookup; IPv6 Route hosts pay for canonicalisation, IPv4 and names do not.
 */
export function routeMatcher(ours: readonly HostPort[]): (uri: HostPort) => boolean {
  const keys = new Set(ours.map(key));
  // a host written as we write it (lower-case IPv4, our advertised name) needs no canonical form:
  // one concatenation and one lookup, on every response and every routed request
  return (uri) => keys.has(`${uri.host}|${uri.port || DEFAULT_PORT}`) || keys.has(key(uri));
}

/** True when `uri` (a Route URI's host and port) names one of `ours` (RFC 3261 16.4). */
export function routeIsOurs(uri: HostPort, ours: readonly HostPort[]): boolean {
  const k = key(uri);
  return ours.some((o) => key(o) === k);
}
