// Reads the UDP datagrams out of a libpcap capture file (what `tcpdump -w` writes), so a test can
// judge what really went over the wire: addresses, ports and payload of every datagram. Pure: bytes
// in, datagrams out. A file still being written may end in a partial record; it is left for the
// next read (tcpdump -U writes whole packets, but a read can land between two writes).
//
// Format: https://www.tcpdump.org/manpages/pcap-savefile.5.html (24-byte file header, then a 16-byte
// header per record); link types from https://www.tcpdump.org/linktypes.html.

export interface Datagram {
  /** Seconds since the epoch, microsecond resolution (nanosecond files are scaled). */
  time: number;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  payload: Buffer;
}

const LINKTYPE_NULL = 0; // BSD loopback: 4-byte address family in host order
const LINKTYPE_EN10MB = 1; // Linux `lo` shows up as Ethernet with zero addresses
const LINKTYPE_RAW = 101;
const LINKTYPE_LINUX_SLL = 113; // `-i any`
const LINKTYPE_LINUX_SLL2 = 276; // `-i any` since libpcap 1.10

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const IPPROTO_UDP = 17;

export class PcapFormatError extends Error {}

/** Every UDP datagram in `file`, in capture order. Other packets (TCP, ICMP, fragments) are skipped. */
export function readPcap(file: Buffer): Datagram[] {
  if (file.length < 24) return []; // tcpdump has not written its header yet
  const magic = file.readUInt32LE(0);
  let le: boolean;
  let nano: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) [le, nano] = [true, magic === 0xa1b23c4d];
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) [le, nano] = [false, magic === 0x4d3cb2a1];
  else throw new PcapFormatError(`not a pcap file (magic 0x${magic.toString(16)}; pcapng is not read here)`);
  const u32 = (at: number): number => (le ? file.readUInt32LE(at) : file.readUInt32BE(at));
  const linkType = u32(20) & 0xffff;

  const out: Datagram[] = [];
  for (let at = 24; at + 16 <= file.length; ) {
    const seconds = u32(at);
    const fraction = u32(at + 4);
    const captured = u32(at + 8);
    const body = at + 16;
    if (body + captured > file.length) break; // partial record at the end of a growing file
    const frame = file.subarray(body, body + captured);
    at = body + captured;
    const ip = network(frame, linkType, le);
    if (ip === undefined) continue;
    const udp = ip.version === 4 ? ipv4Udp(ip.packet) : ipv6Udp(ip.packet);
    if (udp === undefined) continue;
    out.push({ time: seconds + fraction / (nano ? 1e9 : 1e6), ...udp });
  }
  return out;
}

/** The IP packet inside a link-layer frame, or undefined for anything that is not IPv4 or IPv6. */
function network(frame: Buffer, linkType: number, le: boolean): { version: 4 | 6; packet: Buffer } | undefined {
  let etherType: number;
  let at: number;
  switch (linkType) {
    case LINKTYPE_EN10MB:
      if (frame.length < 14) return undefined;
      [etherType, at] = [frame.readUInt16BE(12), 14];
      if (etherType === ETHERTYPE_VLAN && frame.length >= 18) [etherType, at] = [frame.readUInt16BE(16), 18];
      break;
    case LINKTYPE_LINUX_SLL:
      if (frame.length < 16) return undefined;
      [etherType, at] = [frame.readUInt16BE(14), 16];
      break;
    case LINKTYPE_LINUX_SLL2:
      if (frame.length < 20) return undefined;
      [etherType, at] = [frame.readUInt16BE(0), 20];
      break;
    case LINKTYPE_NULL: {
      if (frame.length < 4) return undefined;
      const family = le ? frame.readUInt32LE(0) : frame.readUInt32BE(0);
      // AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24, 28 or 30 (the BSDs, macOS)
      [etherType, at] = [family === 2 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6, 4];
      break;
    }
    case LINKTYPE_RAW:
      if (frame.length < 1) return undefined;
      [etherType, at] = [frame[0]! >> 4 === 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4, 0];
      break;
    default:
      throw new PcapFormatError(`link type ${linkType} is not read here (capture on lo or any)`);
  }
  const packet = frame.subarray(at);
  if (etherType === ETHERTYPE_IPV4) return { version: 4, packet };
  if (etherType === ETHERTYPE_IPV6) return { version: 6, packet };
  return undefined;
}

type Udp = Omit<Datagram, 'time'>;

function ipv4Udp(p: Buffer): Udp | undefined {
  if (p.length < 20 || p[0]! >> 4 !== 4) return undefined;
  const headerLength = (p[0]! & 0x0f) * 4;
  const fragment = p.readUInt16BE(6);
  // a later fragment has no UDP header; a first one (more-fragments set) is not a whole datagram
  if (p[9] !== IPPROTO_UDP || (fragment & 0x3fff) !== 0) return undefined;
  const total = Math.min(p.readUInt16BE(2), p.length);
  return udp(p.subarray(headerLength, total), [...p.subarray(12, 16)].join('.'), [...p.subarray(16, 20)].join('.'));
}

function ipv6Udp(p: Buffer): Udp | undefined {
  // no extension headers: what a loopback capture of plain UDP carries
  if (p.length < 40 || p[0]! >> 4 !== 6 || p[6] !== IPPROTO_UDP) return undefined;
  const total = Math.min(40 + p.readUInt16BE(4), p.length);
  return udp(p.subarray(40, total), ipv6Text(p.subarray(8, 24)), ipv6Text(p.subarray(24, 40)));
}

function udp(segment: Buffer, src: string, dst: string): Udp | undefined {
  if (segment.length < 8) return undefined;
  const length = Math.min(segment.readUInt16BE(4), segment.length);
  return { src, sport: segment.readUInt16BE(0), dst, dport: segment.readUInt16BE(2), payload: Buffer.from(segment.subarray(8, length)) };
}

/** Uncompressed form (every group, no "::"): enough to compare addresses the test chose. */
function ipv6Text(b: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return groups.join(':');
}
