// What a capture says about SIP: each datagram read as a SIP message, the flow one endpoint saw
// (methods and statuses in order, retransmissions folded), and which datagrams a proxy sent. The
// reading is deliberately independent of siplb's parser: the judge must not share code with the
// proxy it judges. It reads only what the tests ask (start line, Call-ID, CSeq, top Via branch, the
// SDP direction and media address), from messages real UAs and siplb wrote.
import { type Datagram } from '../../helpers/pcap.js';

export interface Endpoint {
  address: string;
  port: number;
}

export interface WireSip {
  d: Datagram;
  method: string | undefined;
  status: number | undefined;
  reason: string;
  callId: string;
  cseq: number;
  cseqMethod: string;
  branch: string;
  /** SDP media direction (a=sendonly ...), sendrecv when SDP names none; undefined without SDP. */
  direction: string | undefined;
  /** SDP c= address and audio m= port; undefined without SDP. */
  media: Endpoint | undefined;
}

const COMPACT: Record<string, string> = { i: 'call-id', v: 'via', l: 'content-length', c: 'content-type' };

/** The datagram as a SIP message, or undefined for anything else (RTP, the proxy's 16-byte probes). */
export function readSip(d: Datagram): WireSip | undefined {
  const text = d.payload.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = text.slice(0, end).split('\r\n');
  const start = lines[0]!;
  const response = /^SIP\/2\.0 (\d{3}) (.*)$/.exec(start);
  const request = /^([A-Z]+) \S+ SIP\/2\.0$/.exec(start);
  if (!response && !request) return undefined;
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const key = COMPACT[name] ?? name;
    if (!headers.has(key)) headers.set(key, line.slice(colon + 1).trim()); // the top one
  }
  const [cseq, cseqMethod] = (headers.get('cseq') ?? '').split(/\s+/);
  const body = text.slice(end + 4);
  const sdp = body.includes('\nm=audio ') || body.startsWith('v=0');
  const port = /^m=audio (\d+)/m.exec(body)?.[1];
  const host = /^c=IN IP[46] (\S+)/m.exec(body)?.[1];
  return {
    d,
    method: request?.[1],
    status: response ? Number(response[1]) : undefined,
    reason: response?.[2] ?? '',
    callId: headers.get('call-id') ?? '',
    cseq: Number(cseq),
    cseqMethod: cseqMethod ?? '',
    branch: /;\s*branch=([^;,\s]+)/i.exec(headers.get('via') ?? '')?.[1] ?? '',
    direction: sdp ? (/^a=(sendrecv|sendonly|recvonly|inactive)\s*$/m.exec(body)?.[1] ?? 'sendrecv') : undefined,
    media: sdp && port !== undefined && host !== undefined ? { address: host, port: Number(port) } : undefined,
  };
}

export const sameEndpoint = (a: Endpoint, address: string, port: number): boolean => a.address === address && a.port === port;

/** "INVITE sendonly", "200 INVITE recvonly", "BYE", "487 INVITE": a step of a flow. */
export function label(m: WireSip): string {
  const head = m.method ?? `${m.status} ${m.cseqMethod}`;
  return m.direction === undefined ? head : `${head} ${m.direction}`;
}

/**
 * The SIP messages of call `callId` that `ua` sent or received, in capture order, as labels. 100
 * Trying is left out (hop by hop: the stateful proxy sends it, the stateless one does not), and so is
 * every retransmission (same message, CSeq, top branch and direction as one already listed).
 */
export function flowAt(datagrams: Datagram[], ua: Endpoint, callId: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const d of datagrams) {
    const sent = sameEndpoint(ua, d.src, d.sport);
    if (!sent && !sameEndpoint(ua, d.dst, d.dport)) continue;
    const m = readSip(d);
    if (m === undefined || m.callId !== callId || m.status === 100) continue;
    const key = `${sent ? '>' : '<'} ${label(m)} ${m.cseq} ${m.branch}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(label(m));
  }
  return out;
}

/** The first SDP of call `callId` that `from` sent (its offer or answer): where it wants RTP. */
export function mediaOf(datagrams: Datagram[], from: Endpoint, callId: string): Endpoint | undefined {
  for (const d of datagrams) {
    if (!sameEndpoint(from, d.src, d.sport)) continue;
    const m = readSip(d);
    if (m?.callId === callId && m.media !== undefined) return m.media;
  }
  return undefined;
}

/** One line for a failure message: addresses, start line, CSeq, Call-ID. */
export function describeDatagram(d: Datagram): string {
  const m = readSip(d);
  const what = m === undefined ? `${d.payload.length} bytes, not SIP` : `${d.payload.toString('latin1').split('\r\n')[0]} (CSeq ${m.cseq} ${m.cseqMethod}, Call-ID ${m.callId})`;
  return `${d.src}:${d.sport} -> ${d.dst}:${d.dport} ${what}`;
}
