// The local control channel (SIPLB_ADMIN, loopback only until it has a token): HTTP on the main
// thread, off the data path. It serves what `siplb ctl` reads; the management issue grows it into
// the full API. GET /api/dispatcher/list returns dispatcher.list; POST /RPC answers JSON-RPC 2.0
// `dispatcher.list` (the shape Kamailio's jsonrpcs module gives), `dispatcher.oclist` and
// `siplb.oc_set_attrs` (algorithm 64's overload reports).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { ListenOptions } from 'node:net';
import type { AdminAddress } from '../config/types.js';
import type { DestinationRecord } from '../dispatch/list-file.js';
import { SiplbBindError } from '../errors.js';
import type { DestTable } from '../shared/dest-table.js';
import type { BindingTable } from '../shared/binding-table.js';
import { dispatcherList } from './dispatcher-list.js';
import type { RoutesAnswer } from './routes.js';
import { buildSets } from '../dispatch/sets.js';
import { ocList, ocSetAttrs } from '../dispatch/overload-control.js';
import { flatten } from '../proxy/targets.js';

export interface AdminSources {
  readonly records: readonly DestinationRecord[];
  readonly states: DestTable;
  readonly latency: boolean;
  readonly bindings?: BindingTable;
  /** `siplb.routes` and GET /api/routes: the routing rules with their hit counts (admin/routes.ts). */
  readonly routes?: () => Promise<RoutesAnswer>;
}

/** Requests larger than this are refused (413): the channel takes commands, not uploads. */
const MAX_BODY = 64 * 1024;

export interface AdminServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * `reusePort` (SIPLB_REUSE_PORT): the control channel's port is shared as the SIP sockets are, so
 * the new siplb of a restart without a gap binds it while the old one still runs.
 */
export async function startAdmin(address: AdminAddress, src: AdminSources, reusePort = false): Promise<AdminServer> {
  const server = createServer((req, res) => void handle(req, res, src));
  server.headersTimeout = 5000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new SiplbBindError('SIPLB_ADMIN', `http:${address.host}:${address.port}`, err.code ?? 'EADDRINUSE', { cause: err }));
    });
    // reusePort is Node 22.12+ (config refuses SIPLB_REUSE_PORT before that); @types/node 20 lacks it
    server.listen({ port: address.port, host: address.host, ...(reusePort ? { reusePort: true } : {}) } as ListenOptions, () => resolve());
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

/**
 * Algorithm 64's overload reports at run time: dispatcher.oclist [set] as Kamailio answers it, and
 * siplb.oc_set_attrs [set, uri, rate, validity ms, seq], Kamailio's ds_oc_set_attrs (a script
 * function there, an RPC here) for a monitor that reads a media server's load.
 */
function overloadCall(method: string, params: unknown[], src: AdminSources): { result: unknown } | { error: { code: number; message: string } } {
  const flat = flatten(buildSets(src.records));
  const invalid = (message: string) => ({ error: { code: -32602, message } });
  const setId = params[0];
  if (typeof setId !== 'number' || !Number.isInteger(setId)) return invalid('params[0] must be a set id (an integer)');
  if (!flat.some((d) => d.setId === setId)) return invalid(`unknown set ${setId}`);
  if (method === 'dispatcher.oclist') return { result: { SET: setId, TARGETS: ocList(src.states, flat, setId, Date.now()) } };
  const [, uri, rate, validityMs, seq] = params;
  if (typeof uri !== 'string') return invalid('params[1] must be a destination URI');
  if (typeof rate !== 'number' || rate < 0 || rate > 100) return invalid('params[2] must be a rate from 0 to 100');
  if (typeof validityMs !== 'number') return invalid('params[3] must be a validity in ms');
  if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 1) return invalid('params[4] must be a sequence number >= 1');
  if (!flat.some((d) => d.setId === setId && d.uri.toLowerCase() === uri.toLowerCase())) return invalid(`unknown destination ${uri} in set ${setId}`);
  return { result: { TAKEN: ocSetAttrs(src.states, flat, setId, uri, { rate, validityMs, seq }, Date.now()) } };
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
  if (req.method === 'GET' && path === '/api/routes' && src.routes) return send(res, 200, await src.routes());
  if (req.method === 'POST' && path === '/RPC') {
    const body = await readBody(req);
    if (body === undefined) return send(res, 413, { error: `request body over ${MAX_BODY} bytes` });
    let call: { jsonrpc?: unknown; method?: unknown; id?: unknown; params?: unknown };
    try {
      call = JSON.parse(body) as typeof call;
    } catch {
      return send(res, 200, { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null });
    }
    const id = typeof call.id === 'string' || typeof call.id === 'number' ? call.id : null;
    if (call.method === 'dispatcher.list') return send(res, 200, { jsonrpc: '2.0', result: list(), id });
    if (call.method === 'siplb.routes' && src.routes) return send(res, 200, { jsonrpc: '2.0', result: await src.routes(), id });
    if (call.method === 'dispatcher.oclist' || call.method === 'siplb.oc_set_attrs') {
      const answer = overloadCall(call.method, Array.isArray(call.params) ? (call.params as unknown[]) : [], src);
      return send(res, 200, 'error' in answer ? { jsonrpc: '2.0', error: answer.error, id } : { jsonrpc: '2.0', result: answer.result, id });
    }
    return send(res, 200, { jsonrpc: '2.0', error: { code: -32601, message: `Method not found: ${String(call.method)}` }, id });
  }
  send(res, 404, { error: `no ${req.method ?? ''} ${path}; try GET /api/dispatcher/list` });
}
