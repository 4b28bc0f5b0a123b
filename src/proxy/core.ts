// The proxy core: one per thread, synchronous, fed datagrams and clock ticks by its host. It
// validates (RFC 3261 16.3), answers what it must answer itself, routes new requests through the
// dispatcher and in-dialog requests through our own Record-Route, and forwards responses by Via.
// Transaction state (stateful mode) lives in StatefulEngine; stateless forwarding (RFC 3261 16.11)
// is here.
//
// Never an open relay: a new request goes only to a destination the dispatcher chose, whatever
// Route or Request-URI it brings; an in-dialog request only through our own Record-Route with a
// token bound to its dialog, and from outside the destination sets only to a destination that
// token names; a response only back down a Via branch we made.
import { createParser, type SipMessage, type SipParser } from '../parser/index.js';
import * as P from '../parser/constants.generated.js';
import { buildResponse, forwardRequest, forwardResponse } from '../sip/rewrite.js';
import { type ResponseHop, statefulBranch, statelessBranch, verifyStatelessBranch } from '../sip/branch.js';
import { deriveKeys, type ProxyKeys } from '../sip/keys.js';
import { localTag } from '../sip/local-tag.js';
import { entry, findHeader } from '../sip/splice.js';
import { signToken, verifyToken } from '../sip/token.js';
import { reasonPhrase, routeMatcher } from '../sip/responses.js';
import { cidrMatcher } from '../shared/cidr.js';
import type { BindingTable } from '../shared/binding-table.js';
import { aorOf } from '../sip/aor.js';
import { C, Counters } from './counters.js';
import type { DestTable } from '../shared/dest-table.js';
import { TargetSelector } from './targets.js';
import type { DestinationSet } from '../dispatch/sets.js';
import type { CompiledRoutes } from '../dispatch/routes.js';
import { OverloadGuard, ShedMemory, type DelaySample } from './overload.js';
import { RouteCache } from './route-cache.js';
import { analyseRoutes, nextHop, type HostPort, type RouteInfo } from './routing.js';
import { StatefulEngine } from './stateful.js';
import { CallLoad } from './call-load.js';
import { TimerWheel } from './timer-wheel.js';
import type { Forward, Output, Peer, RouteTarget, StatefulHost } from './types.js';
import type { CoreConfig } from './core-config.js';

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

export class ProxyCore implements StatefulHost {
  readonly counters: Counters;
  readonly parser: SipParser = createParser();
  readonly timers: TimerWheel;
  readonly selector: TargetSelector;
  /** Algorithm 10's call tracking (call-load.ts); undefined while no rule and not SIPLB_ALG uses 10. */
  callLoad: CallLoad | undefined;
  /** The MAC keys of what we sign into messages (token, stateless branch, local To tag). */
  readonly keys: ProxyKeys;
  readonly #stateful: StatefulEngine | undefined;
  /** Stateless mode: where each new request went, for its retransmissions, CANCEL and non-2xx ACK. */
  readonly #routes: RouteCache;
  readonly #isOurs: (hp: HostPort) => boolean;
  /** SIPLB_ALLOW: who may start calls; undefined = anyone. */
  readonly #allowed: ((address: string) => boolean) | undefined;
  /** SIPLB_REGISTER_ALLOW when there are registration sets; undefined = none. */
  readonly #registerAllowed: ((address: string) => boolean) | undefined;
  readonly #scanners: readonly string[];
  /** Load shedding (overload.ts): refuses a share of new requests while datagrams queue too long. */
  readonly overload: OverloadGuard;
  readonly #overloadHeaders: string[] | undefined;
  readonly #shed: ShedMemory;
  #draining = false;
  readonly #states: DestTable;
  /** Arrival time of the datagram being handled (0 inside timers): tags the sends it causes. */
  #origin = 0;

  #config: CoreConfig;

  /** What this core reads of the configuration; only its list (records, targets) changes, at a reload. */
  get config(): CoreConfig {
    return this.#config;
  }

  constructor(
    config: CoreConfig,
    states: DestTable,
    readonly out: Output,
    readonly now: () => number = Date.now,
    /** Queueing delay in front of this core, ms (overload.ts); none by default (tests, tools). */
    queueDelay: DelaySample = () => 0,
    /** The registration sets' bindings (SIPLB_REGISTER_SETS), when there are any. */
    bindings?: BindingTable,
  ) {
    this.counters = new Counters(states.count);
    this.timers = new TimerWheel(now(), undefined, undefined, now);
    this.#config = config;
    this.overload = new OverloadGuard(config.overloadDelay, queueDelay);
    this.#overloadHeaders = config.overloadRetryAfter > 0 ? [`Retry-After: ${config.overloadRetryAfter}`] : undefined;
    this.#shed = new ShedMemory(64 * config.t1);
    this.#routes = new RouteCache(64 * config.t1, config.maxTransactions);
    this.#states = states;
    this.selector = new TargetSelector(config, states, now, bindings, config.routes);
    this.#checkAlgorithms();
    this.keys = deriveKeys(config.rrSecret);
    this.#isOurs = routeMatcher(config.ours);
    this.#allowed = config.allow.blocks.length > 0 ? cidrMatcher(config.allow) : undefined;
    this.#registerAllowed = config.registerAors.size > 0 ? cidrMatcher(config.registerAllow) : undefined;
    this.#scanners = config.scannerUserAgents;
    if (config.mode === 'stateful') this.#stateful = new StatefulEngine(this);
  }

  /**
   * New routing rules (a reload, checked off the data path by compileRoutes): in service from the
   * next request. Calls under way keep the destinations their rule chose.
   */
  setRoutes(routes: CompiledRoutes | undefined): void {
    const forks = routes?.config.rules.some((r) => r.reject === undefined && (r.alg ?? this.config.alg) === 12);
    if (forks === true && this.config.mode !== 'stateful') throw new RangeError('dispatcher algorithm 12 (parallel forking) needs SIPLB_MODE=stateful');
    this.selector.setRoutes(routes);
    this.#checkAlgorithms();
  }

  #checkAlgorithms(): void {
    const algs = this.selector.algorithms;
    // forking needs a client transaction per branch (RFC 3261 16.7); loadConfig refuses the pair,
    // and a core built by hand must not quietly send a forked request to one destination
    if (algs.includes(12) && this.config.mode !== 'stateful') throw new RangeError('dispatcher algorithm 12 (parallel forking) needs SIPLB_MODE=stateful');
    if (algs.includes(10) && this.callLoad === undefined) {
      const cfg = this.config;
      this.callLoad = new CallLoad(this.#states, cfg.dsHashExpire, cfg.dsHashInitExpire, this.now(), () => this.counters.inc(C.call_load_expired));
    }
  }

  /** One datagram from `src`. Never throws on bad input: it answers, forwards or counts a drop. */
  onDatagram(bytes: Uint8Array, src: Peer, origin = 0): void {
    this.#origin = origin;
    if (bytes.length <= 4 && isKeepalive(bytes)) {
      this.counters.inc(C.drop_keepalive); // RFC 5626 CRLF keepalives
      return;
    }
    const code = this.parser.exec(bytes);
    const m = this.parser.view();
    if (this.parser.table[P.F_KIND] === P.KIND_RESPONSE) {
      this.counters.inc(C.rx_responses);
      this.counters.responseIn(bytes, this.selector.slotOf(src.address, src.port));
      if (code !== 0) {
        this.counters.parseError(errorName(code));
        this.counters.inc(C.drop_malformed_response);
        return;
      }
      if (this.#stateful) {
        // stateful: only a live client transaction of ours takes a response (RFC 3261 17.1.3)
        if (!this.#stateful.onResponse(bytes, m)) this.counters.inc(this.#isUs(m.via?.host, m.via?.port ?? 0) ? C.drop_response_no_transaction : C.drop_response_not_ours);
        return;
      }
      this.forwardResponseByVia(bytes, m);
      return;
    }
    this.counters.inc(C.rx_requests);
    this.counters.requestIn(bytes);
    if (this.#isScanner()) {
      this.counters.inc(C.scanner_dropped); // silence: an answer tells a scanner it found a SIP server
      return;
    }
    if (code !== 0) {
      this.#rejectMalformed(bytes, m, code, src);
      return;
    }
    this.#onRequest(bytes, m, src);
  }

  /** Advances the timer wheel; the host calls it every 10 ms or so. */
  /**
   * A reloaded list: new requests select from `records` at once. Transactions and cached routes in
   * flight keep the destinations they were given (a removed one finishes its call).
   */
  reloadList(records: CoreConfig['records'], targets: CoreConfig['targets'], sets?: Map<number, DestinationSet>): void {
    this.#config = { ...this.#config, records, targets };
    this.selector.reload(this.#config, sets);
  }

  tick(): void {
    this.#origin = 0;
    const now = this.now();
    this.timers.advance(now);
    this.#stateful?.tick(now);
    this.callLoad?.tick(now);
    this.overload.update(now);
    if (this.#shed.size > 0) this.#shed.expire(now);
    if (this.#routes.size > 0) this.#routes.expire(now);
  }

  /** SIGTERM: from now on new INVITEs get 503; transactions in flight finish. */
  drain(): void {
    this.#draining = true;
  }

  /** Transactions still in flight (for the drain). */
  get pending(): number {
    return this.#stateful?.pending ?? 0;
  }

  /** What this core holds in memory: transactions (live and finished) and cached routes. */
  get held(): number {
    return (this.#stateful?.size ?? 0) + this.#routes.size + this.#shed.size;
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
      if (isAck) return this.counters.inc(C.drop_ack_unmatched);
      return this.reply(bytes, m, src, 483); // RFC 3261 16.3 step 3
    }
    if (!isAck && method !== P.METHOD_CANCEL && findHeader(this.parser.table, P.HDR_PROXY_REQUIRE) >= 0) {
      return this.reply(bytes, m, src, 420, [`Unsupported: ${m.headers('Proxy-Require').join(', ')}`]); // RFC 3261 16.3 step 5
    }
    const scheme = m.requestUri!.schemeKind;
    if (scheme !== 'sip' && scheme !== 'tel') {
      // RFC 3261 16.3 step 2; sips: would need TLS end to end (26.2), never downgraded to UDP
      return isAck ? this.counters.inc(C.drop_ack_unmatched) : this.reply(bytes, m, src, 416);
    }
    const routes = analyseRoutes(m, this.#isOurs);
    if (m.to.tag !== undefined) return this.#onInDialog(bytes, m, src, routes);

    // ---- a new request: it goes only where the dispatcher says ----
    if (isAck) return this.counters.inc(C.drop_ack_unmatched); // an ACK of nothing we routed
    if (routes.kind === 'foreign' || (routes.kind === 'ours' && routes.rest > 0)) {
      // a Route past us on a new request names a host of the sender's choosing: never followed
      this.counters.inc(C.relay_foreign_route);
      if (cfg.foreignRoute === 'drop') return;
      return this.reply(bytes, m, src, 403);
    }
    if (method === P.METHOD_CANCEL && this.#stateful) {
      this.counters.inc(C.cancel_unmatched);
      return this.reply(bytes, m, src, 481); // RFC 3261 9.2: no matching transaction
    }
    const ruri = m.requestUri!;
    if (method === P.METHOD_OPTIONS && ruri.user === undefined && this.#isUs(ruri.host, ruri.port)) {
      return this.reply(bytes, m, src, 200); // OPTIONS pinging the proxy itself
    }
    if (method === P.METHOD_REGISTER && this.#registerAllowed !== undefined) {
      const aor = aorOf(m);
      if (aor !== undefined && cfg.registerAors.has(aor)) {
        // a media server registering itself as a destination: the registrar answers, not a backend
        if (!this.#registerAllowed(src.address)) {
          this.counters.inc(C.register_denied); // SIPLB_REGISTER_ALLOW, refused here: the registrar never sees it
          return this.reply(bytes, m, src, 403);
        }
        this.counters.inc(C.register_to_registrar);
        return this.out.register?.(bytes, src);
      }
    }
    if (this.#allowed !== undefined && !this.#allowed(src.address)) {
      this.counters.inc(C.source_denied); // SIPLB_ALLOW
      return this.reply(bytes, m, src, 403);
    }
    if (this.#draining && method === P.METHOD_INVITE) {
      this.counters.inc(C.draining_rejected);
      return this.reply(bytes, m, src, 503);
    }
    this.#forwardNew(bytes, m, src);
  }

  #forwardNew(bytes: Uint8Array, m: SipMessage, src: Peer): void {
    let targets: RouteTarget[];
    let alg = this.config.alg;
    const cached = this.#stateful ? undefined : this.#routes.get(m.callId, m.cseqNumber, this.now());
    if (cached) targets = [cached]; // a retransmission (or CANCEL) of a request already forwarded
    else if (m.methodId !== P.METHOD_CANCEL && this.#refuse(m)) {
      // before any routing work: a refusal must cost as little as possible
      this.counters.inc(C.overload_rejected);
      return this.reply(bytes, m, src, 503, this.#overloadHeaders);
    } else if (this.#stateful ? this.#stateful.full : this.#routes.full) {
      // SIPLB_MAX_TRANSACTIONS: new work waits; what is in flight keeps its state
      this.counters.inc(C.tx_limit_rejected);
      return this.reply(bytes, m, src, 503);
    } else {
      targets = this.selector.select(m, src);
      alg = this.selector.alg;
      const reject = this.selector.reject;
      if (reject !== 0) return this.reply(bytes, m, src, reject, undefined, this.selector.rejectReason || undefined); // a rule closes this
    }
    let first = 0;
    if (!this.#stateful && this.callLoad !== undefined) {
      if (cached !== undefined) {
        if (m.methodId === P.METHOD_CANCEL) this.#releaseLoad(m.callId); // ds_load_update on CANCEL
      } else if (m.methodId === P.METHOD_INVITE && alg === 10) {
        // stateless, algorithm 10: the first destination of the list still below its maxload
        // takes the call (another worker may have filled the pick since it was chosen)
        while (first < targets.length && !this.callLoad.take(m.callId, m.cseqNumber, targets[first]!.index, targets[first]!.maxload, this.now())) first++;
      }
    }
    if (first >= targets.length) {
      this.counters.inc(C.no_destination);
      return this.reply(bytes, m, src, this.config.noDestCode, undefined, this.config.noDestReason);
    }
    this.counters.inc(C.fwd_new);
    if (this.#stateful) return this.#stateful.startNew(bytes, m, src, targets, alg);
    const target = targets[first]!;
    this.#routes.set(m.callId, m.cseqNumber, target, this.now());
    const fwd = this.buildForward(bytes, m, this.parser.table, src, target, targets[first + 1], this.#statelessBranch(m, src));
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

  // ---- in-dialog requests ----

  #onInDialog(bytes: Uint8Array, m: SipMessage, src: Peer, routes: RouteInfo): void {
    const isAck = m.methodId === P.METHOD_ACK;
    if (routes.kind !== 'ours' && routes.kind !== 'strict') {
      if (isAck) {
        // the ACK of a non-2xx: of one we answered ourselves (RFC 3261 17.2.1), or, stateless, of
        // one a destination answered (it follows the INVITE; RFC 3261 16.11)
        if (m.to.tag === this.localTag(m)) return this.counters.inc(C.ack_local_reply);
        const cached = this.#stateful ? undefined : this.#routes.get(m.callId, m.cseqNumber, this.now());
        if (cached) return this.#forwardAck(bytes, m, src, cached, routes);
      }
      // never an open relay: an in-dialog request comes back through our Record-Route or not at all
      return this.#deny(bytes, m, src, 'relay_no_route');
    }
    const token = routes.token;
    if (token === undefined || token === '') return this.#deny(bytes, m, src, 'relay_token_missing');
    const check = verifyToken(this.keys.token, token, m.callId, m.from.tag ?? '', m.to.tag ?? '');
    if (!check.ok) return this.#deny(bytes, m, src, check.reason === 'garbled' ? 'relay_token_garbled' : 'relay_token_invalid');
    // the dialog's BYE, from either side, ends the call's load (ds_load_update); only once its
    // token verified: a forged BYE must not free a destination's capacity
    if (m.methodId === P.METHOD_BYE && this.callLoad !== undefined) this.#releaseLoad(m.callId);

    let address: string;
    let port: number;
    if (this.selector.isDestination(src.address, src.port)) {
      // from a destination: towards the caller, as loose routing says (RFC 3261 16.12)
      const hop = nextHop(m, routes);
      if (hop === undefined) return this.#deny(bytes, m, src, 'relay_token_invalid');
      address = stripBrackets(hop.host);
      port = hop.port || 5060;
      if (!isIpLiteral(address)) {
        if (isAck) return this.counters.inc(C.drop_in_dialog_unresolvable);
        return this.reply(bytes, m, src, 500, undefined, 'Next Hop Not Resolvable');
      }
    } else {
      // from outside: only to a destination the token names, whatever the Request-URI says; the
      // second one when the first is down (in-dialog failover)
      const primary = this.selector.byId(check.dest.primary);
      const secondary = check.dest.secondary !== undefined ? this.selector.byId(check.dest.secondary) : undefined;
      let target = primary;
      if (secondary && (!primary || !this.selector.usable(primary)) && this.selector.usable(secondary)) {
        target = secondary;
        if (primary) this.counters.inc(C.in_dialog_failover);
      }
      if (!target) {
        // the dialog's destinations have left the list: nothing of it is reachable any more
        this.counters.inc(C.relay_destination_gone);
        return isAck ? undefined : this.reply(bytes, m, src, 481);
      }
      if (routes.rest > 0) {
        // a Route after ours must be the destination's own (a router layer that record-routes)
        const hop = nextHop(m, routes);
        const named = hop && (isTarget(hop, primary) || isTarget(hop, secondary));
        if (!named) return this.#deny(bytes, m, src, 'relay_foreign_route');
      }
      address = target.address;
      port = target.port;
    }
    if (isAck) return this.#forwardAck(bytes, m, src, { address, port }, routes);
    this.counters.inc(C.fwd_in_dialog);
    const socket = this.#socketFor(address, src.socket);
    const branch = this.#stateful ? statefulBranch() : this.#statelessBranch(m, src);
    const out = forwardRequest(bytes, this.parser.table, {
      via: this.#via(branch, socket),
      stampTopVia: this.#stamp(m, src),
      maxForwards: (m.maxForwards ?? 71) - 1,
      popRoute: routes.kind === 'ours',
      popLastRoute: routes.kind === 'strict',
      ...(routes.kind === 'strict' ? { requestUri: routes.requestUri } : {}),
    });
    if (this.#stateful) return this.#stateful.startInDialog(bytes, m, src, { bytes: out, address, port, socket, branch });
    this.send(out, address, port, socket, 'tx_requests');
  }

  /** ACK is forwarded statelessly in both modes (it has no response), with the branch 16.11 asks for. */
  #forwardAck(bytes: Uint8Array, m: SipMessage, src: Peer, to: { address: string; port: number }, routes: RouteInfo): void {
    this.counters.inc(C.fwd_in_dialog);
    const socket = this.#socketFor(to.address, src.socket);
    const out = forwardRequest(bytes, this.parser.table, {
      via: this.#via(this.#statelessBranch(m, src), socket),
      stampTopVia: this.#stamp(m, src),
      maxForwards: (m.maxForwards ?? 71) - 1,
      popRoute: routes.kind === 'ours',
      popLastRoute: routes.kind === 'strict',
      ...(routes.kind === 'strict' ? { requestUri: routes.requestUri } : {}),
    });
    this.send(out, to.address, to.port, socket, 'tx_requests');
  }

  /** An in-dialog request we will not route: 403 (an ACK is dropped: it is never answered). */
  #deny(bytes: Uint8Array, m: SipMessage, src: Peer, reason: 'relay_no_route' | 'relay_token_missing' | 'relay_token_garbled' | 'relay_token_invalid' | 'relay_foreign_route'): void {
    this.counters.inc(C[reason]);
    if (m.methodId !== P.METHOD_ACK) this.reply(bytes, m, src, 403);
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
    const socket = target.socket >= 0 ? target.socket : this.#socketFor(target.address, src.socket);
    const ruri = this.selector.rewriteRequestUri(m, target);
    let rr: string | undefined;
    if (this.config.recordRoute && isDialogCreating(m.methodId)) {
      const dest = second ? { primary: target.id, secondary: second.id } : { primary: target.id };
      rr = this.#recordRoute(signToken(this.keys.token, dest, { callId: m.callId, callerTag: m.from.tag ?? '' }), socket);
    }
    // a new request reaching here has no Route, or only ours (a UA with us as outbound proxy): ours goes
    const route = m.route;
    const out = forwardRequest(bytes, table, {
      via: this.#via(branch, socket),
      stampTopVia: this.#stamp(m, src),
      maxForwards: (m.maxForwards ?? 71) - 1,
      popRoute: route !== undefined && this.#isUs(route.host, route.port),
      ...(rr !== undefined ? { recordRoute: rr } : {}),
      ...(ruri !== undefined ? { requestUri: ruri } : {}),
    });
    return { bytes: out, address: target.address, port: target.port, socket, branch };
  }

  // ---- responses ----

  /**
   * Stateless response forwarding (RFC 3261 16.7 step 3, 18.2.2): our Via off, to the next one,
   * but only down a branch we made for that hop (branch.ts): a forged response is dropped.
   */
  forwardResponseByVia(bytes: Uint8Array, m: SipMessage): void {
    const top = m.via;
    if (!top || !this.#isUs(top.host, top.port)) return this.counters.inc(C.drop_response_not_ours);
    const next = m.via2;
    if (!next) return this.counters.inc(C.drop_response_no_next_hop);
    const hop = responseHop(next.host, next.port, next.received, next.rport);
    if (hop.address === '255.255.255.255') return this.counters.inc(C.drop_response_broadcast); // RFC 4475 3.3.10
    if (!isIpLiteral(hop.address)) return this.counters.inc(C.drop_response_no_next_hop);
    if (top.branch === undefined || !verifyStatelessBranch(top.branch, this.keys.branch, m.callId, hop)) {
      return this.counters.inc(C.drop_response_forged);
    }
    if (this.callLoad !== undefined && m.status >= 200 && m.methodId === P.METHOD_INVITE) this.#loadFinal(m);
    const out = forwardResponse(bytes, this.parser.table);
    this.counters.inc(C.fwd_responses);
    this.send(out, hop.address, hop.port, this.#socketFor(hop.address, 0), 'tx_responses');
  }

  /**
   * Stateless, algorithm 10: a final response to the INVITE that took load (its CSeq number; a
   * re-INVITE's has another) confirms the call on a 2xx, releases it on anything else.
   */
  #loadFinal(m: SipMessage): void {
    const e = this.callLoad!.entry(m.callId);
    if (e === undefined || e.cseq !== m.cseqNumber) return;
    if (m.status < 300) this.callLoad!.confirm(e, undefined, this.now());
    else this.callLoad!.release(e);
  }

  #releaseLoad(callId: string): void {
    const e = this.callLoad!.entry(callId);
    if (e !== undefined) this.callLoad!.release(e);
  }

  // ---- local answers ----

  /** Answers a request from the proxy itself, to the packet's source (rport forced) or its Via. */
  reply(bytes: Uint8Array, m: SipMessage, src: Peer, status: number, headers?: string[], reason?: string): void {
    if (m.methodId === P.METHOD_ACK) return; // ACK is never answered
    const out = buildResponse(bytes, this.parser.table, status, reason ?? reasonPhrase(status), {
      ...(status > 100 ? { toTag: this.localTag(m) } : {}),
      ...(headers ? { headers } : {}),
      ...(this.config.serverHeader ? { server: this.config.serverHeader } : {}),
    });
    if (!out) return this.counters.inc(C.drop_malformed_request);
    this.counters.inc(C.local_replies);
    this.counters.reply(status);
    const to = this.responseTarget(m, src);
    this.send(out, to.address, to.port, src.socket, 'tx_responses');
  }

  /** The To tag of our own final answers to the transaction of `m` (sip/local-tag.ts). */
  localTag(m: SipMessage): string {
    return localTag(this.keys.tag, m.callId, m.from.tag, m.cseqNumber);
  }

  send(bytes: Uint8Array, address: string, port: number, socket: number, counter: 'tx_requests' | 'tx_responses'): void {
    if (counter === 'tx_requests') {
      this.counters.inc(C.tx_requests);
      this.counters.requestOut(bytes, this.selector.slotOf(address, port));
    } else {
      this.counters.inc(C.tx_responses);
      this.counters.responseOut(bytes);
    }
    this.out.send(bytes, address, port, socket, this.#origin);
  }

  #rejectMalformed(bytes: Uint8Array, m: SipMessage, code: number, src: Peer): void {
    const [status, , name] = P.ERRORS[code] ?? [400, '', 'ERR_UNKNOWN'];
    this.counters.parseError(name);
    // RFC 4475 3.1.2.18: an unknown method whose CSeq does not match is answered 501
    const s = code === P.ERR_CSEQ_METHOD && m.methodId === P.METHOD_OTHER ? 501 : status;
    if (m.methodId === P.METHOD_ACK || !m.via) return this.counters.inc(C.drop_malformed_request);
    this.reply(bytes, m, src, s, undefined, s === 501 ? undefined : P.ERRORS[code]?.[1]);
  }

  /** SIPLB_SCANNER_UA: the User-Agent of the datagram in the parser names a known scanner. */
  #isScanner(): boolean {
    if (this.#scanners.length === 0) return false;
    const t = this.parser.table;
    const i = findHeader(t, P.HDR_USER_AGENT);
    if (i < 0) return false;
    const off = t[entry(i) + P.H_VALUE_OFF]!;
    const ua = this.parser.memory.toString('latin1', off, off + t[entry(i) + P.H_VALUE_LEN]!).toLowerCase();
    for (const s of this.#scanners) if (ua.includes(s)) return true;
    return false;
  }

  /**
   * Where answers to request `m` go: its source address and port (rport forced), or without
   * SIPLB_FORCE_RPORT the source address and the port its top Via asks for (RFC 3261 18.2.2: the
   * received= our transport would add is the source address, so never a host the Via names;
   * RFC 3581: rport without a value means the source port).
   */
  responseTarget(m: SipMessage, src: Peer): { address: string; port: number } {
    if (this.config.forceRport) return { address: src.address, port: src.port };
    const via = m.via!;
    const rport = via.rport;
    return { address: src.address, port: typeof rport === 'number' ? rport : rport === null ? src.port : via.port || 5060 };
  }

  /** received/rport for the top Via of a request we forward (RFC 3261 18.2.1, RFC 3581). */
  #stamp(m: SipMessage, src: Peer): { received?: string; rport?: number } {
    const via = m.via!;
    const stamp: { received?: string; rport?: number } = {};
    // A received= the client wrote itself is replaced too: left alone, it would send the responses
    // to this request (stateless: by Via) to any host the client names (found by socket fuzzing)
    if (stripBrackets(via.host) !== src.address || via.received !== undefined) stamp.received = src.address;
    if (via.rport !== undefined || this.config.forceRport) stamp.rport = src.port;
    return stamp;
  }

  /** The stateless branch for `m`, bound to where its responses will go once #stamp is applied. */
  #statelessBranch(m: SipMessage, src: Peer): string {
    const via = m.via!;
    const stamp = this.#stamp(m, src);
    const hop = responseHop(via.host, via.port, stamp.received ?? via.received, stamp.rport ?? via.rport);
    return statelessBranch(m, this.keys.branch, hop);
  }

  #via(branch: string, socket: number): string {
    const hp = this.config.sockets[socket]?.hostport ?? this.config.advertise.hostport;
    return `SIP/2.0/UDP ${hp};branch=${branch}`;
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

  /** The socket to send to `address` from: the preferred one if its family fits, else the first that does. */
  #socketFor(address: string, preferred: number): number {
    const family = address.includes(':') ? 6 : 4;
    const socks = this.config.sockets;
    if (socks[preferred]?.family === family) return preferred;
    const i = socks.findIndex((s) => s.family === family);
    return i < 0 ? preferred : i;
  }
}

/** Where responses go by a Via's values (RFC 3261 18.2.2, RFC 3581 4): received or host, rport or port. */
function responseHop(host: string, port: number, received: string | undefined, rport: number | null | undefined): ResponseHop {
  return { address: stripBrackets(received ?? host), port: typeof rport === 'number' ? rport : port || 5060 };
}

function isTarget(hop: HostPort, t: RouteTarget | undefined): boolean {
  return t !== undefined && stripBrackets(hop.host).toLowerCase() === t.address && (hop.port || 5060) === t.port;
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
