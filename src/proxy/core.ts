// The proxy core: one per thread, synchronous, fed datagrams and clock ticks by its host. It
// validates (RFC 3261 16.3), answers what it must answer itself, routes new requests through the
// dispatcher and in-dialog requests through our own Record-Route, and forwards responses by Via.
// Transaction state (stateful mode) lives in StatefulEngine; stateless forwarding (RFC 3261 16.11)
// is here.
import { createParser, type SipMessage, type SipParser } from '../parser/index.js';
import * as P from '../parser/constants.generated.js';
import { buildResponse, forwardRequest, forwardResponse } from '../sip/rewrite.js';
import { statefulBranch, statelessBranch } from '../sip/branch.js';
import { signToken, verifyToken } from '../sip/token.js';
import { reasonPhrase, routeMatcher } from '../sip/responses.js';
import { Counters } from './counters.js';
import type { DestinationStates } from './dest-state.js';
import { Dispatcher } from './dispatcher.js';
import { OverloadGuard, ShedMemory, type DelaySample } from './overload.js';
import { StatefulEngine } from './stateful.js';
import { TimerWheel } from './timer-wheel.js';
import type { Output, Peer, RouteTarget } from './types.js';
import type { CoreConfig } from './config.js';

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** What the core decided for a request it forwards. */
export interface Forward {
  bytes: Buffer;
  address: string;
  port: number;
  socket: number;
  branch: string;
}

export class ProxyCore {
  readonly counters = new Counters();
  readonly parser: SipParser = createParser();
  readonly timers: TimerWheel;
  readonly dispatcher: Dispatcher;
  readonly #stateful: StatefulEngine | undefined;
  /** Stateless mode: (Call-ID, CSeq) -> destination for 64*T1, so retransmissions, CANCEL and the ACK of a non-2xx follow the INVITE whatever the algorithm. */
  readonly #routeCache = new Map<string, { target: RouteTarget; expires: number }>();
  readonly #toTag: string;
  readonly #isOurs: (hp: { host: string; port: number }) => boolean;
  /** Load shedding (overload.ts): refuses a share of new requests while datagrams queue too long. */
  readonly overload: OverloadGuard;
  readonly #overloadHeaders: string[] | undefined;
  readonly #shed: ShedMemory;
  #draining = false;
  /** Arrival time of the datagram being handled (0 inside timers): tags the sends it causes. */
  #origin = 0;

  constructor(
    readonly config: CoreConfig,
    states: DestinationStates,
    readonly out: Output,
    readonly now: () => number = Date.now,
    /** Queueing delay in front of this core, ms (overload.ts); none by default (tests, tools). */
    queueDelay: DelaySample = () => 0,
  ) {
    this.timers = new TimerWheel(now(), undefined, undefined, now);
    this.overload = new OverloadGuard(config.overloadDelay, queueDelay);
    this.#overloadHeaders = config.overloadRetryAfter > 0 ? [`Retry-After: ${config.overloadRetryAfter}`] : undefined;
    this.#shed = new ShedMemory(64 * config.t1);
    this.dispatcher = new Dispatcher(config, states);
    this.#toTag = `slb${Math.random().toString(36).slice(2, 10)}`;
    this.#isOurs = routeMatcher(config.ours);
    if (config.mode === 'stateful') this.#stateful = new StatefulEngine(this);
  }

  /** One datagram from `src`. Never throws on bad input: it answers, forwards or counts a drop. */
  onDatagram(bytes: Uint8Array, src: Peer, origin = 0): void {
    this.#origin = origin;
    if (bytes.length <= 4 && isKeepalive(bytes)) {
      this.counters.inc('drop_keepalive'); // RFC 5626 CRLF keepalives
      return;
    }
    const code = this.parser.exec(bytes);
    const m = this.parser.view();
    if (this.parser.table[P.F_KIND] === P.KIND_RESPONSE) {
      this.counters.inc('rx_responses');
      if (code !== 0) {
        this.counters.parseError(errorName(code));
        this.counters.inc('drop_malformed_response');
        return;
      }
      if (this.#stateful?.onResponse(bytes, m)) return;
      this.forwardResponseByVia(bytes, m);
      return;
    }
    this.counters.inc('rx_requests');
    if (code !== 0) {
      this.#rejectMalformed(bytes, m, code, src);
      return;
    }
    this.#onRequest(bytes, m, src);
  }

  /** Advances the timer wheel; the host calls it every 10 ms or so. */
  tick(): void {
    this.#origin = 0;
    const now = this.now();
    this.timers.advance(now);
    this.overload.update(now);
    if (this.#shed.size > 0) this.#shed.expire(now);
  }

  /** SIGTERM: from now on new INVITEs get 503; transactions in flight finish. */
  drain(): void {
    this.#draining = true;
  }

  /** Transactions still in flight (for the drain). */
  get pending(): number {
    return this.#stateful?.pending ?? 0;
  }

  // ---- requests ----

  #onRequest(bytes: Uint8Array, m: SipMessage, src: Peer): void {
    const cfg = this.config;
    const method = m.methodId;
    const isAck = method === P.METHOD_ACK;
    if (bytes.length > cfg.maxMessageSize) return this.reply(bytes, m, src, 513);
    // a retransmission, an ACK for a non-2xx or a CANCEL of a transaction we hold
    if (this.#stateful?.onRequest(bytes, m, src)) return;
    const mf = m.maxForwards;
    if (mf === 0) {
      if (isAck) return this.counters.inc('drop_ack_unmatched');
      return this.reply(bytes, m, src, 483); // RFC 3261 16.3 step 3
    }
    const proxyRequire = m.headers('Proxy-Require');
    if (proxyRequire.length > 0 && !isAck && method !== P.METHOD_CANCEL) {
      return this.reply(bytes, m, src, 420, [`Unsupported: ${proxyRequire.join(', ')}`]); // RFC 3261 16.3 step 5
    }
    const ruri = m.requestUri!;
    const scheme = ruri.schemeKind;
    if (scheme !== 'sip' && scheme !== 'tel') {
      // RFC 3261 16.3 step 2; sips: would need TLS end to end (26.2), never downgraded to UDP
      return isAck ? this.counters.inc('drop_ack_unmatched') : this.reply(bytes, m, src, 416);
    }

    // Route pre-processing (RFC 3261 16.4): our own top Route is removed.
    const route = m.route;
    const popped = route !== undefined && this.#isOurs({ host: route.host ?? '', port: route.port });
    const token = popped ? param(route.params, 'slb') : undefined;
    const inDialog = m.to.tag !== undefined;

    if (inDialog || (popped && m.routeCount > 1)) {
      if (!popped) {
        // never an open relay: in-dialog requests must come back through our Record-Route
        // the ACK of a non-2xx we answered ourselves (400, 483, 503...) ends there (RFC 3261 17.2.1)
        if (isAck) return this.counters.inc(m.to.tag === this.#toTag ? 'ack_local_reply' : 'drop_in_dialog_not_ours');
        this.counters.inc('drop_in_dialog_not_ours');
        return this.reply(bytes, m, src, 404);
      }
      return this.#forwardInDialog(bytes, m, src, token);
    }
    if (isAck) return this.counters.inc('drop_ack_unmatched'); // an ACK of nothing we routed
    if (method === P.METHOD_CANCEL && this.#stateful) {
      this.counters.inc('cancel_unmatched');
      return this.reply(bytes, m, src, 481); // RFC 3261 9.2: no matching transaction
    }
    if (this.#draining && method === P.METHOD_INVITE) {
      this.counters.inc('draining_rejected');
      return this.reply(bytes, m, src, 503);
    }
    if (method === P.METHOD_OPTIONS && ruri.user === undefined && this.#isUs(ruri.host, ruri.port)) {
      return this.reply(bytes, m, src, 200); // OPTIONS pinging the proxy itself
    }
    this.#forwardNew(bytes, m, src);
  }

  #forwardNew(bytes: Uint8Array, m: SipMessage, src: Peer): void {
    let targets: RouteTarget[];
    const cached = this.config.mode === 'stateless' ? this.#cachedTarget(m) : undefined;
    if (cached) targets = [cached]; // a retransmission (or CANCEL) of a request already forwarded
    else if (m.methodId !== P.METHOD_CANCEL && this.#refuse(m)) {
      // before any routing work: a refusal must cost as little as possible
      this.counters.inc('overload_rejected');
      return this.reply(bytes, m, src, 503, this.#overloadHeaders);
    } else targets = this.dispatcher.select(m, src);
    if (targets.length === 0) {
      this.counters.inc('no_destination');
      return this.reply(bytes, m, src, this.config.noDestCode, undefined, this.config.noDestReason);
    }
    this.counters.inc('fwd_new');
    if (this.#stateful) return this.#stateful.startNew(bytes, m, src, targets);
    const target = targets[0]!;
    this.#cacheTarget(m, target);
    const fwd = this.buildForward(bytes, m, this.parser.table, src, target, targets[1], statelessBranch(m));
    this.send(fwd.bytes, fwd.address, fwd.port, fwd.socket, 'tx_requests');
  }

  /** Overload: refuse this new request? A retransmission of a refused one is refused again. */
  #refuse(m: SipMessage): boolean {
    if (this.overload.shed === 0 && this.#shed.size === 0) return false;
    const key = `${m.callId}|${m.cseq.number}`;
    const now = this.now();
    if (this.#shed.has(key, now)) return true;
    if (this.overload.admit()) return false;
    this.#shed.remember(key, now);
    return true;
  }

  #forwardInDialog(bytes: Uint8Array, m: SipMessage, src: Peer, token: string | undefined): void {
    // next hop: the next Route (loose routing), else the Request-URI (RFC 3261 16.12)
    const hop = m.routeCount > 1 ? this.#secondRoute(m) : { host: m.requestUri!.host ?? '', port: m.requestUri!.port };
    let address = stripBrackets(hop.host);
    let port = hop.port || 5060;
    // In-dialog failover: the token names the destination chosen for the dialog and a second one.
    const dest = token ? verifyToken(this.config.rrSecret, token) : null;
    if (dest) {
      const primary = this.dispatcher.byId(dest.primary);
      const secondary = dest.secondary !== undefined ? this.dispatcher.byId(dest.secondary) : undefined;
      if (primary && secondary && !this.dispatcher.usable(primary) && this.dispatcher.usable(secondary)) {
        const goingToPrimary = address === primary.address && port === primary.port;
        if (goingToPrimary) {
          address = secondary.address;
          port = secondary.port;
          this.counters.inc('in_dialog_failover');
        }
      }
    }
    if (!isIpLiteral(address)) {
      if (m.methodId === P.METHOD_ACK) return this.counters.inc('drop_in_dialog_not_ours');
      return this.reply(bytes, m, src, 500, undefined, 'Next Hop Not Resolvable');
    }
    this.counters.inc('fwd_in_dialog');
    const socket = this.#socketFor(address, src.socket);
    const via = this.#viaFor(m.methodId === P.METHOD_ACK || !this.#stateful ? statelessBranch(m) : statefulBranch(), socket);
    const out = forwardRequest(bytes, this.parser.table, {
      via: via.value,
      stampTopVia: this.#stamp(m, src),
      maxForwards: (m.maxForwards ?? 71) - 1,
      popRoute: true,
    });
    if (this.#stateful && m.methodId !== P.METHOD_ACK) {
      return this.#stateful.startInDialog(bytes, m, src, { bytes: out, address, port, socket, branch: via.branch });
    }
    this.send(out, address, port, socket, 'tx_requests');
  }

  /** The request for `target`, with our Via and, for dialog-creating requests, our Record-Route. */
  buildForward(
    bytes: Uint8Array,
    m: SipMessage,
    table: Int32Array,
    src: Peer,
    target: RouteTarget,
    second: RouteTarget | undefined,
    branch: string,
  ): Forward {
    const socket = this.#socketFor(target.address, src.socket);
    const via = this.#viaFor(branch, socket);
    const ruri = this.dispatcher.rewriteRequestUri(m, target);
    const rr =
      this.config.recordRoute && isDialogCreating(m.methodId)
        ? this.#recordRoute(signToken(this.config.rrSecret, { primary: target.id, ...(second ? { secondary: second.id } : {}) }), socket)
        : undefined;
    const out = forwardRequest(bytes, table, {
      via: via.value,
      stampTopVia: this.#stamp(m, src),
      maxForwards: (m.maxForwards ?? 71) - 1,
      popRoute: false,
      ...(rr ? { recordRoute: rr } : {}),
      ...(ruri !== undefined ? { requestUri: ruri } : {}),
    });
    return { bytes: out, address: target.address, port: target.port, socket, branch };
  }

  // ---- responses ----

  /** Stateless response forwarding (RFC 3261 16.7 step 3, 18.2.2): our Via off, to the next one. */
  forwardResponseByVia(bytes: Uint8Array, m: SipMessage): void {
    const top = m.via;
    if (!top || !this.#isUs(top.host, top.port)) return this.counters.inc('drop_response_not_ours');
    const next = m.via2;
    if (!next) return this.counters.inc('drop_response_no_next_hop');
    const address = stripBrackets(next.received ?? next.host);
    const rport = next.rport;
    const port = typeof rport === 'number' ? rport : next.port || 5060;
    if (address === '255.255.255.255') return this.counters.inc('drop_response_broadcast'); // RFC 4475 3.3.10
    if (!isIpLiteral(address)) return this.counters.inc('drop_response_no_next_hop');
    const out = forwardResponse(bytes, this.parser.table);
    this.counters.inc('fwd_responses');
    this.send(out, address, port, this.#socketFor(address, 0), 'tx_responses');
  }

  // ---- local answers ----

  /** Answers a request from the proxy itself, to the packet's source (rport forced) or its Via. */
  reply(bytes: Uint8Array, m: SipMessage, src: Peer, status: number, headers?: string[], reason?: string): void {
    if (m.methodId === P.METHOD_ACK) return; // ACK is never answered
    const out = buildResponse(bytes, this.parser.table, status, reason ?? reasonPhrase(status), {
      ...(status > 100 ? { toTag: this.#toTag } : {}),
      ...(headers ? { headers } : {}),
      ...(this.config.serverHeader ? { server: this.config.serverHeader } : {}),
    });
    if (!out) return this.counters.inc('drop_malformed_request');
    this.counters.inc('local_replies');
    this.counters.reply(status);
    const to = this.#responseTarget(m, src);
    this.send(out, to.address, to.port, src.socket, 'tx_responses');
  }

  send(bytes: Uint8Array, address: string, port: number, socket: number, counter: 'tx_requests' | 'tx_responses'): void {
    this.counters.inc(counter);
    this.out.send(bytes, address, port, socket, this.#origin);
  }

  #rejectMalformed(bytes: Uint8Array, m: SipMessage, code: number, src: Peer): void {
    const [status, , name] = P.ERRORS[code] ?? [400, '', 'ERR_UNKNOWN'];
    this.counters.parseError(name);
    // RFC 4475 3.1.2.18: an unknown method whose CSeq does not match is answered 501
    const s = code === P.ERR_CSEQ_METHOD && m.methodId === P.METHOD_OTHER ? 501 : status;
    if (m.methodId === P.METHOD_ACK || !m.via) return this.counters.inc('drop_malformed_request');
    this.reply(bytes, m, src, s, undefined, s === 501 ? undefined : P.ERRORS[code]?.[1]);
  }

  #responseTarget(m: SipMessage, src: Peer): { address: string; port: number } {
    if (this.config.forceRport) return src;
    const via = m.via!;
    const rport = via.rport;
    return {
      address: stripBrackets(via.received ?? via.host),
      port: typeof rport === 'number' ? rport : rport === null ? src.port : via.port || 5060,
    };
  }

  /** received/rport for the top Via of a request we forward (RFC 3261 18.2.1, RFC 3581). */
  #stamp(m: SipMessage, src: Peer): { received?: string; rport?: number } {
    const via = m.via!;
    const stamp: { received?: string; rport?: number } = {};
    if (stripBrackets(via.host) !== src.address) stamp.received = src.address;
    if (via.rport !== undefined || this.config.forceRport) stamp.rport = src.port;
    return stamp;
  }

  #viaFor(branch: string, socket: number): { value: string; branch: string } {
    const hp = this.config.sockets[socket]?.hostport ?? this.config.advertise.hostport;
    return { value: `SIP/2.0/UDP ${hp};branch=${branch}`, branch };
  }

  /**
   * One Record-Route, naming the socket the request leaves from. A call bridging IPv4 and IPv6
   * would need two (RFC 5658 double Record-Route); destinations of the caller's family are assumed.
   */
  #recordRoute(token: string, socket: number): string {
    const hp = this.config.sockets[socket]?.hostport ?? this.config.advertise.hostport;
    return `<sip:${hp};lr;slb=${token}>`;
  }

  #isUs(host: string | undefined, port: number): boolean {
    return host !== undefined && this.#isOurs({ host, port });
  }

  #secondRoute(m: SipMessage): { host: string; port: number } {
    const routes = m.headers('Route');
    const second = routes[1] ?? '';
    const lt = second.indexOf('<');
    const uri = lt >= 0 ? second.slice(lt + 1, second.indexOf('>', lt)) : second;
    const hostport = /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;>?]+)(?::(\d+))?/i.exec(uri);
    return { host: hostport?.[1] ?? '', port: Number(hostport?.[2] ?? 0) };
  }

  /** The socket to send to `address` from: the preferred one if its family fits, else the first that does. */
  #socketFor(address: string, preferred: number): number {
    const family = address.includes(':') ? 6 : 4;
    const socks = this.config.sockets;
    if (socks[preferred]?.family === family) return preferred;
    const i = socks.findIndex((s) => s.family === family);
    return i < 0 ? preferred : i;
  }

  #cachedTarget(m: SipMessage): RouteTarget | undefined {
    const key = `${m.callId}|${m.cseq.number}`;
    const hit = this.#routeCache.get(key);
    if (!hit) return undefined;
    if (hit.expires < this.now()) {
      this.#routeCache.delete(key);
      return undefined;
    }
    return hit.target;
  }

  #cacheTarget(m: SipMessage, target: RouteTarget): void {
    if (this.#routeCache.size > 100_000) {
      // bounded: drop the oldest entries (Map keeps insertion order)
      const now = this.now();
      for (const [k, v] of this.#routeCache) {
        if (this.#routeCache.size <= 90_000 && v.expires > now) break;
        this.#routeCache.delete(k);
      }
    }
    this.#routeCache.set(`${m.callId}|${m.cseq.number}`, { target, expires: this.now() + 64 * this.config.t1 });
  }
}

function isKeepalive(b: Uint8Array): boolean {
  for (const c of b) if (c !== 13 && c !== 10) return false;
  return true;
}

function errorName(code: number): string {
  return P.ERRORS[code]?.[2] ?? 'ERR_UNKNOWN';
}

export function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

export function isIpLiteral(a: string): boolean {
  return IPV4.test(a) || a.includes(':');
}

function isDialogCreating(method: number): boolean {
  return method === P.METHOD_INVITE || method === P.METHOD_SUBSCRIBE || method === P.METHOD_REFER || method === P.METHOD_NOTIFY;
}

/** Value of `name` in a ";a=b;c" parameter string. */
export function param(params: string | undefined, name: string): string | undefined {
  if (!params) return undefined;
  for (const p of params.split(';')) {
    const eq = p.indexOf('=');
    const k = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
    if (k === name) return eq < 0 ? '' : p.slice(eq + 1).trim();
  }
  return undefined;
}
