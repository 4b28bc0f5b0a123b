// The control channel's HTTP plumbing: the bearer token check (SIPLB_ADMIN_TOKEN), bounded bodies
// and JSON answers. No framework: four paths do not need one, and the admin server must start in a
// process that has nothing else to load.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Requests larger than this are refused (413): the channel takes commands, not uploads. */
export const MAX_BODY = 64 * 1024;

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * A check of `Authorization: Bearer <token>` against `token`, or undefined when there is no token.
 * Both sides are hashed first, so timingSafeEqual compares equal lengths and the time taken says
 * nothing about the token, not even its length.
 */
export function bearerCheck(token: string | undefined): ((req: IncomingMessage) => boolean) | undefined {
  if (token === undefined) return undefined;
  const want = digest(token);
  return (req) => {
    const m = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '');
    return timingSafeEqual(digest(m?.[1] ?? ''), want) && m !== null;
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

export function refuseUnauthorized(res: ServerResponse): void {
  // the body is not read: close the connection rather than leave it unread in the socket
  sendJson(res, 401, { error: 'missing or wrong bearer token (Authorization: Bearer <SIPLB_ADMIN_TOKEN>)' }, { 'www-authenticate': 'Bearer realm="siplb"', connection: 'close' });
}

export function refuseTooLarge(res: ServerResponse): void {
  sendJson(res, 413, { error: `request body over ${MAX_BODY} bytes` }, { connection: 'close' });
}

/** The body as text, or undefined when it is over MAX_BODY (announced or sent). */
export async function readBody(req: IncomingMessage): Promise<string | undefined> {
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY) return undefined;
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
