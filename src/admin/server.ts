// The local control channel (SIPLB_ADMIN, loopback only until it has a token): HTTP on the main
// thread, off the data path. It serves what `siplb ctl` reads; the management issue grows it into
// the full API. GET /api/dispatcher/list returns dispatcher.list; POST /RPC answers the same as
// JSON-RPC 2.0 method `dispatcher.list`, the shape Kamailio's jsonrpcs module gives.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AdminAddress } from '../config/types.js';
import type { DestinationRecord } from '../dispatch/list-file.js';
import { SiplbBindError } from '../errors.js';
import type { DestTable } from '../shared/dest-table.js';
import type { BindingTable } from '../shared/binding-table.js';
import { dispatcherList } from './dispatcher-list.js';

export interface AdminSources {
  readonly records: readonly DestinationRecord[];
  readonly states: DestTable;
  readonly latency: boolean;
  readonly bindings?: BindingTable;
}

/** Requests larger than this are refused (413): the channel takes commands, not uploads. */
const MAX_BODY = 64 * 1024;

export interface AdminServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startAdmin(address: AdminAddress, src: AdminSources): Promise<AdminServer> {
  const server = createServer((req, res) => void handle(req, res, src));
  server.headersTimeout = 5000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new SiplbBindError('SIPLB_ADMIN', `http:${address.host}:${address.port}`, err.code ?? 'EADDRINUSE', { cause: err }));
    });
    server.listen(address.port, address.host, () => resolve());
  });
  const bound = server.address();
  return {
    port: typeof bound === 'object' && bound !== null ? bound.port : address.port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function handle(req: IncomingMessage, res: ServerResponse, src: AdminSources): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  const list = (): unknown => dispatcherList(src.records, src.states, src.latency, src.bindings);
  if (req.method === 'GET' && path === '/api/dispatcher/list') return send(res, 200, list());
  if (req.method === 'POST' && path === '/RPC') {
    const body = await readBody(req);
    if (body === undefined) return send(res, 413, { error: `request body over ${MAX_BODY} bytes` });
    let call: { jsonrpc?: unknown; method?: unknown; id?: unknown };
    try {
      call = JSON.parse(body) as typeof call;
    } catch {
      return send(res, 200, { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null });
    }
    const id = typeof call.id === 'string' || typeof call.id === 'number' ? call.id : null;
    if (call.method === 'dispatcher.list') return send(res, 200, { jsonrpc: '2.0', result: list(), id });
    return send(res, 200, { jsonrpc: '2.0', error: { code: -32601, message: `Method not found: ${String(call.method)}` }, id });
  }
  send(res, 404, { error: `no ${req.method ?? ''} ${path}; try GET /api/dispatcher/list` });
}
