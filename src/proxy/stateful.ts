// Transaction-stateful forwarding (RFC 3261 16 and 17, UDP): retransmissions are absorbed upstream
// and generated downstream, INVITEs get 100 Trying, CANCEL is answered and carried to the pending
// branches, the ACK of a non-2xx is generated hop by hop, and a 5xx, 408 or silence moves the
// transaction to the next destination of its list (failover, Kamailio's ds_next_dst). Every branch
// is kept until the server transaction ends: a 2xx from any of them is relayed and cancels the
// others; the caller gets the best final response of all of them (RFC 3261 16.7). Under algorithm
// 12 the list is not tried in turn but forked: every destination gets the request at once, each a
// client transaction of the one server transaction (RFC 3261 16.6 per target), and the same rules
// pick what the caller hears.
import { createParser, type SipMessage, type SipParser } from '../parser/index.js';
import * as P from '../parser/constants.generated.js';
import { buildAck, buildCancel, buildResponse, forwardResponse, withStatus } from '../sip/rewrite.js';
import { ownString } from '../shared/own-string.js';
import { statefulBranch } from '../sip/branch.js';
import { reasonPhrase } from '../sip/responses.js';
import { C } from './counters.js';
import { ExpiryQueue } from './expiry-queue.js';
import { betterFinal, type ClientTx, ServerState, ServerTable, type ServerTx } from './transactions.js';
import type { Forward, Peer, RouteTarget, StatefulHost } from './types.js';

/** The destination list of a transaction that needs it no more (failover is over). */
const NO_TARGETS: readonly RouteTarget[] = Object.freeze([]);
/** Branches of a transaction before its first: never pushed to (#send replaces it). */
const NO_CLIENTS: ClientTx[] = [];

// A finished transaction stays 64*T1 (32 s) to absorb retransmissions: what it keeps is what a
// late retransmission or ACK needs, nothing else. Heap snapshots at steady state found, per held
// transaction: Buffers of the request and of the 2xx (each pinning a slab of Node's Buffer pool at
// first), a unique hidden class per transaction (an object spread), the request's header text kept
// alive by a sliced key string, and a closure, a context and a handle per timer.

export class StatefulEngine {
  readonly #servers = new ServerTable();
  readonly #clients = new Map<string, ClientTx>();
  /** Finished server transactions, expiring 64*T1 after they finished (Timers H, J, L). */
  readonly #finished = new ExpiryQueue<ServerTx>();
  /** Source addresses by value: Node makes a new string per datagram, a held transaction keeps one. */
  readonly #addresses = new Map<string, string>();
  /** Parses stored requests (failover, CANCEL, ACK) without disturbing the datagram in hand. */
  readonly #reparser: SipParser = createParser();
  constructor(private readonly core: StatefulHost) {}

  /** Transactions still waiting for a final response. */
  get pending(): number {
    let n = 0;
    for (const tx of this.#servers.values()) if (tx.state === ServerState.Proceeding) n++;
    return n;
  }

  /** Server transactions held now (live and finished). */
  get size(): number {
    return this.#servers.size;
  }

  /** SIPLB_MAX_TRANSACTIONS reached: no new transaction until some expire. */
  get full(): boolean {
    return this.#servers.size >= this.core.config.maxTransactions;
  }

  /** Retransmissions, the ACK of a non-2xx and CANCEL of a held INVITE. True when handled. */
  onRequest(bytes: Uint8Array, m: SipMessage, src: Peer): boolean {
    const method = m.methodId;
    const tx = this.#servers.find(m, method === P.METHOD_CANCEL || method === P.METHOD_ACK ? P.METHOD_INVITE : method);
    if (method === P.METHOD_CANCEL) {
      if (!tx) return false;
      this.core.counters.inc(C.cancel_matched);
      this.core.reply(bytes, m, src, 200); // RFC 3261 16.10: the CANCEL itself is answered here
      if (tx.load !== undefined) this.core.callLoad!.release(tx.load); // ds_load_update on CANCEL
      if (tx.state === ServerState.Proceeding && !tx.canceled) this.#cancelAll(tx);
      return true;
    }
    if (!tx) return false;
    if (method === P.METHOD_ACK) {
      if (tx.state !== ServerState.Completed) return false; // the ACK of a 2xx: in-dialog, routed on
      this.core.timers.clear(tx.retransmit); // RFC 3261 17.2.1: Completed -> Confirmed
      tx.retransmit = undefined;
      this.core.counters.inc(C.retrans_absorbed);
      return true;
    }
    // a retransmission: answer with what we last sent (Accepted: nothing, RFC 6026), never forward it
    this.core.counters.inc(C.retrans_absorbed);
    if (tx.final !== undefined) this.#toUpstream(tx, Buffer.from(tx.final, 'latin1'));
    else if (tx.provisional !== undefined && tx.state === ServerState.Proceeding) this.#toUpstream(tx, tx.provisional);
    return true;
  }

  /**
   * A new request routed by the dispatcher with algorithm `alg` (its rule's, or SIPLB_ALG): first
   * destination now, the others on failure; algorithm 12 forks to all now, and nothing comes after.
   */
  startNew(bytes: Uint8Array, m: SipMessage, src: Peer, targets: RouteTarget[], alg: number): void {
    const tx = this.#createServer(bytes, m, src, targets, alg);
    if (alg === 12) this.#fork(tx, m);
    else this.#attempt(tx, m);
  }

  /** An in-dialog request: one next hop, transaction kept for retransmissions and timeouts. */
  startInDialog(bytes: Uint8Array, m: SipMessage, src: Peer, fwd: Forward): void {
    const tx = this.#createServer(bytes, m, src, NO_TARGETS, 0);
    this.#send(tx, fwd, undefined);
  }

  /** A response whose top Via branch is one of our client transactions; false when it is not. */
  onResponse(bytes: Uint8Array, m: SipMessage): boolean {
    const branch = m.via?.branch;
    if (branch === undefined) return false;
    const c = this.#clients.get(branch);
    if (!c) return false;
    if (m.cseq.method === 'CANCEL') return true; // answers to our CANCELs end here
    const tx = c.server;
    const status = m.status;
    const timers = this.core.timers;
    if (status < 200) {
      if (c.done) return this.#late(); // a branch we gave up on still rings: nothing to relay
      c.provisional = true;
      if (c.isInvite) {
        timers.clear(c.retransmit); // Timer A stops on a provisional
        if (c.fr !== undefined) timers.arm(c.fr, this.core.config.frInvTimer); // Timer C
      }
      if (c.cancelPending) this.#sendCancel(c);
      if (status > 100 && tx.state === ServerState.Proceeding) {
        const out = forwardResponse(bytes, this.core.parser.table);
        tx.provisional = out;
        this.#toUpstream(tx, out);
      }
      return true;
    }
    if (c.status === 0) c.status = status;
    if (status < 300) {
      // a 2xx from any branch, first or late, is relayed (RFC 3261 16.7 step 10)
      if (!c.done) this.#finishClient(c);
      this.#toUpstream(tx, forwardResponse(bytes, this.core.parser.table));
      if (tx.state === ServerState.Proceeding) {
        // the call is up on this branch's destination (ds_load_update on a 2xx)
        if (tx.load !== undefined) this.core.callLoad!.confirm(tx.load, c.target?.index, this.core.now());
        // RFC 6026 Accepted: INVITE retransmissions are absorbed, the 2xx is not kept
        tx.state = tx.isInvite ? ServerState.Accepted : ServerState.Completed;
        if (!tx.isInvite) tx.final = forwardResponse(bytes, this.core.parser.table).toString('latin1');
        this.#cancelOthers(tx, c); // RFC 3261 16.10: a 2xx ends the search
        this.#release(tx);
        this.#expire(tx);
      } else if (tx.state === ServerState.Completed) {
        timers.clear(tx.retransmit); // a 2xx after our non-2xx: stop repeating the latter
        tx.retransmit = undefined;
      }
      return true;
    }
    if (c.done) {
      // a retransmitted final, or the 487 of a branch we cancelled: ACKed again, never relayed
      if (c.isInvite) this.#ack(c, m);
      return this.#late();
    }
    this.#finishClient(c);
    if (c.isInvite) this.#ack(c, m); // RFC 3261 17.1.1.3: hop-by-hop ACK of a non-2xx
    this.#consider(tx, status, forwardResponse(bytes, this.core.parser.table));
    if (tx.state !== ServerState.Proceeding) return true;
    if (status >= 600) {
      this.#cancelOthers(tx, c); // RFC 3261 16.7 step 5: a 6xx ends every branch
      this.#finishBest(tx);
      return true;
    }
    if (this.#failover(tx, c, status)) return true;
    if (!this.#branchesLeft(tx)) this.#finishBest(tx);
    return true;
  }

  // ---- server side ----

  #createServer(bytes: Uint8Array, m: SipMessage, src: Peer, targets: readonly RouteTarget[], alg: number): ServerTx {
    // plain fields, never `src` itself: a worker reuses it for the next datagram (its ring metadata)
    const to = this.core.responseTarget(m, src);
    const tx: ServerTx = {
      key: '',
      viaHost: '',
      viaPort: 0,
      methodId: 0,
      isInvite: m.methodId === P.METHOD_INVITE,
      address: this.#intern(to.address),
      port: to.port,
      socket: src.socket,
      srcPort: src.port,
      request: Buffer.from(bytes.subarray(0, m.length)),
      state: ServerState.Proceeding,
      provisional: undefined,
      final: undefined,
      targets,
      next: 0,
      clients: NO_CLIENTS,
      canceled: false,
      best: undefined,
      retransmit: undefined,
      retransmitInterval: this.core.config.t1,
      load: undefined,
      alg,
    };
    this.#servers.add(tx, m);
    if (tx.isInvite) {
      // RFC 3261 16.2: a stateful proxy answers an INVITE with 100 Trying itself
      const trying = buildResponse(bytes, this.core.parser.table, 100, 'Trying', this.core.config.serverHeader ? { server: this.core.config.serverHeader } : {});
      if (trying) {
        tx.provisional = trying;
        this.core.counters.inc(C.local_replies);
        this.core.counters.reply(100);
        this.#toUpstream(tx, trying);
      }
    }
    return tx;
  }

  /** Keeps `status` as the caller's answer if it beats the one kept (RFC 3261 16.7 step 6). */
  #consider(tx: ServerTx, status: number, bytes: Buffer | undefined): void {
    // once the caller has its final (a 2xx, a 6xx) the 487s of the cancelled branches choose
    // nothing: kept, they would hold a response 32 s in every finished forked transaction
    if (tx.state !== ServerState.Proceeding) return;
    if (tx.best === undefined || betterFinal(status, tx.best.status)) tx.best = { status, bytes };
  }

  /** Every branch has ended without a 2xx: the best final goes upstream. */
  #finishBest(tx: ServerTx): void {
    const best = tx.best;
    if (best === undefined || best.bytes === undefined) return this.#finishLocal(tx, best?.status ?? (tx.canceled ? 487 : 408));
    if (best.status === 503) {
      // RFC 3261 16.7 step 6: a 503 would tell the caller that this proxy is unavailable, not the
      // destination; relayed as 500, as Kamailio does by default (tm remap_503_500)
      this.core.counters.inc(C.remap_503_500);
      return this.#finish(tx, withStatus(best.bytes, 500, reasonPhrase(500)));
    }
    this.#finish(tx, best.bytes);
  }

  /** Sends `final` upstream and keeps the transaction to absorb retransmissions (Timers G, H, J). */
  #finish(tx: ServerTx, response: Buffer): void {
    if (tx.load !== undefined) this.core.callLoad!.release(tx.load); // the call failed: ds_load_unset
    tx.state = ServerState.Completed;
    tx.final = response.toString('latin1');
    this.#release(tx);
    this.#toUpstream(tx, response);
    if (tx.isInvite) {
      tx.retransmitInterval = this.core.config.t1;
      tx.retransmit = this.core.timers.handle(this.#onFinalRetransmit, tx);
      this.core.timers.arm(tx.retransmit, tx.retransmitInterval);
    }
    this.#expire(tx);
  }

  /** Timer G: the final non-2xx again until the ACK (RFC 3261 17.2.1). */
  readonly #onFinalRetransmit = (tx: ServerTx): void => {
    if (tx.state !== ServerState.Completed || tx.final === undefined || tx.retransmit === undefined) return;
    this.core.counters.inc(C.retrans_sent);
    this.#toUpstream(tx, Buffer.from(tx.final, 'latin1'));
    tx.retransmitInterval = Math.min(tx.retransmitInterval * 2, this.core.config.t2);
    this.core.timers.arm(tx.retransmit, tx.retransmitInterval);
  };

  /** A final answer made here (408, 487, 503...) from the stored request. */
  #finishLocal(tx: ServerTx, status: number): void {
    const request = tx.request;
    if (request === undefined) return;
    const view = this.#reparse(request);
    const out = buildResponse(request, this.#reparser.table, status, reasonPhrase(status), {
      toTag: this.core.localTag(view),
      ...(this.core.config.serverHeader ? { server: this.core.config.serverHeader } : {}),
    });
    this.core.counters.inc(C.local_replies);
    this.core.counters.reply(status);
    if (out) this.#finish(tx, out);
  }

  /** Drops what a final answer made useless: the request, the list, the provisional, the best final, what branches sent. */
  #release(tx: ServerTx): void {
    tx.request = undefined;
    tx.best = undefined;
    tx.targets = NO_TARGETS;
    tx.provisional = undefined;
    // a branch still pending needs its request for retransmission and CANCEL, and an INVITE branch
    // that timed out for the ACK of the final it may still send (a 487 after our CANCEL)
    for (const c of tx.clients) if (c.done && (c.status !== 0 || !c.isInvite)) c.sent = undefined;
  }

  /** Keeps the finished `tx` 64*T1 more (Timers H, J and RFC 6026's L), then forgets it. */
  #expire(tx: ServerTx): void {
    this.#finished.push(tx, this.core.now() + 64 * this.core.config.t1);
    if (!tx.isInvite) {
      // a finished non-INVITE branch waits for nothing (Timer K; a late final is dropped either
      // way: RFC 3261 16.7 step 5 forwards no response after the final but an INVITE's 2xx), and
      // one still pending (a fork, or a branch left behind by a 6xx) stops retransmitting, as
      // Kamailio's tm stops every branch's timers once a final went upstream
      for (const c of tx.clients) {
        if (!c.done) this.#finishClient(c);
        this.#clients.delete(c.branch);
      }
      tx.clients = NO_CLIENTS;
    }
  }

  /** The clock tick: forgets the finished transactions whose time is up. */
  tick(now: number): void {
    if (this.#finished.size > 0) this.#finished.expire(now, this.#onExpire);
  }

  readonly #onExpire = (tx: ServerTx): void => {
    const timers = this.core.timers;
    timers.clear(tx.retransmit);
    this.#servers.delete(tx);
    for (const c of tx.clients) {
      timers.clear(c.retransmit);
      timers.clear(c.fr);
      this.#clients.delete(c.branch);
    }
  };

  #intern(address: string): string {
    let a = this.#addresses.get(address);
    if (a === undefined) {
      if (this.#addresses.size >= 4096) this.#addresses.clear(); // bounded: a spoofed flood refills it
      a = ownString(address);
      this.#addresses.set(a, a);
    }
    return a;
  }

  #toUpstream(tx: ServerTx, bytes: Uint8Array): void {
    this.core.send(bytes, tx.address, tx.port, tx.socket, 'tx_responses');
  }

  // ---- client side ----

  /** Tries the next destination of the list; `m` is the live request view on the first try. */
  #attempt(tx: ServerTx, m?: SipMessage): void {
    const request = tx.request;
    if (request === undefined) return;
    const view = m ?? this.#reparse(request);
    let target = tx.targets[tx.next++];
    const load = tx.isInvite && tx.alg === 10 ? this.core.callLoad : undefined;
    if (load !== undefined) {
      // algorithm 10: the call's load goes with it; a destination that reached its maxload since
      // the list was made (another worker's calls) is passed over
      const now = this.core.now();
      for (; target !== undefined; target = tx.targets[tx.next++]) {
        const e = load.take(view.callId, view.cseqNumber, target.index, target.maxload, now);
        if (e !== undefined) {
          tx.load = e;
          break;
        }
      }
    }
    if (!target) return this.#finishLocal(tx, this.core.config.noDestCode);
    const table = m ? this.core.parser.table : this.#reparser.table;
    const src: Peer = { address: tx.address, port: tx.srcPort, socket: tx.socket };
    const fwd = this.core.buildForward(request, view, table, src, target, tx.targets[tx.next], statefulBranch());
    this.#send(tx, fwd, target);
  }

  /**
   * Algorithm 12 (Kamailio: ds_select_dst appends a branch per destination, t_relay forks them):
   * one client transaction per destination, all started now. Each branch's request is built for
   * its own destination, so the Record-Route token in it, which the UAS copies into its 2xx and
   * the caller's ACK and BYE bring back, names that destination and no other: a dialog exists only
   * on the branch that answered, so there is no second destination to fail over to in-dialog.
   * Never takes algorithm 10's call load (only #attempt does, and only under algorithm 10).
   */
  #fork(tx: ServerTx, m: SipMessage): void {
    const request = tx.request;
    if (request === undefined) return;
    const src: Peer = { address: tx.address, port: tx.srcPort, socket: tx.socket };
    const table = this.core.parser.table;
    for (const target of tx.targets) this.#send(tx, this.core.buildForward(request, m, table, src, target, undefined, statefulBranch()), target);
    tx.next = tx.targets.length;
  }

  #send(tx: ServerTx, fwd: Forward, target: RouteTarget | undefined): void {
    const timers = this.core.timers;
    const c: ClientTx = {
      branch: fwd.branch,
      server: tx,
      target,
      address: fwd.address,
      port: fwd.port,
      socket: fwd.socket,
      sent: fwd.bytes,
      ack: undefined,
      status: 0,
      isInvite: tx.isInvite,
      provisional: false,
      cancelPending: false,
      cancelSent: false,
      done: false,
      retransmit: undefined,
      retransmitInterval: this.core.config.t1,
      fr: undefined,
    };
    // most transactions have one branch: an array of exactly one (a pushed empty one reserves 17)
    if (tx.clients.length === 0) tx.clients = [c];
    else tx.clients.push(c);
    this.#clients.set(c.branch, c);
    this.core.send(fwd.bytes, c.address, c.port, c.socket, 'tx_requests');
    c.retransmit = timers.handle(this.#onRequestRetransmit, c);
    timers.arm(c.retransmit, c.retransmitInterval);
    c.fr = timers.handle(this.#timeout, c);
    timers.arm(c.fr, this.core.config.frTimer);
  }

  /** Timer A doubles without cap; Timer E doubles up to T2, and sits at T2 after a provisional. */
  readonly #onRequestRetransmit = (c: ClientTx): void => {
    if (c.done || c.sent === undefined || c.retransmit === undefined) return;
    this.core.counters.inc(C.retrans_sent);
    this.core.send(c.sent, c.address, c.port, c.socket, 'tx_requests');
    c.retransmitInterval = c.isInvite ? c.retransmitInterval * 2 : Math.min(c.retransmitInterval * 2, this.core.config.t2);
    this.core.timers.arm(c.retransmit, c.retransmitInterval);
  };

  #finishClient(c: ClientTx): void {
    c.done = true;
    this.core.timers.clear(c.retransmit);
    this.core.timers.clear(c.fr);
    c.retransmit = undefined;
    c.fr = undefined;
  }

  /**
   * No final response in time. A branch that rang (180) and reached SIPLB_FR_INV_TIMER is a callee
   * that did not answer, not a dead server: it is cancelled (RFC 3261 16.8) and, unless
   * SIPLB_FAILOVER_AFTER_PROVISIONAL, nobody else is rung (Kamailio's reference config checks
   * t_branch_replied() for the same reason). Silence fails over whatever SIPLB_FAILOVER_CODES says.
   */
  readonly #timeout = (c: ClientTx): void => {
    if (c.done) return;
    const tx = c.server;
    const rang = c.isInvite && c.provisional;
    if (rang) this.#sendCancel(c); // before finishClient: the CANCEL is built from the request sent
    this.#finishClient(c);
    this.core.counters.inc(C.timeout);
    this.#consider(tx, tx.canceled ? 487 : 408, undefined);
    if (tx.state !== ServerState.Proceeding) return;
    if ((!rang || this.core.config.failoverAfterProvisional) && this.#failover(tx, c, 0)) return;
    if (!this.#branchesLeft(tx)) this.#finishBest(tx);
  };

  /** Moves to the next destination when the outcome calls for it (0: a timeout); true when it did. */
  #failover(tx: ServerTx, c: ClientTx, status: number): boolean {
    const cfg = this.core.config;
    if (tx.canceled || tx.targets.length === 0 || !cfg.failover) return false;
    if (status !== 0 && !cfg.isFailoverCode(status)) return false;
    if (c.target && cfg.markFailed !== undefined && !this.core.selector.markFailed(c.target, cfg.markFailed)) this.core.counters.inc(C.mark_kept_last);
    if (tx.alg === 12) return false; // algorithm 12: the fork was the whole list, nothing comes after it
    if (tx.next >= tx.targets.length) {
      this.core.counters.inc(C.failover_exhausted);
      return false;
    }
    this.core.counters.inc(C.failover);
    this.#attempt(tx);
    return true;
  }

  #branchesLeft(tx: ServerTx): boolean {
    return tx.clients.some((c) => !c.done);
  }

  /** The caller's CANCEL: every pending branch is cancelled; the caller gets their best answer (487). */
  #cancelAll(tx: ServerTx): void {
    tx.canceled = true;
    for (const c of tx.clients) this.#cancelBranch(c);
  }

  #cancelOthers(tx: ServerTx, keep: ClientTx): void {
    for (const c of tx.clients) if (c !== keep) this.#cancelBranch(c);
  }

  #cancelBranch(c: ClientTx): void {
    if (c.done || !c.isInvite) return;
    if (c.provisional) this.#sendCancel(c);
    else c.cancelPending = true; // RFC 3261 9.1: not before a provisional response
  }

  #sendCancel(c: ClientTx): void {
    c.cancelPending = false;
    if (c.cancelSent || c.sent === undefined) return;
    c.cancelSent = true;
    const cancel = buildCancel(c.sent);
    if (cancel) this.core.send(cancel, c.address, c.port, c.socket, 'tx_requests');
  }

  /** The hop-by-hop ACK of a non-2xx (RFC 3261 17.1.1.3), built once and sent again for a retransmitted final. */
  #ack(c: ClientTx, response: SipMessage): void {
    if (c.ack === undefined && c.sent !== undefined) c.ack = buildAck(c.sent, response.to.raw) ?? undefined;
    c.sent = undefined; // the ACK is all a finished INVITE branch still sends
    if (c.ack !== undefined) this.core.send(c.ack, c.address, c.port, c.socket, 'tx_requests');
  }

  #late(): true {
    this.core.counters.inc(C.late_response_absorbed);
    return true;
  }

  #reparse(bytes: Uint8Array): SipMessage {
    this.#reparser.exec(bytes);
    return this.#reparser.view();
  }
}
