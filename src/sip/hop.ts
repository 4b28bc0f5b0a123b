// Requests the proxy originates about an INVITE it forwarded: the hop-by-hop ACK for a non-2xx
// final response (RFC 3261 17.1.1.3) and CANCEL (RFC 3261 9.1). Both start from the bytes of the
// INVITE as we sent it, kept by the client transaction: those bytes are no longer in the parser
// (which holds the response or CANCEL being handled), so a light line scan finds the few headers
// needed. It runs once per failed or cancelled call, not per datagram.
import * as C from '../parser/constants.generated.js';
import { headerId } from '../parser/message.js';
import { splitList } from '../parser/split.js';
import { Assembler } from './splice.js';

interface Line {
  readonly id: number;
  /** Start of the header name. */
  readonly start: number;
  readonly valueStart: number;
  /** End of the value, trailing whitespace and line ending excluded. */
  readonly valueEnd: number;
}

interface Scanned {
  readonly uriStart: number;
  readonly uriEnd: number;
  readonly lines: Line[];
}

const WANTED = new Set([C.HDR_VIA, C.HDR_FROM, C.HDR_TO, C.HDR_CALL_ID, C.HDR_CSEQ, C.HDR_ROUTE]);
const isWs = (c: number | undefined): boolean => c === 0x20 || c === 0x09;
const isLws = (c: number | undefined): boolean => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;

/** Request-URI and the header lines a CANCEL/ACK copies, or null when the start line is unusable. */
function scan(bytes: Uint8Array): Scanned | null {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  let p = 0;
  while (p < buf.length && (buf[p] === 0x0d || buf[p] === 0x0a)) p++;
  let lf = buf.indexOf(10, p);
  if (lf < 0) return null;
  let le = buf[lf - 1] === 0x0d ? lf - 1 : lf;
  // Method SP Request-URI SP SIP-Version (RFC 3261 7.1)
  const sp1 = buf.indexOf(0x20, p);
  const sp2 = buf.lastIndexOf(0x20, le);
  if (sp1 < 0 || sp1 >= sp2) return null;
  const lines: Line[] = [];
  p = lf + 1;
  while (p < buf.length && buf[p] !== 0x0d && buf[p] !== 0x0a) {
    lf = buf.indexOf(10, p);
    while (lf >= 0 && isWs(buf[lf + 1])) lf = buf.indexOf(10, lf + 1); // folded continuation
    if (lf < 0) lf = buf.length;
    const colon = buf.indexOf(0x3a, p);
    if (colon > p && colon < lf) {
      let ne = colon;
      while (ne > p && isWs(buf[ne - 1])) ne--;
      const id = headerId(buf.toString('latin1', p, ne));
      if (WANTED.has(id)) {
        let vs = colon + 1;
        while (vs < lf && isLws(buf[vs])) vs++;
        le = lf;
        while (le > vs && isLws(buf[le - 1])) le--;
        lines.push({ id, start: p, valueStart: vs, valueEnd: le });
      }
    }
    p = lf + 1;
  }
  return { uriStart: sp1 + 1, uriEnd: sp2, lines };
}

/** The parts both requests share; null when the INVITE lacks one. */
function common(bytes: Uint8Array, method: 'ACK' | 'CANCEL', copyTo: boolean): Assembler | null {
  const s = scan(bytes);
  if (s === null) return null;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const get = (id: number): Line | undefined => s.lines.find((l) => l.id === id);
  const via = get(C.HDR_VIA);
  const from = get(C.HDR_FROM);
  const to = get(C.HDR_TO);
  const callId = get(C.HDR_CALL_ID);
  const cseq = get(C.HDR_CSEQ);
  if (!via || !from || !to || !callId || !cseq) return null;
  const cseqNum = /^\d+/.exec(buf.toString('latin1', cseq.valueStart, cseq.valueEnd))?.[0];
  if (cseqNum === undefined) return null;
  // only the top Via value: ours, with the branch the INVITE's downstream transaction matches on
  const viaValue = buf.toString('latin1', via.valueStart, via.valueEnd);
  const topVia = viaValue.includes(',') ? splitList(viaValue)[0] : viaValue;
  if (topVia === undefined) return null;
  const out = new Assembler(bytes)
    .text(`${method} `)
    .range(s.uriStart, s.uriEnd)
    .text(` SIP/2.0\r\nVia: ${topVia}\r\n`);
  const line = (l: Line): Assembler => out.range(l.start, l.valueEnd).text('\r\n');
  for (const l of s.lines) if (l.id === C.HDR_ROUTE) line(l);
  line(from);
  if (copyTo) line(to);
  line(callId);
  return out.text(`CSeq: ${cseqNum} ${method}\r\nMax-Forwards: 70\r\n`);
}

/**
 * The ACK for a non-2xx final response to the INVITE we sent (RFC 3261 17.1.1.3): same
 * Request-URI, top Via, From, Call-ID, CSeq number and Route set as `invite`; To as in the
 * response, whose value (`response.to.raw`, with its tag) is `responseTo`. Null when `invite` is
 * not a usable request.
 */
export function buildAck(invite: Uint8Array, responseTo: string): Buffer | null {
  const out = common(invite, 'ACK', false);
  return out === null ? null : out.text(`To: ${responseTo}\r\nContent-Length: 0\r\n\r\n`).toBuffer();
}

/**
 * The CANCEL of the INVITE we sent (RFC 3261 9.1): same Request-URI, Call-ID, To, From, CSeq
 * number and Route set, and a single Via equal to the INVITE's top Via (so the same branch).
 */
export function buildCancel(invite: Uint8Array): Buffer | null {
  const out = common(invite, 'CANCEL', true);
  return out === null ? null : out.text('Content-Length: 0\r\n\r\n').toBuffer();
}
