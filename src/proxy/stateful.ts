// Transaction-stateful forwarding (RFC 3261 16 and 17, UDP): retransmissions are absorbed upstream
// and generated downstream, INVITEs get 100 Trying, CANCEL is answered and carried to the pending
// branch, the ACK of a non-2xx is generated hop by hop, and a 5xx, 408 or silence moves the
// transaction to the next destination of its list (DISPATCHER.md, failover).
import { createParser, type SipMessage, type SipParser } from '../parser/index.js';
import * as P from '../parser/constants.generated.js';
import { buildAck, buildCancel, buildResponse, forwardResponse } from '../sip/rewrite.js';
import { statefulBranch } from '../sip/branch.js';
import { reasonPhrase } from '../sip/responses.js';
import type { ProxyCore, Forward } from './core.js';
import { type ClientTx, ServerState, type ServerTx, serverKey } from './transactions.js';
import type { Peer, RouteTarget } from './types.js';

/**
 * What a finished transaction no longer holds. It stays 64*T1 (32 s) to absorb retransmissions,
 * and a heap snapshot after 6,000 calls at 1000/s showed six Buffers per call retained for that
 * long, each pinning an 8 KB slab of Node's Buffer pool (27 MB of backing stores for 6,000 calls).
 */
const RELEASED = Buffer.alloc(0);

/**
 * The final response a finished transaction keeps for 32 s, in memory of its own: a slice of
 * Node's Buffer pool would pin the whole 8 KB slab, and with two finals kept per call the slabs
 * of every call stayed alive (21 MB for 6,000 calls, against about 7 MB copied out).
 */
function keep(b: Buffer): Buffer {
  if (b.buffer.byteLength === b.length) return b;
  const own = Buffer.allocUnsafeSlow(b.length);
  b.copy(own);
  return own;
}

export class StatefulEngine {
  readonly #servers = new Map<string, ServerTx>();
  readonly #clients = new Map<string, ClientTx>();
  /** Parses stored requests (failover, CANCEL, ACK) without disturbing the datagram in hand. */
  readonly #reparser: SipParser = createParser();

  constructor(private readonly core: ProxyCore) {}

  /** Transactions still waiting for a final response. */
  get pending(): number {
    let n = 0;
    for (const tx of this.#servers.values()) if (tx.state === ServerState.Proceeding) n++;
    return n;
  }

  /** Retransmissions, the ACK of a non-2xx and CANCEL of a held INVITE. True when handled. */
  onRequest(bytes: Uint8Array, m: SipMessage, src: Peer): boolean {
    const method = m.method ?? '';
    const key = keyOf(m, method === 'CANCEL' ? 'INVITE' : method);
    const tx = this.#servers.get(key);
    if (method === 'CANCEL') {
      if (!tx) return false;
      this.core.counters.inc('cancel_matched');
      this.core.reply(bytes, m, src, 200); // RFC 3261 16.10: the CANCEL itself is answered here
      if (tx.state === ServerState.Proceeding && !tx.canceled) this.#cancel(tx);
      return true;
    }
    if (!tx) return false;
    if (method === 'ACK') {
      if (tx.state !== ServerState.Completed) return false; // the ACK of a 2xx: in-dialog, routed on
      this.core.timers.clear(tx.retransmit); // RFC 3261 17.2.1: Completed -> Confirmed
      tx.retransmit = undefined;
      this.core.counters.inc('retrans_absorbed');
      return true;
    }
    // a retransmission: answer with what we last sent, never forward it again
    this.core.counters.inc('retrans_absorbed');
    if (tx.lastResponse) this.core.send(tx.lastResponse, tx.peer.address, tx.peer.port, tx.peer.socket, 'tx_responses');
    return true;
  }

  /** A new request routed by the dispatcher: first destination now, the others on failure. */
  startNew(bytes: Uint8Array, m: SipMessage, src: Peer, targets: RouteTarget[]): void {
    const tx = this.#createServer(bytes, m, src, targets);
    this.#attempt(tx, m);
  }

  /** An in-dialog request: one next hop, transaction kept for retransmissions and timeouts. */
  startInDialog(bytes: Uint8Array, m: SipMessage, src: Peer, fwd: Forward): void {
    const tx = this.#createServer(bytes, m, src, []);
    this.#send(tx, fwd, undefined);
  }

  /** A response whose top Via is one of our client transactions. False: forward it statelessly. */
  onResponse(bytes: Uint8Array, m: SipMessage): boolean {
    const branch = m.via?.branch;
    if (branch === undefined) return false;
    if (m.cseq.method === 'CANCEL') return this.#clients.has(branch); // answers to our CANCELs end here
    const c = this.#clients.get(branch);
    if (!c) return false;
    const tx = c.server;
    const status = m.status;
    if (c.done) {
      // late or retransmitted: a 2xx is always passed on (RFC 3261 16.7 step 10); a non-2xx is ACKed again
      if (status >= 200 && status < 300) this.#toUpstream(tx, forwardResponse(bytes, this.core.parser.table));
      else if (status >= 300 && c.isInvite) this.#ack(c, m);
      return true;
    }
    if (status < 200) {
      c.provisional = true;
      if (c.isInvite) {
        this.core.timers.clear(c.retransmit); // Timer A stops on a provisional
        c.retransmit = undefined;
        this.core.timers.clear(c.fr);
        c.fr = this.core.timers.set(this.core.config.frInvTimer, () => this.#timeout(c));
      }
      if (c.cancelPending) this.#sendCancel(c);
      if (status > 100) {
        const out = forwardResponse(bytes, this.core.parser.table);
        tx.lastResponse = out;
        this.#toUpstream(tx, out);
      }
      return true;
    }
    this.#finishClient(c);
    if (status < 300) {
      const out = keep(forwardResponse(bytes, this.core.parser.table));
      this.#toUpstream(tx, out);
      tx.state = tx.isInvite ? ServerState.Accepted : ServerState.Completed;
      tx.lastResponse = out;
      this.#expire(tx);
      // a 2xx is final for good: no local answer, no failover, and its ACK is end to end
      this.#release(tx, true);
      return true;
    }
    if (c.isInvite) this.#ack(c, m); // RFC 3261 17.1.1.3: hop-by-hop ACK of a non-2xx
    tx.lastFinal = forwardResponse(bytes, this.core.parser.table);
    if (this.#failover(tx, c, status)) return true;
    this.#finish(tx, tx.lastFinal);
    return true;
  }

  // ---- server side ----

  #createServer(bytes: Uint8Array, m: SipMessage, src: Peer, targets: RouteTarget[]): ServerTx {
    const method = m.method ?? '';
    const tx: ServerTx = {
      key: keyOf(m, method),
      isInvite: m.methodId === P.METHOD_INVITE,
      peer: this.core.config.forceRport ? { ...src } : src,
      request: Buffer.from(bytes.subarray(0, m.length)),
      state: ServerState.Proceeding,
      lastResponse: undefined,
      targets,
      next: 0,
      client: undefined,
      canceled: false,
      lastFinal: undefined,
      retransmit: undefined,
      lifetime: undefined,
      retransmitInterval: this.core.config.t1,
      createdAt: this.core.now(),
    };
    this.#servers.set(tx.key, tx);
    if (tx.isInvite) {
      // RFC 3261 16.2: a stateful proxy answers an INVITE with 100 Trying itself
      const trying = buildResponse(bytes, this.core.parser.table, 100, 'Trying', this.core.config.serverHeader ? { server: this.core.config.serverHeader } : {});
      if (trying) {
        tx.lastResponse = trying;
        this.core.counters.inc('local_replies');
        this.core.counters.reply(100);
        this.#toUpstream(tx, trying);
      }
    }
    return tx;
  }

  /** Sends `final` upstream and keeps the transaction to absorb retransmissions (Timers G, H, J). */
  #finish(tx: ServerTx, response: Buffer): void {
    const final = keep(response);
    tx.state = ServerState.Completed;
    tx.lastResponse = final;
    // an INVITE client keeps its request: a retransmitted non-2xx is ACKed again from it
    this.#release(tx, !tx.isInvite);
    this.#toUpstream(tx, final);
    if (tx.isInvite) {
      const t1 = this.core.config.t1;
      tx.retransmitInterval = t1;
      const again = (): void => {
        if (tx.state !== ServerState.Completed || !tx.lastResponse) return;
        this.core.counters.inc('retrans_sent');
        this.#toUpstream(tx, tx.lastResponse);
        tx.retransmitInterval = Math.min(tx.retransmitInterval * 2, this.core.config.t2); // Timer G
        tx.retransmit = this.core.timers.set(tx.retransmitInterval, again);
      };
      tx.retransmit = this.core.timers.set(t1, again);
    }
    this.#expire(tx);
  }

  /** A final answer made here (408, 487, 503...) from the stored request. */
  #finishLocal(tx: ServerTx, status: number): void {
    this.#reparser.exec(tx.request);
    const out = buildResponse(tx.request, this.#reparser.table, status, reasonPhrase(status), {
      toTag: `slb${tx.key.length.toString(36)}${Math.random().toString(36).slice(2, 8)}`,
      ...(this.core.config.serverHeader ? { server: this.core.config.serverHeader } : {}),
    });
    this.core.counters.inc('local_replies');
    this.core.counters.reply(status);
    if (out) this.#finish(tx, out);
  }

  /** Drops what a final answer made useless: the stored request, the list, and the sent request. */
  #release(tx: ServerTx, clientToo: boolean): void {
    tx.request = RELEASED;
    tx.targets = [];
    if (clientToo && tx.client?.done) tx.client.sent = RELEASED;
  }

  #expire(tx: ServerTx): void {
    this.core.timers.clear(tx.lifetime);
    tx.lifetime = this.core.timers.set(64 * this.core.config.t1, () => {
      this.core.timers.clear(tx.retransmit);
      this.#servers.delete(tx.key);
      if (tx.client) this.#clients.delete(tx.client.branch);
    });
  }

  #toUpstream(tx: ServerTx, bytes: Buffer): void {
    this.core.send(bytes, tx.peer.address, tx.peer.port, tx.peer.socket, 'tx_responses');
  }

  // ---- client side ----

  /** Tries the next destination of the list; `m` is the live request view on the first try. */
  #attempt(tx: ServerTx, m?: SipMessage): void {
    const target = tx.targets[tx.next++];
    if (!target) return this.#finishLocal(tx, this.core.config.noDestCode);
    const view = m ?? this.#reparse(tx.request);
    const table = m ? this.core.parser.table : this.#reparser.table;
    const fwd = this.core.buildForward(tx.request, view, table, tx.peer, target, tx.targets[tx.next], statefulBranch());
    this.#send(tx, fwd, target);
  }

  #send(tx: ServerTx, fwd: Forward, target: RouteTarget | undefined): void {
    const t1 = this.core.config.t1;
    const c: ClientTx = {
      branch: fwd.branch,
      server: tx,
      target,
      address: fwd.address,
      port: fwd.port,
      socket: fwd.socket,
      sent: fwd.bytes,
      isInvite: tx.isInvite,
      provisional: false,
      cancelPending: false,
      done: false,
      retransmit: undefined,
      retransmitInterval: t1,
      fr: undefined,
    };
    if (tx.client) this.#clients.delete(tx.client.branch);
    tx.client = c;
    this.#clients.set(c.branch, c);
    this.core.send(c.sent, c.address, c.port, c.socket, 'tx_requests');
    const again = (): void => {
      if (c.done) return;
      this.core.counters.inc('retrans_sent');
      this.core.send(c.sent, c.address, c.port, c.socket, 'tx_requests');
      // Timer A doubles without cap; Timer E doubles up to T2, and sits at T2 after a provisional
      c.retransmitInterval = c.isInvite ? c.retransmitInterval * 2 : Math.min(c.retransmitInterval * 2, this.core.config.t2);
      c.retransmit = this.core.timers.set(c.retransmitInterval, again);
    };
    c.retransmit = this.core.timers.set(t1, again);
    c.fr = this.core.timers.set(this.core.config.frTimer, () => this.#timeout(c));
  }

  #finishClient(c: ClientTx): void {
    c.done = true;
    this.core.timers.clear(c.retransmit);
    this.core.timers.clear(c.fr);
    c.retransmit = undefined;
    c.fr = undefined;
  }

  /** No final response in time: CANCEL what rings, then fail over or answer 408 (or 487 if canceled). */
  #timeout(c: ClientTx): void {
    if (c.done) return;
    const tx = c.server;
    this.#finishClient(c);
    this.core.counters.inc('timeout');
    if (c.isInvite && c.provisional) this.#sendCancel(c);
    if (this.#failover(tx, c, 408)) return;
    if (tx.lastFinal && !tx.canceled) return this.#finish(tx, tx.lastFinal);
    this.#finishLocal(tx, tx.canceled ? 487 : 408);
  }

  /** Moves to the next destination when the code calls for it; true when it did. */
  #failover(tx: ServerTx, c: ClientTx, status: number): boolean {
    const cfg = this.core.config;
    if (tx.canceled || tx.targets.length === 0 || !cfg.failover || !cfg.isFailoverCode(status)) return false;
    if (c.target && cfg.markFailed) this.core.dispatcher.mark(c.target, cfg.markFailed);
    if (tx.next >= tx.targets.length) {
      this.core.counters.inc('failover_exhausted');
      return false;
    }
    this.core.counters.inc('failover');
    this.#attempt(tx);
    return true;
  }

  #cancel(tx: ServerTx): void {
    tx.canceled = true;
    const c = tx.client;
    if (!c || c.done) return;
    if (c.provisional) this.#sendCancel(c);
    else c.cancelPending = true; // RFC 3261 9.1: not before a provisional response
  }

  #sendCancel(c: ClientTx): void {
    c.cancelPending = false;
    const cancel = buildCancel(c.sent);
    if (cancel) this.core.send(cancel, c.address, c.port, c.socket, 'tx_requests');
  }

  #ack(c: ClientTx, response: SipMessage): void {
    const ack = buildAck(c.sent, response.to.raw);
    if (ack) this.core.send(ack, c.address, c.port, c.socket, 'tx_requests');
  }

  #reparse(bytes: Uint8Array): SipMessage {
    this.#reparser.exec(bytes);
    return this.#reparser.view();
  }
}

function keyOf(m: SipMessage, method: string): string {
  const via = m.via;
  const sentBy = via ? `${via.host}:${via.port || 5060}` : '';
  return serverKey(via?.branch, sentBy, method, m.callId, m.cseq.number, m.from.tag);
}
