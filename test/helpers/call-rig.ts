// Whole calls through a siplb process on real UDP, for the tests of the algorithms that depend on
// call state (10, 11): destinations that answer each INVITE by a rule of the test, a caller that
// places calls one at a time, ACKs, hangs up and cancels, and Call-IDs chosen for the dispatch
// worker they shard to (src/transport/shard.ts), so a test knows which worker handles which call.
import { fnv1a } from '../../src/transport/shard.js';
import { headerValues } from './sip-messages.js';
import { Peer, answer, type Received } from './udp-peer.js';

/** What a destination does with an INVITE: a final status, or 'ring' (180, then only a CANCEL ends it). */
export type Rule = (callId: string) => number | 'ring';

/** A destination: answers INVITEs by `rule`, BYE and CANCEL with 200 (and the INVITE it cancels with 487). */
export async function destination(rule: Rule = () => 200): Promise<Peer> {
  const uas = await Peer.open();
  const pending = new Map<string, string>();
  uas.onMessage = (r) => {
    const method = r.first.split(' ')[0];
    if (r.first.startsWith('SIP/2.0') || method === 'ACK') return;
    const callId = headerValues(r.text, 'Call-ID')[0] ?? '';
    const reply = (text: string, status: number, reason: string): void =>
      uas.send(answer(text, status, reason, { toTag: `uas${uas.port}`, contact: `<sip:ms@127.0.0.1:${uas.port}>` }), r.from.port, r.from.address);
    if (method === 'INVITE') {
      const what = rule(callId);
      if (what === 'ring') {
        pending.set(callId, r.text);
        reply(r.text, 180, 'Ringing');
      } else reply(r.text, what, what === 200 ? 'OK' : 'Failed');
      return;
    }
    reply(r.text, 200, 'OK');
    const invite = pending.get(callId);
    if (method === 'CANCEL' && invite !== undefined) {
      pending.delete(callId);
      reply(invite, 487, 'Request Terminated');
    }
  };
  return uas;
}

/** A Call-ID that the proxy's sharding sends to dispatch worker `worker` of `workers`. */
export function callIdFor(worker: number, workers: number, tag: string): string {
  for (let k = 0; ; k++) {
    const id = `${tag}-${k}@127.0.0.1`;
    const b = Buffer.from(id);
    if (fnv1a(b, 0, b.length) % workers === worker) return id;
  }
}

export class Caller {
  constructor(
    readonly uac: Peer,
    readonly proxyPort: number,
  ) {}

  /**
   * A request of the caller's. The CANCEL and the ACK of a non-2xx share the INVITE's branch
   * (RFC 3261 9.1, 17.1.1.3); an in-dialog request (a Route given) has its own.
   */
  #request(method: string, callId: string, cseq: number, extra: string[], ruri = `sip:service@127.0.0.1:${this.proxyPort}`, to = `<sip:service@127.0.0.1:${this.proxyPort}>`): string {
    const inDialog = extra.length > 0;
    const branch = `z9hG4bK-${inDialog || (method !== 'ACK' && method !== 'CANCEL') ? method : 'INVITE'}-${callId.split('@')[0]}-${cseq}`;
    return [
      `${method} ${ruri} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${this.uac.port};branch=${branch};rport`,
      'Max-Forwards: 70',
      ...extra,
      `From: <sip:alice@127.0.0.1:${this.uac.port}>;tag=caller`,
      `To: ${to}`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} ${method}`,
      `Contact: <sip:alice@127.0.0.1:${this.uac.port}>`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  }

  /** The final response the caller got for `callId`'s INVITE, if any yet. */
  final(callId: string, method = 'INVITE'): Received | undefined {
    return this.uac.received.find((r) => /^SIP\/2\.0 [2-6]\d\d /.test(r.first) && headerValues(r.text, 'Call-ID')[0] === callId && headerValues(r.text, 'CSeq')[0]?.endsWith(method));
  }

  /** Sends the INVITE, waits for its final response, ACKs a non-2xx one; returns the status line. */
  async call(callId: string): Promise<Received> {
    this.uac.send(this.#request('INVITE', callId, 1, []), this.proxyPort);
    await this.uac.waitFor(() => this.final(callId) !== undefined, 8000);
    const final = this.final(callId)!;
    if (!final.first.startsWith('SIP/2.0 2')) this.uac.send(this.#request('ACK', callId, 1, [], undefined, headerValues(final.text, 'To')[0]), this.proxyPort);
    return final;
  }

  /** Sends the INVITE and waits until it rings (the 180 has come back). */
  async ring(callId: string): Promise<void> {
    this.uac.send(this.#request('INVITE', callId, 1, []), this.proxyPort);
    await this.uac.waitFor((all) => all.some((r) => r.first.startsWith('SIP/2.0 180') && headerValues(r.text, 'Call-ID')[0] === callId), 8000);
  }

  /** CANCELs a ringing call; resolves on its 487 (ACKed). */
  async cancel(callId: string): Promise<void> {
    this.uac.send(this.#request('CANCEL', callId, 1, []), this.proxyPort);
    await this.uac.waitFor(() => this.final(callId)?.first.startsWith('SIP/2.0 487') === true, 8000);
    this.uac.send(this.#request('ACK', callId, 1, [], undefined, headerValues(this.final(callId)!.text, 'To')[0]), this.proxyPort);
  }

  /** ACK and BYE of an answered call along the 200's Record-Route; resolves on the BYE's 200. */
  async hangUp(callId: string): Promise<void> {
    const ok = this.final(callId)!;
    const route = headerValues(ok.text, 'Record-Route').map((r) => `Route: ${r}`);
    const contact = headerValues(ok.text, 'Contact')[0]!.replace(/^<|>$/g, '');
    const to = headerValues(ok.text, 'To')[0]!;
    this.uac.send(this.#request('ACK', callId, 1, route, contact, to), this.proxyPort);
    this.uac.send(this.#request('BYE', callId, 2, route, contact, to), this.proxyPort);
    await this.uac.waitFor(() => this.final(callId, 'BYE') !== undefined, 8000);
  }
}
