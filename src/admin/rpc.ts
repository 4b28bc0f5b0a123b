// The JSON-RPC 2.0 method registry behind the control channel (https://www.jsonrpc.org/specification):
// one table of methods by name serves POST /RPC (single calls and batches) and the REST mapping
// (rest.ts), so a method added here is reachable both ways. Kamailio's jsonrpcs takes params as an
// array in the order kamcmd uses; a method that declares its parameter names also takes them as a
// named object, turned into that array before its handler runs.

export type RpcParams = unknown[] | Record<string, unknown>;
export type RpcHandler = (params: RpcParams) => unknown;

export interface RpcMethod {
  /** Gets the positional array (or the raw params when `params` is not declared); may return a promise. */
  readonly handler: RpcHandler;
  /** Parameter names in Kamailio's positional order; a named object is mapped onto them. */
  readonly params?: readonly string[];
  /** Changes nothing: REST serves it on GET (query parameters) as well as POST. */
  readonly readOnly?: boolean;
  /** One line for `siplb ctl` help and the README table. */
  readonly summary?: string;
}

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;

/** A JSON-RPC error a handler throws: it becomes the response's `error` member. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

export const invalidParams = (message: string): RpcError => new RpcError(INVALID_PARAMS, message);

type Id = string | number | null;
export type RpcResponse = { jsonrpc: '2.0'; result: unknown; id: Id } | { jsonrpc: '2.0'; error: { code: number; message: string }; id: Id };

const failure = (code: number, message: string, id: Id): RpcResponse => ({ jsonrpc: '2.0', error: { code, message }, id });

/** Most calls one batch may carry: the body is bounded anyway, this bounds the work per request. */
export const MAX_BATCH = 100;

export class RpcRegistry {
  readonly #methods = new Map<string, RpcMethod>();

  /** Adds methods; a name already taken is a programmer error. */
  add(methods: Iterable<readonly [string, RpcMethod]>): this {
    for (const [name, m] of methods) {
      if (this.#methods.has(name)) throw new Error(`RPC method ${name} registered twice`);
      this.#methods.set(name, m);
    }
    return this;
  }

  get(name: string): RpcMethod | undefined {
    return this.#methods.get(name);
  }

  names(): string[] {
    return [...this.#methods.keys()].sort();
  }

  /**
   * Runs method `name` with `params` (absent = no parameters); throws RpcError. Shared by the
   * JSON-RPC and REST paths, so both check parameters the same way.
   */
  async call(name: string, params: unknown): Promise<unknown> {
    const m = this.#methods.get(name);
    if (m === undefined) throw new RpcError(METHOD_NOT_FOUND, `Method not found: ${name}`);
    if (params !== undefined && (typeof params !== 'object' || params === null)) throw new RpcError(INVALID_REQUEST, 'params must be an array or an object');
    const given = (params ?? []) as RpcParams;
    return await m.handler(m.params === undefined || Array.isArray(given) ? given : positional(name, m.params, given));
  }

  /**
   * A parsed request body: one call or a batch. Returns what to send, or undefined when nothing is
   * (only notifications). An empty batch is one Invalid Request, not an empty array (spec §6).
   */
  async handle(body: unknown): Promise<RpcResponse | RpcResponse[] | undefined> {
    if (!Array.isArray(body)) return this.#one(body);
    if (body.length === 0) return failure(INVALID_REQUEST, 'Invalid Request: empty batch', null);
    if (body.length > MAX_BATCH) return failure(INVALID_REQUEST, `Invalid Request: batch of ${body.length} calls, at most ${MAX_BATCH}`, null);
    const out: RpcResponse[] = [];
    // in order, one after another: a batch that disables then lists sees its own change
    for (const call of body) {
      const r = await this.#one(call);
      if (r !== undefined) out.push(r);
    }
    return out.length === 0 ? undefined : out;
  }

  async #one(call: unknown): Promise<RpcResponse | undefined> {
    if (typeof call !== 'object' || call === null || Array.isArray(call)) return failure(INVALID_REQUEST, 'Invalid Request: not an object', null);
    const c = call as { jsonrpc?: unknown; method?: unknown; params?: unknown; id?: unknown };
    const hasId = 'id' in c;
    const idOk = c.id === null || typeof c.id === 'string' || (typeof c.id === 'number' && Number.isFinite(c.id));
    const id: Id = hasId && idOk ? (c.id as Id) : null;
    if (hasId && !idOk) return failure(INVALID_REQUEST, 'Invalid Request: id must be a string, a number or null', null);
    if (c.jsonrpc !== '2.0') return failure(INVALID_REQUEST, 'Invalid Request: jsonrpc must be "2.0"', id);
    if (typeof c.method !== 'string') return failure(INVALID_REQUEST, 'Invalid Request: method must be a string', id);
    if (c.params !== undefined && (typeof c.params !== 'object' || c.params === null)) return failure(INVALID_REQUEST, 'Invalid Request: params must be an array or an object', id);
    let response: RpcResponse;
    try {
      response = { jsonrpc: '2.0', result: (await this.call(c.method, c.params)) ?? null, id };
    } catch (err) {
      response = err instanceof RpcError ? failure(err.code, err.message, id) : failure(INTERNAL_ERROR, `Internal error: ${(err as Error).message ?? String(err)}`, id);
    }
    return hasId ? response : undefined; // a notification gets no answer, even an error (spec §4.1)
  }
}

/** A named object as the positional array `names` orders; unknown names are refused, not ignored. */
function positional(method: string, names: readonly string[], given: Record<string, unknown>): unknown[] {
  const unknown = Object.keys(given).find((k) => !names.includes(k));
  if (unknown !== undefined) throw invalidParams(`unknown parameter '${unknown}': ${method} takes ${names.length === 0 ? 'none' : names.join(', ')}`);
  const out = names.map((n) => given[n]);
  while (out.length > 0 && out[out.length - 1] === undefined) out.pop();
  return out;
}

/** An integer parameter: a JSON number or a decimal string (kamcmd and query strings send text). */
export function intParam(v: unknown, what: string): number {
  const n = typeof v === 'string' && /^-?[0-9]{1,15}$/.test(v.trim()) ? Number(v.trim()) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw invalidParams(`${what} must be an integer, got ${JSON.stringify(v) ?? 'nothing'}`);
  return n;
}

export function stringParam(v: unknown, what: string): string {
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string' || v === '') throw invalidParams(`${what} must be a non-empty string, got ${JSON.stringify(v) ?? 'nothing'}`);
  return v;
}

/** The positional array of a method that declared its names (the registry made it one). */
export function args(params: RpcParams): unknown[] {
  return Array.isArray(params) ? params : [];
}
