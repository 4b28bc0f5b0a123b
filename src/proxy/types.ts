// What the proxy core needs from the thread that hosts it, and what the transaction engine needs
// from the core. The core is synchronous and owns no socket and no timer of its own: the host (a
// dispatch worker, or the main thread when SIPLB_WORKERS=0) feeds it datagrams and clock ticks
// and carries its sends to a socket.
import type { SipMessage, SipParser } from '../parser/index.js';
import type { CallLoad } from './call-load.js';
import type { CoreConfig } from './core-config.js';
import type { Counters } from './counters.js';
import type { TimerWheel } from './timer-wheel.js';

/** Where a datagram came from: the remote address and the index of the local socket it hit. */
export interface Peer {
  address: string;
  port: number;
  socket: number;
}

export interface Output {
  /**
   * Sends `bytes` from local socket `socket`. The core never reuses `bytes` after the call.
   * `origin` is the arrival time (µs, or its 32-bit ring tag) of the datagram this send answers,
   * 0 for sends made by timers: the host records receive-to-send latency from it.
   */
  send(bytes: Uint8Array, address: string, port: number, socket: number, origin: number): void;
  /**
   * A REGISTER for a registration set (SIPLB_REGISTER_SETS) from an allowed source, for the
   * registrar in the probe worker, which answers it. Absent: no registration sets.
   */
  register?(bytes: Uint8Array, src: Peer): void;
}

/** A destination as the core routes to it: an address, never a name (resolved at load). */
export interface RouteTarget {
  /** Position in the flat destination list: the index into the shared state table. */
  index: number;
  /** Stable id (`set:uri`, src/dispatch/sets.ts): what our Record-Route token names. */
  id: string;
  setId: number;
  uri: string;
  address: string;
  port: number;
  /** strip= and prefix= applied to the Request-URI user (siplb goes further than Kamailio). */
  strip: number;
  prefix: string;
  /** maxload=: most active calls under algorithm 10; 0 = no limit. */
  maxload: number;
  /** Listening socket its requests leave from (socket=/sockname= attrs); -1 = by arrival and family. */
  socket: number;
}

/** What the core decided for a request it forwards. */
export interface Forward {
  bytes: Buffer;
  address: string;
  port: number;
  socket: number;
  branch: string;
}

/**
 * The core as the transaction engine (stateful.ts) sees it: a narrow interface instead of a
 * reach into the core's members, so the two do not import each other.
 */
export interface StatefulHost {
  readonly config: CoreConfig;
  readonly counters: Counters;
  readonly timers: TimerWheel;
  /** Its span table describes the datagram being handled. */
  readonly parser: SipParser;
  readonly selector: { markFailed(t: RouteTarget, state: number): boolean };
  /** Algorithm 10's call tracking; undefined under the other algorithms. */
  readonly callLoad: CallLoad | undefined;
  now(): number;
  send(bytes: Uint8Array, address: string, port: number, socket: number, counter: 'tx_requests' | 'tx_responses'): void;
  reply(bytes: Uint8Array, m: SipMessage, src: Peer, status: number): void;
  localTag(m: SipMessage): string;
  responseTarget(m: SipMessage, src: Peer): { address: string; port: number };
  buildForward(bytes: Uint8Array, m: SipMessage, table: Int32Array, src: Peer, target: RouteTarget, second: RouteTarget | undefined, branch: string): Forward;
}
