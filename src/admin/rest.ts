// The same methods as plain REST/JSON, for people and tools that would rather not speak JSON-RPC.
// One rule maps them: method `group.name` is at /api/group/name (siplb's own `siplb.name` also at
// /api/name). Read-only methods answer GET with their parameters in the query string, and POST;
// the others POST only, parameters as a JSON object by name (or an array in Kamailio's order).
// The answer is the method's result itself; errors are {"error": message, "code": JSON-RPC code}
// with 400 (bad parameters or body), 404 (no such method), 405 (GET on a method that changes
// something), 500 (the method failed).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR, RpcError, type RpcRegistry } from './rpc.js';
import { readBody, refuseTooLarge, sendJson } from './http.js';

export const REST_PREFIX = '/api/';

/** The RPC method a REST path names, or undefined. */
export function restMethod(path: string, rpc: RpcRegistry): string | undefined {
  if (!path.startsWith(REST_PREFIX)) return undefined;
  const parts = path.slice(REST_PREFIX.length).split('/').filter((p) => p !== '');
  if (parts.length === 2) return `${parts[0]}.${parts[1]}`;
  if (parts.length === 1 && rpc.get(`siplb.${parts[0]}`) !== undefined) return `siplb.${parts[0]}`;
  return undefined;
}

/** The REST path of an RPC method (for listings and the README). */
export function restPath(method: string): string {
  return `${REST_PREFIX}${method.replace('.', '/')}`;
}

const STATUS: Readonly<Record<number, number>> = { [PARSE_ERROR]: 400, [INVALID_REQUEST]: 400, [INVALID_PARAMS]: 400, [METHOD_NOT_FOUND]: 404 };

export async function handleRest(req: IncomingMessage, res: ServerResponse, url: URL, rpc: RpcRegistry): Promise<void> {
  const name = restMethod(url.pathname, rpc);
  const m = name === undefined ? undefined : rpc.get(name);
  if (name === undefined || m === undefined) {
    return sendJson(res, 404, { error: `no method at ${url.pathname}; methods: ${rpc.names().map(restPath).join(', ')}`, code: METHOD_NOT_FOUND });
  }
  let params: unknown;
  if (req.method === 'GET') {
    if (m.readOnly !== true) return sendJson(res, 405, { error: `${name} changes state: use POST ${url.pathname}` }, { allow: 'POST' });
    params = Object.fromEntries(url.searchParams);
  } else if (req.method === 'POST') {
    const body = await readBody(req);
    if (body === undefined) return refuseTooLarge(res);
    if (body.trim() !== '') {
      try {
        params = JSON.parse(body);
      } catch {
        return sendJson(res, 400, { error: 'the body is not JSON', code: PARSE_ERROR });
      }
      if (typeof params !== 'object' || params === null) return sendJson(res, 400, { error: 'the body must be a JSON object (or an array)', code: INVALID_REQUEST });
    }
  } else {
    return sendJson(res, 405, { error: `use ${m.readOnly === true ? 'GET or POST' : 'POST'}` }, { allow: m.readOnly === true ? 'GET, POST' : 'POST' });
  }
  try {
    sendJson(res, 200, (await rpc.call(name, params)) ?? null);
  } catch (err) {
    if (err instanceof RpcError) return sendJson(res, STATUS[err.code] ?? 500, { error: err.message, code: err.code });
    sendJson(res, 500, { error: `internal error: ${(err as Error).message ?? String(err)}` });
  }
}
