// The socket attrs of a destination (Kamailio ds_set_attrs): `socket=udp:10.0.0.1:5060` or
// `sockname=lan` choose the listening socket its calls and keepalives leave from; `ping_socket`
// only its keepalives. Resolved once at load against SIPLB_LISTEN; a socket that is not ours is a
// list error, since sending from it is impossible (Kamailio refuses such a record too).
import type { ListenAddress } from '../config/types.js';
import type { DestinationRecord } from './list-file.js';

/** Index in `listen` of a `[udp:]host:port` socket spec, or -1. */
export function socketIndex(spec: string, listen: readonly ListenAddress[]): number {
  const m = /^(?:udp:)?(\[[^\]]+\]|[^:[\]]+):([0-9]{1,5})$/i.exec(spec.trim());
  if (!m) return -1;
  const host = m[1]!.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const port = Number(m[2]);
  return listen.findIndex((l) => l.address.toLowerCase() === host && l.port === port);
}

export interface RecordSockets {
  /** Socket of calls and keepalives; -1 = chosen per message (the arrival socket, by family). */
  readonly socket: number;
  /** Socket of keepalives (ping_socket, else `socket`); -1 = the first of the destination's family. */
  readonly pingSocket: number;
}

/** The record's sockets, or a reason naming the attr that names no socket of ours. */
export function recordSockets(r: DestinationRecord, listen: readonly ListenAddress[]): RecordSockets | string {
  const a = r.attrs;
  let socket = -1;
  if (a.sockname !== undefined) {
    socket = listen.findIndex((l) => l.name === a.sockname);
    if (socket < 0) return `sockname=${a.sockname} names no socket of SIPLB_LISTEN (give one a name: udp:host:port name ${a.sockname})`;
  } else if (a.socket !== undefined) {
    socket = socketIndex(a.socket, listen);
    if (socket < 0) return `socket=${a.socket} is not one of SIPLB_LISTEN's sockets`;
  }
  let pingSocket = socket;
  if (a.pingSocket !== undefined) {
    pingSocket = socketIndex(a.pingSocket, listen);
    if (pingSocket < 0) return `ping_socket=${a.pingSocket} is not one of SIPLB_LISTEN's sockets`;
  }
  const family = r.address.includes(':') ? 6 : 4;
  for (const [attr, i] of [['socket', socket], ['ping_socket', pingSocket]] as const) {
    if (i >= 0 && listen[i]!.family !== family) return `${attr} is an IPv${listen[i]!.family} socket, the destination is IPv${family}`;
  }
  return { socket, pingSocket };
}
