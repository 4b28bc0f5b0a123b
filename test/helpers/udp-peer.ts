// Minimal SIP peers on real UDP sockets for integration tests: a UAC that sends raw requests and
// collects what comes back, and a UAS that answers by a rule. Deliberately dumb (no transactions):
// they show exactly what the proxy put on the wire.
import { createSocket, type Socket } from 'node:dgram';
import { headerValues } from './sip-messages.js';

export interface Received {
  text: string;
  first: string;
  from: { address: string; port: number };
}

export class Peer {
  readonly received: Received[] = [];
  private waiters: Array<() => void> = [];

  private constructor(
    readonly socket: Socket,
    readonly port: number,
  ) {
    socket.on('message', (m, r) => {
      const text = m.toString('latin1');
      this.received.push({ text, first: text.split('\r\n')[0]!, from: { address: r.address, port: r.port } });
      this.onMessage?.(this.received[this.received.length - 1]!);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  onMessage: ((r: Received) => void) | undefined;

  /** `host`: any loopback address (127.0.0.0/8 is all local on Linux), to act as another source. */
  static async open(port = 0, host = '127.0.0.1'): Promise<Peer> {
    // A loopback datagram is charged about 2 KB against the receive buffer: the default (208 KB)
    // holds only ~100, and a test that sends a burst drops answers while it is still sending.
    const s = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    await new Promise<void>((r) => s.bind(port, host, r));
    return new Peer(s, s.address().port);
  }

  #closed = false;

  /** Sends a datagram; a peer closed by the test's cleanup ignores late sends (timers of the test). */
  send(text: string | Buffer, port: number, address = '127.0.0.1'): void {
    if (this.#closed) return;
    this.socket.send(typeof text === 'string' ? Buffer.from(text, 'latin1') : text, port, address);
  }

  /** Resolves when `pred` holds for the received list, or rejects after `ms`. */
  async waitFor(pred: (r: Received[]) => boolean, ms = 5000): Promise<void> {
    const until = Date.now() + ms;
    while (!pred(this.received)) {
      const left = until - Date.now();
      if (left <= 0) throw new Error(`timed out; received:\n${this.received.map((r) => r.first).join('\n')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): Promise<void> {
    this.#closed = true;
    return new Promise((r) => this.socket.close(() => r()));
  }
}

/** A response to `req` (text of a request as received): its Vias and Record-Routes copied (RFC 3261 8.2.6). */
export function answer(req: string, status: number, reason: string, opts: { toTag?: string; contact?: string } = {}): string {
  const to = headerValues(req, 'To')[0] ?? '';
  const lines = [
    `SIP/2.0 ${status} ${reason}`,
    ...headerValues(req, 'Via').map((v) => `Via: ${v}`),
    ...headerValues(req, 'Record-Route').map((v) => `Record-Route: ${v}`),
    `From: ${headerValues(req, 'From')[0] ?? ''}`,
    `To: ${to}${opts.toTag && !/;tag=/i.test(to) ? `;tag=${opts.toTag}` : ''}`,
    `Call-ID: ${headerValues(req, 'Call-ID')[0] ?? ''}`,
    `CSeq: ${headerValues(req, 'CSeq')[0] ?? ''}`,
    ...(opts.contact ? [`Contact: ${opts.contact}`] : []),
    'Content-Length: 0',
    '',
    '',
  ];
  return lines.join('\r\n');
}
