// The capture reader and the SIP flow summary that the baresip e2e tests judge siplb by: a judge
// that misreads a pcap or folds the wrong messages would pass a broken proxy, so it is tested too.
import { describe, expect, it } from 'vitest';
import { type Datagram, readPcap } from '../../helpers/pcap.js';
import { flowAt, mediaOf, readSip } from '../../e2e/helpers/sip-wire.js';

function ipv4Udp(src: number[], sport: number, dst: number[], dport: number, payload: Buffer, protocol = 17): Buffer {
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(sport, 0);
  udp.writeUInt16BE(dport, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip[8] = 64;
  ip[9] = protocol;
  ip.set(src, 12);
  ip.set(dst, 16);
  return Buffer.concat([ip, udp, payload]);
}

/** A pcap file: `le` byte order, link type, records of [seconds, microseconds, frame]. */
function pcap(le: boolean, linkType: number, records: Array<[number, number, Buffer]>): Buffer {
  const w = (b: Buffer, v: number, at: number): number => (le ? b.writeUInt32LE(v, at) : b.writeUInt32BE(v, at));
  const head = Buffer.alloc(24);
  w(head, 0xa1b2c3d4, 0);
  (le ? head.writeUInt16LE.bind(head) : head.writeUInt16BE.bind(head))(2, 4);
  w(head, 65535, 16);
  w(head, linkType, 20);
  const parts: Buffer[] = [head];
  for (const [s, us, frame] of records) {
    const r = Buffer.alloc(16);
    w(r, s, 0);
    w(r, us, 4);
    w(r, frame.length, 8);
    w(r, frame.length, 12);
    parts.push(r, frame);
  }
  return Buffer.concat(parts);
}

const ethernet = (ip: Buffer): Buffer => Buffer.concat([Buffer.alloc(12), Buffer.from([0x08, 0x00]), ip]);

describe('readPcap', () => {
  const sip = Buffer.from('OPTIONS sip:x SIP/2.0\r\n\r\n');
  const udp = ipv4Udp([127, 0, 0, 1], 40476, [127, 0, 0, 12], 5070, sip);

  it('reads UDP datagrams from an Ethernet (lo) capture, skips TCP, leaves a partial record', () => {
    const file = pcap(true, 1, [
      [1_700_000_000, 250_000, ethernet(udp)],
      [1_700_000_001, 0, ethernet(ipv4Udp([127, 0, 0, 1], 1, [127, 0, 0, 2], 2, sip, 6))],
      [1_700_000_002, 0, ethernet(udp)],
    ]);
    const got = readPcap(file.subarray(0, file.length - 5));
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ time: 1_700_000_000.25, src: '127.0.0.1', sport: 40476, dst: '127.0.0.12', dport: 5070 });
    expect(got[0]!.payload.equals(sip)).toBe(true);
    expect(readPcap(file)).toHaveLength(2);
  });

  it('reads big-endian files and Linux cooked (SLL2, -i any) frames; an empty file is no datagram', () => {
    const sll2 = Buffer.concat([Buffer.from([0x08, 0x00]), Buffer.alloc(18), udp]);
    expect(readPcap(pcap(false, 276, [[1, 0, sll2]]))[0]).toMatchObject({ src: '127.0.0.1', dport: 5070 });
    expect(readPcap(Buffer.alloc(0))).toEqual([]);
    expect(() => readPcap(Buffer.alloc(24, 1))).toThrow(/not a pcap file/);
  });
});

describe('flowAt', () => {
  let t = 0;
  const d = (from: string, to: string, text: string): Datagram => {
    const [src, sport] = from.split(':');
    const [dst, dport] = to.split(':');
    return { time: ++t, src: src!, sport: Number(sport), dst: dst!, dport: Number(dport), payload: Buffer.from(text.replace(/\n/g, '\r\n')) };
  };
  const msg = (start: string, cseq: string, branch: string, body = ''): string =>
    `${start}\nVia: SIP/2.0/UDP 127.0.0.11:5061;branch=${branch};rport\nCall-ID: c1\nCSeq: ${cseq}\nContent-Length: ${body.length}\n\n${body}`;
  const offer = 'v=0\nc=IN IP4 127.0.0.11\nm=audio 20000 RTP/AVP 0\na=sendonly\n';
  const caller = { address: '127.0.0.11', port: 5061 };
  const wire = [
    d('127.0.0.11:5061', '127.0.0.10:5060', msg('INVITE sip:ms@127.0.0.10 SIP/2.0', '1 INVITE', 'z9hG4bKa', offer)),
    d('127.0.0.10:5060', '127.0.0.11:5061', msg('SIP/2.0 100 Trying', '1 INVITE', 'z9hG4bKa')),
    d('127.0.0.11:5061', '127.0.0.10:5060', msg('INVITE sip:ms@127.0.0.10 SIP/2.0', '1 INVITE', 'z9hG4bKa', offer)),
    d('127.0.0.10:5060', '127.0.0.11:5061', msg('SIP/2.0 200 OK', '1 INVITE', 'z9hG4bKa', offer.replace('sendonly', 'recvonly'))),
    d('127.0.0.10:5060', '127.0.0.11:5061', msg('SIP/2.0 200 OK', '1 INVITE', 'z9hG4bKa', offer.replace('sendonly', 'recvonly'))),
    d('127.0.0.11:5061', '127.0.0.10:5060', msg('ACK sip:ms@127.0.0.12 SIP/2.0', '1 ACK', 'z9hG4bKb')),
    d('127.0.0.11:5061', '127.0.0.10:5060', msg('BYE sip:ms@127.0.0.12 SIP/2.0', '2 BYE', 'z9hG4bKc')),
    d('127.0.0.10:5060', '127.0.0.12:5062', msg('BYE sip:ms@127.0.0.12 SIP/2.0', '2 BYE', 'z9hG4bKd')),
    d('127.0.0.10:5060', '127.0.0.11:5061', msg('SIP/2.0 408 Request Timeout', '2 BYE', 'z9hG4bKc')),
    d('127.0.0.11:20000', '127.0.0.12:20002', 'RTP, not SIP'),
  ];

  it('lists methods and statuses with the SDP direction, without 100 Trying and retransmissions', () => {
    expect(flowAt(wire, caller, 'c1')).toEqual(['INVITE sendonly', '200 INVITE recvonly', 'ACK', 'BYE', '408 BYE']);
    expect(flowAt(wire, caller, 'other call')).toEqual([]);
    expect(flowAt(wire, { address: '127.0.0.12', port: 5062 }, 'c1')).toEqual(['BYE']);
  });

  it('finds the media address a UA offered, and reads nothing from non-SIP payloads', () => {
    expect(mediaOf(wire, caller, 'c1')).toEqual({ address: '127.0.0.11', port: 20000 });
    expect(readSip(wire[wire.length - 1]!)).toBeUndefined();
  });
});
