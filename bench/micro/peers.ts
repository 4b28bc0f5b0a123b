// The JavaScript SIP parsers siplb is measured against, behind one signature: (buf) => unknown.
// Datagrams arrive as Buffers, so both string parsers pay for buf.toString() inside the timed call.
//
// Each peer has two variants: `parse` (parse only) and `read` (parse, then read the fields a
// proxy needs per message). `read` returns the fields as a ReadFields object; the allocation is
// the same for every contender, and the harness uses the same function for its sanity checks,
// so what is checked is exactly what is timed.
import { createRequire } from 'node:module';
import type { BenchMessage } from './messages.js';

export type Adapter = (buf: Buffer) => unknown;

/** The fields every "parse+read" variant reads. `route` is the top Route in the peer's own form. */
export interface ReadFields {
  readonly callId: string | undefined;
  readonly viaHost: string | undefined;
  readonly viaPort: number | undefined;
  readonly viaBranch: string | undefined;
  readonly cseqNumber: number | undefined;
  readonly cseqMethod: string | undefined;
  readonly maxForwards: number | undefined;
  readonly route: unknown;
  readonly requestHost: string | undefined;
}

export interface Peer {
  /** Package name and version, as printed in the tables. */
  readonly name: string;
  readonly parse: Adapter;
  readonly read: (buf: Buffer) => ReadFields | undefined;
}

// --- `sip` (kirm/sip 0.0.6): regex-based, parses Via/Route/CSeq/auth headers eagerly, keeps the
// Request-URI as a string. Header values it fails on are dropped silently (try/catch per header).
interface SipUri { readonly host: string }
interface SipVia { readonly host: string; readonly port: number | undefined; readonly params: Record<string, string | null> }
interface SipAor { readonly uri: SipUri }
interface SipMsg {
  readonly uri?: string;
  readonly headers: {
    readonly 'call-id'?: string;
    readonly via?: readonly SipVia[];
    readonly cseq?: { readonly seq: number; readonly method: string };
    readonly 'max-forwards'?: string;
    readonly route?: readonly SipAor[];
  };
}
interface SipModule {
  parse(s: string): SipMsg | undefined;
  parseUri(s: string): SipUri | undefined;
}

// --- JsSIP 3.13.8: lib/Parser.js (not exported from the package root, so required by path).
// parseMessage(data, ua) only stores `ua` on an IncomingRequest (it is used when replying), so an
// empty object is enough to parse. It parses the start line, Via (first Via line only), From, To,
// Call-ID, CSeq, Max-Forwards, Contact and Record-Route eagerly; Route stays a raw string until
// parseHeader('route') runs its PEG grammar, which the read variant does.
interface JssipVia { readonly host: string; readonly port: number | undefined; readonly branch: string | undefined }
interface JssipMsg {
  readonly call_id: string | null;
  readonly via: JssipVia | null;
  readonly cseq: number | null;
  readonly method: string | null;
  readonly ruri?: { readonly host: string } | null;
  parseHeader(name: string): unknown;
}
interface JssipParser { parseMessage(data: string, ua: object): JssipMsg | undefined }

const require = createRequire(import.meta.url);
const sip = require('sip') as SipModule;
const jssipParser = require('jssip/lib/Parser') as JssipParser;
const jssipVersion = (require('jssip/package.json') as { version: string }).version;
const sipVersion = (require('sip/package.json') as { version: string }).version;
const FAKE_UA = {};

export const sipPeer: Peer = {
  name: `sip ${sipVersion}`,
  parse: (buf) => sip.parse(buf.toString()),
  read(buf) {
    const m = sip.parse(buf.toString());
    if (m === undefined) return undefined;
    const h = m.headers;
    const via = h.via?.[0];
    const mf = h['max-forwards'];
    return {
      callId: h['call-id'],
      viaHost: via?.host,
      viaPort: via?.port,
      viaBranch: via?.params.branch ?? undefined,
      cseqNumber: h.cseq?.seq,
      cseqMethod: h.cseq?.method,
      maxForwards: mf === undefined ? undefined : Number(mf),
      route: h.route?.[0]?.uri,
      // The package keeps the Request-URI as text; its own parseUri gives the host.
      requestHost: m.uri === undefined ? undefined : sip.parseUri(m.uri)?.host,
    };
  },
};

export const jssipPeer: Peer = {
  name: `jssip ${jssipVersion}`,
  parse: (buf) => jssipParser.parseMessage(buf.toString(), FAKE_UA),
  read(buf) {
    const m = jssipParser.parseMessage(buf.toString(), FAKE_UA);
    if (m === undefined) return undefined;
    const via = m.via;
    const route = m.parseHeader('route') as { readonly uri: unknown } | undefined;
    return {
      callId: m.call_id ?? undefined,
      viaHost: via?.host,
      viaPort: via?.port,
      viaBranch: via?.branch,
      cseqNumber: m.cseq ?? undefined,
      cseqMethod: m.method ?? undefined,
      maxForwards: m.parseHeader('max-forwards') as number | undefined,
      route: route?.uri,
      requestHost: m.ruri?.host,
    };
  },
};

export const peers: readonly Peer[] = [sipPeer, jssipPeer];

/**
 * Why `read` gets `msg` wrong, or undefined when it reads the Call-ID, top Via, CSeq,
 * Max-Forwards and Request-URI host as expected. A peer that fails is reported "n/a", not timed.
 */
export function checkRead(read: (buf: Buffer) => ReadFields | undefined, msg: BenchMessage): string | undefined {
  let got: ReadFields | undefined;
  try {
    got = read(msg.buf);
  } catch (err) {
    return `throws ${(err as Error).message}`;
  }
  if (got === undefined) return 'rejects the message';
  const want = msg.expect;
  const pairs: [string, unknown, unknown][] = [
    ['Call-ID', got.callId, want.callId],
    ['top Via host', got.viaHost, want.viaHost],
    ['top Via branch', got.viaBranch, want.viaBranch],
    ['CSeq number', got.cseqNumber, want.cseqNumber],
    ['CSeq method', got.cseqMethod, want.cseqMethod],
    ['Max-Forwards', got.maxForwards, want.maxForwards],
    ['Request-URI host', got.requestHost, want.requestHost],
  ];
  const wrong = pairs.filter(([, a, b]) => a !== b);
  if (wrong.length === 0) return undefined;
  const [what, a, b] = wrong[0] ?? [];
  const more = wrong.length > 1 ? ` (and ${wrong.length - 1} more)` : '';
  return `${what} read as ${JSON.stringify(a)}, not ${JSON.stringify(b)}${more}`;
}
