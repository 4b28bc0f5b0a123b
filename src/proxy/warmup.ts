// Warm-up before the first real datagram. A cold V8 runs the proxy's code in its interpreter and
// baseline tiers for the first thousands of messages: at 3,000 calls/s the socket queue of a fresh
// siplb grew to 130 ms in its first second (the queue probes of overload.ts), which reads as an
// overload and is one for the first callers. So every thread that hosts a core first carries
// `calls` complete calls through a scratch core of its own: INVITE, 100/180/200 from the
// destination, ACK and BYE along our Record-Route, 200 to the BYE. Same functions, same parser
// module, so the optimized code serves the real core; nothing is shared with it: the scratch core
// has its own counters, timers and a private copy of the destination states, and is dropped.
import { createParser, SipMessage } from '../parser/index.js';
import { DestTable } from '../shared/dest-table.js';
import type { CoreConfig } from './core-config.js';
import { ProxyCore } from './core.js';
import type { Peer } from './types.js';

/** A caller in TEST-NET-1 (RFC 5737): never a real peer, and nothing is sent anyway. */
const UAC: Peer = { address: '192.0.2.1', port: 5060, socket: 0 };

interface Captured {
  bytes: Uint8Array;
  address: string;
  port: number;
}

interface Forwarded {
  method: string | undefined;
  vias: string[];
  rr: string[];
  address: string;
  port: number;
}

export interface WarmupResult {
  calls: number;
  /** Calls that went through the whole flow (INVITE forwarded, BYE forwarded). */
  completed: number;
  ms: number;
}

/** Carries `calls` calls through a scratch core built like the real one. */
export function warmUp(config: CoreConfig, flags: readonly number[], calls: number): WarmupResult {
  const t0 = performance.now();
  const sink: { last: Captured | undefined } = { last: undefined };
  const core = new ProxyCore(config, new DestTable(DestTable.create(flags)), {
    send(bytes, address, port) {
      sink.last = { bytes, address, port };
    },
  });
  const socket = config.sockets[0];
  const us = socket?.hostport ?? config.advertise.hostport;
  const uac = socket?.family === 6 ? { ...UAC, address: '2001:db8::1' } : UAC;
  // What the scratch core forwarded, read with the project's parser (the destination's side).
  const parser = createParser();
  const feed = (text: string, from: Peer): Forwarded | undefined => {
    sink.last = undefined;
    core.onDatagram(Buffer.from(text, 'latin1'), from);
    const out = sink.last as Captured | undefined; // set by the send callback above
    if (out === undefined) return undefined;
    const m = parser.parse(out.bytes);
    if (!(m instanceof SipMessage)) return undefined;
    return { method: m.method, vias: m.headers('Via'), rr: m.headers('Record-Route'), address: out.address, port: out.port };
  };
  let completed = 0;
  for (let i = 0; i < calls; i++) {
    const id = `warmup-${i}-${t0}`;
    const from = `<sip:caller@example.invalid>;tag=w${i}`;
    const to = '<sip:service@example.invalid>';
    const sdp = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
    const invite = feed(
      request('INVITE', `sip:service@${us}`, uac, `z9hG4bKw${i}i`, from, to, id, '1 INVITE', [], sdp, `Contact: <sip:caller@${hostport(uac)}>`),
      uac,
    );
    if (invite?.method !== 'INVITE') continue;
    const dest: Peer = { address: invite.address, port: invite.port, socket: 0 };
    const { vias, rr } = invite;
    const toTagged = `${to};tag=d${i}`;
    const contact = `Contact: <sip:ms@${hostport(dest)}>`;
    feed(response(100, 'Trying', vias, [], from, to, id, '1 INVITE'), dest);
    feed(response(180, 'Ringing', vias, rr, from, toTagged, id, '1 INVITE', contact), dest);
    feed(response(200, 'OK', vias, rr, from, toTagged, id, '1 INVITE', contact), dest);
    const route = rr.map((r) => `Route: ${r}`);
    const target = `sip:ms@${hostport(dest)}`;
    feed(request('ACK', target, uac, `z9hG4bKw${i}a`, from, toTagged, id, '1 ACK', route), uac);
    const bye = feed(request('BYE', target, uac, `z9hG4bKw${i}b`, from, toTagged, id, '2 BYE', route), uac);
    if (bye?.method !== 'BYE') continue;
    feed(response(200, 'OK', bye.vias, [], from, toTagged, id, '2 BYE'), dest);
    completed++;
  }
  return { calls, completed, ms: Math.round(performance.now() - t0) };
}

function hostport(p: Peer): string {
  return p.address.includes(':') ? `[${p.address}]:${p.port}` : `${p.address}:${p.port}`;
}

function request(method: string, ruri: string, from: Peer, branch: string, fromHdr: string, to: string, callId: string, cseq: string, extra: string[], body = '', contact?: string): string {
  const head = [
    `${method} ${ruri} SIP/2.0`,
    `Via: SIP/2.0/UDP ${hostport(from)};branch=${branch};rport`,
    'Max-Forwards: 70',
    ...extra,
    `From: ${fromHdr}`,
    `To: ${to}`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq}`,
    ...(contact ? [contact] : []),
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${body.length}`,
  ];
  return `${head.join('\r\n')}\r\n\r\n${body}`;
}

function response(status: number, reason: string, vias: string[], rr: string[], from: string, to: string, callId: string, cseq: string, contact?: string): string {
  const head = [
    `SIP/2.0 ${status} ${reason}`,
    ...vias.map((v) => `Via: ${v}`),
    ...rr.map((r) => `Record-Route: ${r}`),
    `From: ${from}`,
    `To: ${to}`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq}`,
    ...(contact ? [contact] : []),
    'Content-Length: 0',
  ];
  return `${head.join('\r\n')}\r\n\r\n`;
}
