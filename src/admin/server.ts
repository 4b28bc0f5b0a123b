// The control channel (SIPLB_ADMIN): HTTP on the main thread, off the data path. JSON-RPC 2.0 at
// POST /RPC with Kamailio's method names (rpc.ts, dispatcher-methods.ts), the same methods as REST
// under /api/ (rest.ts), what `siplb ctl` talks to. With SIPLB_ADMIN_TOKEN set, every request on
// every path must carry it as a bearer token (http.ts), except the live page's static files (GET /
// and /ui/*, page.ts: they hold no data and a browser cannot send a token when it navigates);
// without a token the address is loopback only (config/parse.ts adminAddress).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { ListenOptions } from 'node:net';
import type { AdminAddress } from '../config/types.js';
import type { DestinationRecord } from '../dispatch/list-file.js';
import { SiplbBindError } from '../errors.js';
import type { DestTable } from '../shared/dest-table.js';
import type { BindingTable } from '../shared/binding-table.js';
import { dispatcherMethods } from './dispatcher-methods.js';
import { bearerCheck, readBody, refuseTooLarge, refuseUnauthorized, sendJson } from './http.js';
import { REST_PREFIX, handleRest } from './rest.js';
import { PARSE_ERROR, RpcRegistry, type RpcMethod } from './rpc.js';
import type { ListService } from '../list/service.js';
import { listMethods } from './list-methods.js';
import { handleObservability, type MetricsSource } from './metrics.js';
import { latencyMethods } from './latency-api.js';
import type { DestEvent } from '../events/event.js';
import { overviewMethods } from './overview.js';
import { servePage } from './page.js';

/**
 * What the control channel serves, read at each request. The fields other modules fill:
 * - `records` and `states`: functions, because a reload replaces the list and its table;
 * - `stats`: siplb.stats (server.ts stats());
 * - `pingActive`: dispatcher.ping_active: returns the keepalive switch as it was, and sets it when
 *   given a value;
 * - `methods`: more JSON-RPC methods by name (reload, latency, routes...), also served as REST by
 *   the rule of rest.ts; a name the dispatcher methods already use is a start-up error.
 */
export interface AdminSources {
  readonly records: () => readonly DestinationRecord[];
  readonly states: () => DestTable;
  readonly latency: boolean;
  readonly bindings?: BindingTable;
  readonly stats?: () => Promise<unknown>;
  readonly pingActive?: (set?: boolean) => boolean;
  readonly methods?: ReadonlyMap<string, RpcMethod>;
  /** dispatcher.reload, dispatcher.add, dispatcher.remove (list-methods.ts). */
  readonly list?: ListService;
  /** Stats and latency of the running proxy: /metrics, /api/latency, siplb.latency (metrics.ts). */
  readonly metrics?: MetricsSource;
  /** The last dst-down/dst-up events (events/hub.ts recent()): siplb.events, siplb.overview. */
  readonly events?: () => readonly DestEvent[];
}

export interface AdminOptions {
  /** SIPLB_REUSE_PORT. */
  readonly reusePort?: boolean;
  /** SIPLB_ADMIN_TOKEN: required as `Authorization: Bearer <token>` on every request. */
  readonly token?: string | undefined;
}

export interface AdminServer {
  readonly port: number;
  /** The method table both /RPC and /api/ serve. */
  readonly rpc: RpcRegistry;
  close(): Promise<void>;
}

/**
 * `reusePort` (SIPLB_REUSE_PORT): the control channel's port is shared as the SIP sockets are, so
 * the new siplb of a restart without a gap binds it while the old one still runs.
 */
export async function startAdmin(address: AdminAddress, src: AdminSources, opts: AdminOptions = {}): Promise<AdminServer> {
  const rpc = new RpcRegistry().add(dispatcherMethods(src)).add(src.methods ?? []);
  if (src.list) rpc.add(listMethods(src.list));
  const metrics = src.metrics;
  if (metrics) rpc.add(latencyMethods({ ...src, metrics })).add(overviewMethods({ ...src, metrics }));
  const authorized = bearerCheck(opts.token);
  const server = createServer((req, res) => {
    // before the token check on purpose: fixed files, no data (page.ts says why)
    if (servePage(req, res)) return;
    if (authorized !== undefined && !authorized(req)) return refuseUnauthorized(res);
    handle(req, res, rpc, src).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: `internal error: ${String(err)}` });
      else res.destroy();
    });
  });
  server.headersTimeout = 5000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new SiplbBindError('SIPLB_ADMIN', `http:${address.host}:${address.port}`, err.code ?? 'EADDRINUSE', { cause: err }));
    });
    // reusePort is Node 22.12+ (config refuses SIPLB_REUSE_PORT before that); @types/node 20 lacks it
    server.listen({ port: address.port, host: address.host, ...(opts.reusePort === true ? { reusePort: true } : {}) } as ListenOptions, () => resolve());
  });
  const bound = server.address();
  return {
    port: typeof bound === 'object' && bound !== null ? bound.port : address.port,
    rpc,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, rpc: RpcRegistry, src: AdminSources): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://admin');
  // /metrics (Prometheus) and /api/latency (JSON, HDR text, reset) answer in their own formats
  if (await handleObservability(req, res, src)) return;
  if (url.pathname === '/RPC') {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'JSON-RPC 2.0: use POST /RPC' }, { allow: 'POST' });
    const body = await readBody(req);
    if (body === undefined) return refuseTooLarge(res);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return sendJson(res, 200, { jsonrpc: '2.0', error: { code: PARSE_ERROR, message: 'Parse error: the body is not JSON' }, id: null });
    }
    const answer = await rpc.handle(parsed);
    if (answer === undefined) {
      res.writeHead(204, { 'cache-control': 'no-store' }); // only notifications: nothing to say (spec §6)
      return void res.end();
    }
    return sendJson(res, 200, answer);
  }
  if (url.pathname.startsWith(REST_PREFIX)) return handleRest(req, res, url, rpc);
  sendJson(res, 404, { error: `no ${req.method ?? ''} ${url.pathname}; try POST /RPC or GET /api/dispatcher/list` });
}
