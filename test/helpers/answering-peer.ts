// The two things most tests of the control channel need: a backend that answers every request
// (but ACK) with 200, and a caller that sends requests through the proxy and waits for their 200s.
import { Peer, answer } from './udp-peer.js';

/** A UDP peer answering every request but ACK with 200 OK; `invites()` counts the INVITEs it got. */
export async function answeringBackend(): Promise<Peer & { invites: () => number; uri: string }> {
  const p = await Peer.open();
  p.onMessage = (r) => {
    if (!r.first.startsWith('SIP/2.0') && !r.first.startsWith('ACK')) p.send(answer(r.text, 200, 'OK', { toTag: 'b' }), r.from.port, r.from.address);
  };
  return Object.assign(p, { invites: () => p.received.filter((r) => r.first.startsWith('INVITE')).length, uri: `sip:127.0.0.1:${p.port}` });
}

let n = 0;

/**
 * `count` new requests of `method` (no To tag, each its own Call-ID and branch) from `uac` to the
 * proxy; resolves when every one got a 200, rejects after 5 s.
 */
export async function requestsThrough(uac: Peer, proxyPort: number, count: number, method = 'INVITE'): Promise<void> {
  const before = uac.received.length;
  for (let i = 0; i < count; i++) {
    const k = ++n;
    uac.send(
      `${method} sip:svc@127.0.0.1:${proxyPort} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${uac.port};branch=z9hG4bK-rt-${process.pid}-${k};rport\r\nMax-Forwards: 70\r\n` +
        `From: <sip:a@127.0.0.1>;tag=t${k}\r\nTo: <sip:svc@127.0.0.1>\r\nCall-ID: rt-${process.pid}-${k}@test\r\nCSeq: 1 ${method}\r\n` +
        `Contact: <sip:a@127.0.0.1:${uac.port}>\r\nContent-Length: 0\r\n\r\n`,
      proxyPort,
    );
  }
  await uac.waitFor((got) => got.slice(before).filter((g) => g.first.startsWith('SIP/2.0 200')).length === count, 5000);
}
