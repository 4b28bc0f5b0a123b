// SIP text for the demo media server: the request fields a UAS answers from, and responses built from
// them (RFC 3261 8.2.6). Kept apart from src/sip on purpose: the demo must work while the proxy's SIP
// library is still being written, and it needs only this much.
import { randomBytes } from 'node:crypto';
import type { SipMessage } from '../parser/index.js';

/** What a response needs from its request, copied out of the parser's memory (which the next parse reuses). */
export interface RequestInfo {
  readonly method: string;
  readonly callId: string;
  readonly cseqNumber: number;
  /** Every Via value in order; SIPp and proxies may put several in one header line. */
  readonly vias: readonly string[];
  /** Branch of the top Via: tells an INVITE's retransmission and its CANCEL from a new transaction. */
  readonly branch: string;
  readonly from: string;
  readonly to: string;
  readonly toTag: string | undefined;
  readonly recordRoutes: readonly string[];
}

export function requestInfo(msg: SipMessage): RequestInfo {
  return {
    method: msg.method ?? '',
    callId: msg.callId,
    cseqNumber: msg.cseqNumber,
    vias: msg.headers('Via'),
    branch: msg.via?.branch ?? '',
    from: msg.from.raw,
    to: msg.to.raw,
    toTag: msg.to.tag,
    recordRoutes: msg.headers('Record-Route'),
  };
}

export function newTag(): string {
  return randomBytes(6).toString('hex');
}

/** host as it goes into a URI or SDP: IPv6 in brackets for URIs. */
function uriHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export function contactUri(host: string, port: number): string {
  return `<sip:demo@${uriHost(host)}:${port}>`;
}

/**
 * A minimal offer/answer body (RFC 4566). The demo neither sends nor reads RTP, and a=inactive says
 * so, rather than inviting the caller to stream into a port nobody reads.
 */
export function minimalSdp(host: string, mediaPort: number, sessionId: number): string {
  const ipVersion = host.includes(':') ? 'IP6' : 'IP4';
  return [
    'v=0',
    `o=siplb-demo ${sessionId} ${sessionId} IN ${ipVersion} ${host}`,
    's=siplb demo',
    `c=IN ${ipVersion} ${host}`,
    't=0 0',
    `m=audio ${mediaPort} RTP/AVP 0`,
    'a=rtpmap:0 PCMU/8000',
    'a=inactive',
    '',
  ].join('\r\n');
}

export const ALLOW = 'INVITE, ACK, BYE, CANCEL, OPTIONS';

export interface ResponseOptions {
  /** Added to To unless the request's To already has one (an in-dialog request). Omit for 100. */
  toTag?: string;
  /** CSeq method when it is not the request's: the 487 to an INVITE is built from its CANCEL. */
  cseqMethod?: string;
  contact?: string;
  /** Copy Record-Route: only in 1xx/2xx to a dialog-creating request (RFC 3261 12.1.1). */
  recordRoute?: boolean;
  allow?: boolean;
  body?: string;
}

export function buildResponse(req: RequestInfo, status: number, reason: string, o: ResponseOptions = {}): Buffer {
  const lines = [`SIP/2.0 ${status} ${reason}`];
  for (const via of req.vias) lines.push(`Via: ${via}`);
  if (o.recordRoute === true) for (const rr of req.recordRoutes) lines.push(`Record-Route: ${rr}`);
  lines.push(`From: ${req.from}`);
  lines.push(req.toTag === undefined && o.toTag !== undefined ? `To: ${req.to};tag=${o.toTag}` : `To: ${req.to}`);
  lines.push(`Call-ID: ${req.callId}`);
  lines.push(`CSeq: ${req.cseqNumber} ${o.cseqMethod ?? req.method}`);
  if (o.contact !== undefined) lines.push(`Contact: ${o.contact}`);
  if (o.allow === true) lines.push(`Allow: ${ALLOW}`);
  lines.push('Server: siplb-demo');
  const body = o.body ?? '';
  if (body !== '') lines.push('Content-Type: application/sdp');
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`);
}
