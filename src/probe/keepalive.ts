// The keepalive request (Kamailio: tm's t_request from ds_ping_set): method, Request-URI and To are
// the destination's URI, From is ds_ping_from or the ping_from attr, one Via of the socket it
// leaves from with rport (RFC 3581), so the reply comes back to that socket whatever NAT is on
// the way. The destination or its obproxy attr is the next hop; there is no Route header.
import type { ListenAddress } from '../config/types.js';
import type { Destination } from '../dispatch/sets.js';
import { recordSockets } from '../dispatch/sockets.js';

/** Where and how one destination is pinged; index = its slot in the shared destination table. */
export interface ProbeTarget {
  readonly index: number;
  readonly setId: number;
  readonly uri: string;
  /** Next hop: the destination, or its obproxy. */
  readonly address: string;
  readonly port: number;
  /** Listening socket it leaves from. */
  readonly socket: number;
  /** host:port written in the Via: the socket's advertised address. */
  readonly via: string;
  readonly from: string;
  /** The latency attr: a trained initial estimate, ms. */
  readonly initialLatency: number | undefined;
}

export interface KeepaliveFields {
  readonly method: string;
  readonly branch: string;
  readonly callId: string;
  readonly fromTag: string;
  /** User-Agent value; '' = none. */
  readonly userAgent: string;
}

export function buildKeepalive(t: ProbeTarget, f: KeepaliveFields): Buffer {
  const lines = [
    `${f.method} ${t.uri} SIP/2.0`,
    `Via: SIP/2.0/UDP ${t.via};branch=${f.branch};rport`,
    'Max-Forwards: 70',
    `From: <${t.from}>;tag=${f.fromTag}`,
    `To: <${t.uri}>`,
    `Call-ID: ${f.callId}`,
    `CSeq: 10 ${f.method}`,
    ...(f.userAgent === '' ? [] : [`User-Agent: ${f.userAgent}`]),
    'Content-Length: 0',
    '',
    '',
  ];
  return Buffer.from(lines.join('\r\n'), 'latin1');
}

/** A resolved next hop for an obproxy attr: `sip:host[:port]`, host an IP literal here. */
export type ResolveHop = (uri: string) => { address: string; port: number } | undefined;

/**
 * The probe targets of a flat destination list (the shared table's order). `sockets` holds each
 * listening socket's Via host:port. A destination whose obproxy cannot be resolved is pinged
 * directly, and the caller is told so through `warn`.
 */
export function probeTargets(
  dests: readonly Destination[],
  listen: readonly ListenAddress[],
  sockets: readonly string[],
  defaultFrom: string,
  resolveHop: ResolveHop,
  warn: (msg: string) => void,
): ProbeTarget[] {
  return dests.map((d) => {
    let address = d.address;
    let port = d.port;
    if (d.attrs.obproxy !== undefined) {
      const hop = resolveHop(d.attrs.obproxy);
      if (hop) ({ address, port } = hop);
      else warn(`set ${d.setId} ${d.uri}: obproxy=${d.attrs.obproxy} is not a sip: URI with an IP address; keepalives go to the destination itself`);
    }
    const s = recordSockets(d, listen);
    const family = address.includes(':') ? 6 : 4;
    const pinned = typeof s === 'string' ? -1 : s.pingSocket;
    const socket = pinned >= 0 ? pinned : Math.max(0, listen.findIndex((l) => l.family === family));
    return {
      index: d.slot,
      setId: d.setId,
      uri: d.uri,
      address,
      port,
      socket,
      via: sockets[socket] ?? sockets[0]!,
      from: d.attrs.pingFrom ?? defaultFrom,
      initialLatency: d.attrs.latency,
    };
  });
}
