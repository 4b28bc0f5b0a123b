// Route pre-processing (RFC 3261 16.4) as the proxy core needs it: does the request come back
// through our own Record-Route (loose: our URI as the top Route; strict: our URI as the
// Request-URI and the remote target as the last Route), with which token, and where does loose
// routing say it goes next. Reads the parser's spans; writes nothing.
import type { SipMessage } from '../parser/index.js';

/** A host and port as a URI gives them (port 0: none given). */
export interface HostPort {
  host: string;
  port: number;
}

export type RouteInfo =
  /** No Route, and the Request-URI is not one of our Record-Route URIs. */
  | { readonly kind: 'none' }
  /** The top Route names another host. */
  | { readonly kind: 'foreign' }
  /** The top Route names us: it is removed; `rest` Route values follow it. */
  | { readonly kind: 'ours'; readonly token: string | undefined; readonly rest: number }
  /**
   * A strict router sent us our Record-Route URI as the Request-URI: the last Route becomes the
   * Request-URI and is removed (RFC 3261 16.4); `rest` Route values remain.
   */
  | { readonly kind: 'strict'; readonly token: string | undefined; readonly requestUri: string; readonly rest: number };

export type IsOurs = (hp: HostPort) => boolean;

/** What the Route set and Request-URI of `m` say about us (RFC 3261 16.4). */
export function analyseRoutes(m: SipMessage, isOurs: IsOurs): RouteInfo {
  const count = m.routeCount;
  const ruri = m.requestUri;
  // the token first: a Request-URI without one (nearly all) costs no host comparison
  const token = count > 0 ? param(ruri?.params, 'slb') : undefined;
  if (token !== undefined && ruri?.host !== undefined && isOurs({ host: ruri.host, port: ruri.port })) {
    const spans = m.routeSpans();
    const last = m.uriAt(spans[spans.length - 2]!, spans[spans.length - 1]!);
    if (last === undefined) return { kind: 'foreign' };
    return { kind: 'strict', token, requestUri: last.raw, rest: count - 1 };
  }
  const top = m.route;
  if (top === undefined) return { kind: 'none' };
  if (top.host === undefined || !isOurs({ host: top.host, port: top.port })) return { kind: 'foreign' };
  return { kind: 'ours', token: param(top.params, 'slb'), rest: count - 1 };
}

/**
 * Where loose routing sends the request once our Route is processed: the first Route that
 * remains, else the Request-URI (RFC 3261 16.12). Undefined when that URI cannot be read.
 */
export function nextHop(m: SipMessage, info: RouteInfo): HostPort | undefined {
  if (info.kind === 'ours' || info.kind === 'strict') {
    // the first Route that stays: after ours (loose), or the top one (strict: only the last goes)
    const index = info.kind === 'ours' ? 1 : 0;
    if (info.rest > 0) {
      const spans = m.routeSpans();
      const uri = m.uriAt(spans[index * 2]!, spans[index * 2 + 1]!);
      return uri?.host === undefined ? undefined : { host: uri.host, port: uri.port };
    }
    if (info.kind === 'strict') {
      const spans = m.routeSpans();
      const uri = m.uriAt(spans[spans.length - 2]!, spans[spans.length - 1]!);
      return uri?.host === undefined ? undefined : { host: uri.host, port: uri.port };
    }
  }
  const ruri = m.requestUri;
  return ruri?.host === undefined ? undefined : { host: ruri.host, port: ruri.port };
}

/**
 * Value of parameter `name` (lower case) in a ";a=b;c" parameter string ('' when it has no value),
 * found by scanning: no split, no array per lookup.
 */
export function param(params: string | undefined, name: string): string | undefined {
  if (!params) return undefined;
  const n = params.length;
  let i = 0;
  while (i < n) {
    while (i < n && (params.charCodeAt(i) === 0x3b || params.charCodeAt(i) === 0x20 || params.charCodeAt(i) === 0x09)) i++;
    let end = params.indexOf(';', i);
    if (end < 0) end = n;
    const eq = params.indexOf('=', i);
    const keyEnd = eq >= 0 && eq < end ? eq : end;
    let k = keyEnd;
    while (k > i && (params.charCodeAt(k - 1) === 0x20 || params.charCodeAt(k - 1) === 0x09)) k--;
    if (k - i === name.length && params.slice(i, k).toLowerCase() === name) return keyEnd === end ? '' : params.slice(keyEnd + 1, end).trim();
    i = end + 1;
  }
  return undefined;
}
