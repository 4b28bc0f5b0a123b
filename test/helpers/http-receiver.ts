// A real HTTP server on 127.0.0.1 standing in for an operator's webhook receiver: it records every
// request (body included) and answers each by a rule the test sets: a status, or 'hang' (never
// answer, to exercise timeouts). Also a log that keeps its lines, for asserting on them.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Log } from '../../src/server.js';

export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** Date.now() when the body was complete. */
  readonly at: number;
}

export interface HttpReceiver {
  readonly port: number;
  readonly url: string;
  readonly requests: ReceivedRequest[];
  /** How to answer request number `n` (0-based); 200 unless the test says otherwise. */
  respond: (n: number) => number | 'hang';
  /** Most requests open at once so far. */
  readonly maxOpen: number;
  waitFor(pred: (r: ReceivedRequest[]) => boolean, ms?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(port = 0): Promise<HttpReceiver> {
  const requests: ReceivedRequest[] = [];
  let open = 0;
  let maxOpen = 0;
  const server = createServer((req, res) => {
    open++;
    maxOpen = Math.max(maxOpen, open);
    res.on('close', () => open--);
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const n = requests.length;
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, at: Date.now() });
      const answer = r.respond(n);
      if (answer === 'hang') return;
      res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const bound = (server.address() as AddressInfo).port;
  const r: HttpReceiver = {
    port: bound,
    url: `http://127.0.0.1:${bound}/siplb-events`,
    requests,
    respond: () => 200,
    get maxOpen() {
      return maxOpen;
    },
    async waitFor(pred, ms = 5000) {
      const until = Date.now() + ms;
      while (!pred(requests)) {
        if (Date.now() > until) throw new Error(`receiver: timed out with ${requests.length} requests`);
        await new Promise((res) => setTimeout(res, 10));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // hung requests too
      }),
  };
  return r;
}

/** A TCP port on 127.0.0.1 with nobody listening right now (bound, read, released). */
export async function closedTcpPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly fields: Record<string, unknown>;
}

/** The server's Log interface, keeping what it is told. */
export function memoryLog(): Log & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (msg: string, fields: Record<string, unknown> = {}) => void lines.push({ level, msg, fields });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}
