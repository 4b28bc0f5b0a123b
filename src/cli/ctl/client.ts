// `siplb ctl`'s side of the control channel: JSON-RPC 2.0 over POST /RPC, with the bearer token
// from SIPLB_ADMIN_TOKEN. Every failure is one SiplbCtlError line naming the address: no siplb
// there, a refused token, an error the method answered.
import { request } from 'node:http';
import type { AdminAddress } from '../../config/parse.js';
import { SiplbCtlError } from '../../errors.js';

export interface RpcCall {
  readonly method: string;
  readonly params?: unknown[] | Record<string, unknown>;
}

export class AdminClient {
  readonly where: string;

  constructor(
    readonly address: AdminAddress,
    readonly token: string | undefined,
  ) {
    this.where = `${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
  }

  /** One method; its result, or a SiplbCtlError with the method's error message. */
  async call(method: string, params: unknown[] | Record<string, unknown> = []): Promise<unknown> {
    const [r] = await this.batch([{ method, params }]);
    return r;
  }

  /** Several methods in one batch, run in order by siplb; their results in the same order. */
  async batch(calls: readonly RpcCall[]): Promise<unknown[]> {
    const body = calls.map((c, id) => ({ jsonrpc: '2.0', method: c.method, params: c.params ?? [], id }));
    const answer = await this.#post('/RPC', JSON.stringify(body));
    if (!Array.isArray(answer)) throw new SiplbCtlError(`siplb on ${this.where}: ${describe(answer)}`);
    return calls.map((c, id) => {
      const r = (answer as Array<{ id?: unknown; result?: unknown; error?: { message?: string } }>).find((x) => x.id === id);
      if (r === undefined) throw new SiplbCtlError(`siplb on ${this.where} did not answer ${c.method}`);
      if (r.error !== undefined) throw new SiplbCtlError(`${c.method}: ${r.error.message ?? JSON.stringify(r.error)}`);
      return r.result;
    });
  }

  #post(path: string, body: string): Promise<unknown> {
    const a = this.address;
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
      if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
      const req = request({ host: a.host, port: a.port, path, method: 'POST', headers, timeout: 5000 }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          if (res.statusCode === 401) {
            const why = this.token === undefined ? 'it needs a token: set SIPLB_ADMIN_TOKEN' : 'SIPLB_ADMIN_TOKEN is not the one it has';
            return reject(new SiplbCtlError(`siplb on ${this.where} refused the request (401): ${why}`));
          }
          if (res.statusCode !== 200) return reject(new SiplbCtlError(`siplb on ${this.where} answered ${res.statusCode}: ${text.slice(0, 200)}`));
          try {
            resolve(JSON.parse(text));
          } catch (err) {
            reject(new SiplbCtlError(`siplb on ${this.where} sent something that is not JSON`, { cause: err }));
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error('no answer in 5 s')));
      req.on('error', (err: NodeJS.ErrnoException) => reject(new SiplbCtlError(`no siplb control channel on ${this.where} (SIPLB_ADMIN): ${err.code ?? err.message}`, { cause: err })));
      req.end(body);
    });
  }
}

function describe(answer: unknown): string {
  const e = (answer as { error?: { message?: string } } | null)?.error;
  return e?.message ?? `an answer that is not a JSON-RPC batch: ${JSON.stringify(answer).slice(0, 200)}`;
}
