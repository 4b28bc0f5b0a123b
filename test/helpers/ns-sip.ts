// SIP peers on namespace sockets (netns.ts): a caller that places a call through siplb and sends
// in-dialog requests the way a UA does (route set from Record-Route, remote target from Contact),
// and a media server that answers what it gets (INVITE 200 with a To tag, BYE/MESSAGE/OPTIONS 200,
// REGISTER by digest authentication for one extension). Deliberately small: no retransmissions,
// no SDP; what matters is what the proxy puts on the wire.
import { createHash, randomBytes } from 'node:crypto';
import type { Datagram, NsSocket } from './netns.js';

export interface HostPort {
  host: string;
  port: number;
}

let seq = 0;
/** A fresh token for branches, tags and Call-IDs. */
export const unique = (prefix: string): string => `${prefix}${process.pid.toString(36)}${(++seq).toString(36)}${randomBytes(3).toString('hex')}`;

/** The header lines called `name` (compact form `compact` too), values only, in order. */
export function headers(text: string, name: string, compact?: string): string[] {
  // RFC 3261 7.3.1: a line that starts with a space or tab continues the header above it. A peer
  // that read it as a header of its own (as this one did until a socket fuzz seed showed it) can be
  // steered by a Via hidden in a folded Accept, which siplb, rightly, forwards as Accept.
  const head = text.split('\r\n\r\n')[0]!.replace(/\r\n[ \t]+/g, ' ').split('\r\n').slice(1);
  const names = [name.toLowerCase(), ...(compact ? [compact] : [])];
  return head.filter((l) => names.includes(l.slice(0, l.indexOf(':')).trim().toLowerCase())).map((l) => l.slice(l.indexOf(':') + 1).trim());
}

export const header = (text: string, name: string, compact?: string): string | undefined => headers(text, name, compact)[0];
export const callIdOf = (text: string): string => header(text, 'Call-ID', 'i') ?? '';
export const statusOf = (d: Datagram): number => (d.first.startsWith('SIP/2.0 ') ? Number(d.first.slice(8, 11)) : 0);
export const isRequest = (d: Datagram): boolean => !d.first.startsWith('SIP/2.0 ');
export const methodOf = (d: Datagram): string => (isRequest(d) ? d.first.split(' ')[0]! : '');

/** `;name=value` of a header value or URI. */
export function param(value: string, name: string): string | undefined {
  return new RegExp(`;\\s*${name}=([^;>,\\s]+)`, 'i').exec(value)?.[1];
}

/** The URI between < and > (or the whole value). */
export const uriOf = (value: string): string => /<([^>]*)>/.exec(value)?.[1] ?? value.split(';')[0]!.trim();

/** host and port of a SIP URI. */
export function hostPortOf(uri: string): HostPort {
  const m = /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;>?]+)(?::(\d+))?/i.exec(uri);
  return { host: m?.[1] ?? '', port: Number(m?.[2] ?? 5060) };
}

export interface RequestSpec {
  method: string;
  ruri: string;
  /** Sent-by of our Via. */
  via: HostPort;
  branch?: string;
  route?: string[];
  from: string;
  to: string;
  callId: string;
  cseq: number;
  contact?: string;
  extra?: string[];
  body?: string;
}

export function sipRequest(r: RequestSpec): string {
  const lines = [
    `${r.method} ${r.ruri} SIP/2.0`,
    `Via: SIP/2.0/UDP ${r.via.host}:${r.via.port};branch=${r.branch ?? unique('z9hG4bK-')};rport`,
    'Max-Forwards: 70',
    ...(r.route ?? []).map((v) => `Route: ${v}`),
    `From: ${r.from}`,
    `To: ${r.to}`,
    `Call-ID: ${r.callId}`,
    `CSeq: ${r.cseq} ${r.method}`,
    ...(r.contact ? [`Contact: ${r.contact}`] : []),
    ...(r.extra ?? []),
    `Content-Length: ${Buffer.byteLength(r.body ?? '')}`,
  ];
  return `${lines.join('\r\n')}\r\n\r\n${r.body ?? ''}`;
}

/** A response to `req` (RFC 3261 8.2.6: Via, From, To, Call-ID, CSeq copied; Record-Route too, 12.1.1). */
export function sipResponse(req: string, status: number, reason: string, o: { toTag?: string; contact?: string; extra?: string[] } = {}): string {
  const to = header(req, 'To', 't') ?? '';
  const lines = [
    `SIP/2.0 ${status} ${reason}`,
    ...headers(req, 'Via', 'v').map((v) => `Via: ${v}`),
    ...(status > 100 && status < 300 ? headers(req, 'Record-Route').map((v) => `Record-Route: ${v}`) : []),
    `From: ${header(req, 'From', 'f') ?? ''}`,
    `To: ${to}${o.toTag && !param(to, 'tag') ? `;tag=${o.toTag}` : ''}`,
    `Call-ID: ${callIdOf(req)}`,
    `CSeq: ${header(req, 'CSeq') ?? ''}`,
    ...(o.contact ? [`Contact: ${o.contact}`] : []),
    ...(o.extra ?? []),
    'Content-Length: 0',
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Where a response to `req` goes (RFC 3261 18.2.2, RFC 3581): top Via's received/rport, else sent-by. */
export function responseTarget(req: string): HostPort {
  const via = header(req, 'Via', 'v') ?? '';
  const sentBy = /SIP\/2\.0\/UDP\s+([^;,\s]+)/i.exec(via)?.[1] ?? '';
  const [host, port] = sentBy.startsWith('[') ? [sentBy.slice(1, sentBy.indexOf(']')), sentBy.split(']:')[1]] : sentBy.split(':');
  const rport = param(via, 'rport');
  return { host: param(via, 'received') ?? host ?? '', port: Number(rport ?? port ?? 5060) };
}

/** OPTIONS to siplb itself (no user part: siplb answers it); resolves with the round trip in ms. */
export async function pingProxy(sock: NsSocket, host: string, port: number, timeoutMs: number): Promise<number> {
  const callId = unique('ping-');
  const t0 = Date.now();
  const from = sock.received.length;
  await sock.send(
    sipRequest({ method: 'OPTIONS', ruri: `sip:${host}:${port}`, via: sock, from: `<sip:ping@${sock.address}>;tag=${unique('p')}`, to: `<sip:${host}:${port}>`, callId, cseq: 1 }),
    host,
    port,
  );
  await sock.waitFor((d) => statusOf(d) === 200 && callIdOf(d.text) === callId, timeoutMs, from);
  return Date.now() - t0;
}

/** An established dialog as its caller sees it. */
export interface Dialog {
  callId: string;
  fromTag: string;
  toTag: string;
  localUri: string;
  remoteUri: string;
  /** Route header values for in-dialog requests: Record-Route of the 2xx, reversed. */
  routeSet: string[];
  remoteTarget: string;
  /** The slb= token of siplb's Record-Route. */
  token: string | undefined;
  cseq: number;
}

/** INVITE through `proxy`, 200, ACK; rejects when no 2xx comes within `ms`. */
export async function placeCall(ua: NsSocket, proxy: HostPort, o: { ruri?: string; callId?: string; fromTag?: string; ms?: number } = {}): Promise<Dialog> {
  const callId = o.callId ?? unique('call-');
  const fromTag = o.fromTag ?? unique('c');
  const localUri = `sip:caller@${ua.address}`;
  const remoteUri = o.ruri ?? `sip:service@${proxy.host}:${proxy.port}`;
  const mark = ua.received.length;
  await ua.send(
    sipRequest({ method: 'INVITE', ruri: remoteUri, via: ua, from: `<${localUri}>;tag=${fromTag}`, to: `<${remoteUri}>`, callId, cseq: 1, contact: `<sip:caller@${ua.address}:${ua.port}>` }),
    proxy.host,
    proxy.port,
  );
  const final = await ua.waitFor((d) => callIdOf(d.text) === callId && statusOf(d) >= 200, o.ms ?? 5_000, mark);
  if (statusOf(final) >= 300) throw new Error(`INVITE answered ${final.first}`);
  const rr = headers(final.text, 'Record-Route');
  const d: Dialog = {
    callId,
    fromTag,
    toTag: param(header(final.text, 'To', 't') ?? '', 'tag') ?? '',
    localUri,
    remoteUri,
    routeSet: rr.flatMap((v) => v.split(/,(?=\s*<)/).map((x) => x.trim())).reverse(),
    remoteTarget: uriOf(header(final.text, 'Contact', 'm') ?? ''),
    token: rr.map((v) => param(v, 'slb')).find((t) => t !== undefined),
    cseq: 1,
  };
  await ua.send(inDialogRequest(ua, d, 'ACK', 1), proxy.host, proxy.port);
  return d;
}

/** An in-dialog request of `d` from the caller (cseq: the number to use; default the next one). */
export function inDialogRequest(ua: HostPort, d: Dialog, method: string, cseq = ++d.cseq, over: Partial<RequestSpec> = {}): string {
  return sipRequest({
    method,
    ruri: d.remoteTarget,
    via: ua,
    route: d.routeSet,
    from: `<${d.localUri}>;tag=${d.fromTag}`,
    to: `<${d.remoteUri}>;tag=${d.toTag}`,
    callId: d.callId,
    cseq,
    ...over,
  });
}

/** Sends `method` in `d` through `proxy` and resolves with its final response. */
export async function inDialog(ua: NsSocket, proxy: HostPort, d: Dialog, method: string, ms = 5_000): Promise<Datagram> {
  const mark = ua.received.length;
  const cseq = ++d.cseq;
  await ua.send(inDialogRequest(ua, d, method, cseq), proxy.host, proxy.port);
  return ua.waitFor((x) => callIdOf(x.text) === d.callId && statusOf(x) >= 200 && (header(x.text, 'CSeq') ?? '').startsWith(`${cseq} `), ms, mark);
}

export interface UasPeerOptions {
  /** REGISTER: this extension needs this password (digest, RFC 2617); other extensions get 404. */
  account?: { user: string; password: string; realm: string };
}

/** A UA that answers every request it gets (a media server; also a caller that must answer a BYE);
 * remembers the dialogs it accepted so it can hang up itself. */
export class UasPeer {
  readonly dialogs = new Map<string, { req: string; myTag: string }>();
  readonly #nonces = new Set<string>();

  constructor(
    readonly sock: NsSocket,
    private readonly o: UasPeerOptions = {},
  ) {
    sock.onMessage = (d) => void this.#answer(d);
  }

  /** Requests it received (any method), optionally only those of one Call-ID. */
  requests(callId?: string): Datagram[] {
    return this.sock.received.filter((d) => isRequest(d) && (callId === undefined || callIdOf(d.text) === callId));
  }

  /** BYE from the callee's side of `callId`, through the Record-Route it got; resolves with the final response. */
  async hangUp(callId: string, ms = 5_000): Promise<Datagram> {
    const dlg = this.dialogs.get(callId);
    if (!dlg) throw new Error(`no dialog ${callId} on ${this.sock.address}:${this.sock.port}`);
    const req = dlg.req;
    const route = headers(req, 'Record-Route').flatMap((v) => v.split(/,(?=\s*<)/).map((x) => x.trim()));
    const next = hostPortOf(uriOf(route[0] ?? ''));
    const from = header(req, 'From', 'f') ?? '';
    const to = header(req, 'To', 't') ?? '';
    const mark = this.sock.received.length;
    await this.sock.send(
      sipRequest({
        method: 'BYE',
        ruri: uriOf(header(req, 'Contact', 'm') ?? ''),
        via: this.sock,
        route,
        from: `${to};tag=${dlg.myTag}`,
        to: from,
        callId,
        cseq: 1,
      }),
      next.host,
      next.port,
    );
    return this.sock.waitFor((d) => callIdOf(d.text) === callId && statusOf(d) >= 200, ms, mark);
  }

  async #answer(d: Datagram): Promise<void> {
    if (!isRequest(d)) return;
    const method = methodOf(d);
    if (method === 'ACK') return;
    const to = responseTarget(d.text);
    const myTag = param(header(d.text, 'To', 't') ?? '', 'tag') ?? unique('ms');
    let out: string;
    if (method === 'INVITE') {
      this.dialogs.set(callIdOf(d.text), { req: d.text, myTag });
      out = sipResponse(d.text, 200, 'OK', { toTag: myTag, contact: `<sip:ms@${this.sock.address}:${this.sock.port}>` });
    } else if (method === 'REGISTER' && this.o.account) out = this.#register(d.text, myTag, this.o.account);
    else out = sipResponse(d.text, 200, 'OK', { toTag: myTag });
    await this.sock.send(out, to.host, to.port);
  }

  /** 404 for an unknown extension, 401 with a fresh nonce until the digest response is right, then 200. */
  #register(req: string, tag: string, a: { user: string; password: string; realm: string }): string {
    const user = /sip:([^@;>]+)@/.exec(header(req, 'To', 't') ?? '')?.[1];
    if (user !== a.user) return sipResponse(req, 404, 'Not Found', { toTag: tag });
    const auth = header(req, 'Authorization');
    if (auth !== undefined && this.#digestOk(auth, 'REGISTER', a)) return sipResponse(req, 200, 'OK', { toTag: tag, contact: header(req, 'Contact', 'm') ?? '' });
    const nonce = randomBytes(8).toString('hex');
    this.#nonces.add(nonce);
    return sipResponse(req, 401, 'Unauthorized', { toTag: tag, extra: [`WWW-Authenticate: Digest realm="${a.realm}", nonce="${nonce}", algorithm=MD5`] });
  }

  #digestOk(auth: string, method: string, a: { user: string; password: string; realm: string }): boolean {
    const f = (k: string): string => new RegExp(`(?:^|[\\s,])${k}="?([^",]*)"?`, 'i').exec(auth)?.[1] ?? '';
    const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
    if (f('username') !== a.user || !this.#nonces.has(f('nonce'))) return false;
    const ha1 = md5(`${a.user}:${a.realm}:${a.password}`);
    const ha2 = md5(`${method}:${f('uri')}`);
    // svcrack 0.3.3 writes qop=auth even when challenged without qop, then hashes without it:
    // the cnonce tells which form the response took.
    const expected = f('cnonce') !== '' ? md5(`${ha1}:${f('nonce')}:${f('nc')}:${f('cnonce')}:auth:${ha2}`) : md5(`${ha1}:${f('nonce')}:${ha2}`);
    return f('response') === expected;
  }
}
