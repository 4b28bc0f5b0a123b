// A raw UDP SIP client for driving the demo media server on 127.0.0.1: sends request text, collects
// every reply parsed into plain objects (copied out of the parser, whose views go stale on reuse).
import { createSocket, type Socket } from 'node:dgram';
import { createParser } from '../../../src/parser/index.js';

export interface Reply {
  status: number;
  cseq: string;
  toTag: string | undefined;
  headers: Map<string, string[]>;
  body: string;
  raw: string;
}

export class SipClient {
  readonly #socket: Socket;
  readonly #parser = createParser();
  readonly replies: Reply[] = [];
  #waiters: Array<() => void> = [];

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('message', (bytes) => {
      const msg = this.#parser.parse(bytes);
      if (!msg.ok || msg.isRequest) throw new Error(`unexpected datagram:\n${bytes.toString()}`);
      const headers = new Map<string, string[]>();
      for (const h of msg.headerEntries()) headers.set(h.canonicalName, [...(headers.get(h.canonicalName) ?? []), ...h.values]);
      this.replies.push({
        status: msg.status,
        cseq: `${msg.cseq.number} ${msg.cseq.method}`,
        toTag: msg.to.tag,
        headers,
        body: Buffer.from(msg.body).toString(),
        raw: bytes.toString(),
      });
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  static async open(): Promise<SipClient> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new SipClient(socket);
  }

  get port(): number {
    return this.#socket.address().port;
  }

  send(text: string, port: number): void {
    this.#socket.send(Buffer.from(text), port, '127.0.0.1');
  }

  /** Waits until `count` replies match `pred` (default 1); fails after timeoutMs. */
  async waitFor(pred: (r: Reply) => boolean, count = 1, timeoutMs = 2_000): Promise<Reply[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.replies.filter(pred);
      if (found.length >= count) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${count} replies; got:\n${this.replies.map((r) => r.raw.split('\r\n')[0]).join('\n')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  count(pred: (r: Reply) => boolean): number {
    return this.replies.filter(pred).length;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface RequestSpec {
  method: string;
  callId: string;
  cseq: number;
  branch: string;
  clientPort: number;
  serverPort: number;
  toTag?: string;
  extraHeaders?: string[];
  /** CSeq method when it differs from the request method (never, except for tests of mistakes). */
  cseqMethod?: string;
}

/** A request as a UAC behind a proxy would send it: two Via values on one line, as SIPp writes them. */
export function request(s: RequestSpec): string {
  const to = `<sip:demo@127.0.0.1:${s.serverPort}>${s.toTag === undefined ? '' : `;tag=${s.toTag}`}`;
  return [
    `${s.method} sip:demo@127.0.0.1:${s.serverPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${s.clientPort};branch=${s.branch};rport, SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKuac`,
    'Max-Forwards: 70',
    `From: <sip:caller@127.0.0.1>;tag=from1`,
    `To: ${to}`,
    `Call-ID: ${s.callId}`,
    `CSeq: ${s.cseq} ${s.cseqMethod ?? s.method}`,
    `Contact: <sip:caller@127.0.0.1:${s.clientPort}>`,
    ...(s.extraHeaders ?? []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}
