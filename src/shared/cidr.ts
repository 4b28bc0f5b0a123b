// Address lists of the edge defences (SIPLB_TRUSTED, SIPLB_ALLOW): IPv4 and IPv6 addresses and
// CIDR blocks, compiled once into numbers so a check is a few integer compares. No thread of its
// own: the main thread asks it which sources are exempt from flood control, the proxy core which
// sources may start calls.
import { isIPv4, isIPv6 } from 'node:net';

/** One block: the address as four 32-bit words (IPv4 in the last word), and its prefix length. */
interface Block {
  readonly v6: boolean;
  readonly words: readonly [number, number, number, number];
  readonly prefix: number;
}

export interface CidrList {
  /** The list as written (for messages and --help). */
  readonly text: string;
  readonly blocks: readonly Block[];
}

const V4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * A dotted-quad IPv4 text as an unsigned 32-bit number, undefined for anything else (IPv6
 * included). A scan, no split and no regex: under a spoofed-source flood the main thread asks this
 * for every datagram (a split and a regex made it 1.5 µs of the 2 µs such a datagram cost).
 */
export function ipv4Word(s: string): number | undefined {
  let word = 0;
  let octet = -1;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46 /* . */) {
      if (octet < 0 || ++dots > 3) return undefined;
      word = word * 256 + octet;
      octet = -1;
    } else if (c >= 48 && c <= 57) {
      octet = octet < 0 ? c - 48 : octet * 10 + c - 48;
      if (octet > 255) return undefined;
    } else return undefined;
  }
  return dots === 3 && octet >= 0 ? word * 256 + octet : undefined;
}

/** IPv6 text (no brackets, no zone) to four 32-bit words; undefined when it is not one. */
export function ipv6Words(address: string): [number, number, number, number] | undefined {
  if (!isIPv6(address)) return undefined;
  let text = address.toLowerCase();
  // a trailing dotted quad (::ffff:1.2.3.4) is two groups
  const quad = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text)?.[1];
  if (quad !== undefined) {
    const w = ipv4Word(quad)!;
    text = `${text.slice(0, -quad.length)}${(w >>> 16).toString(16)}:${(w & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  if (groups.length !== 8) return undefined;
  const g = groups.map((x) => parseInt(x, 16));
  return [((g[0]! << 16) | g[1]!) >>> 0, ((g[2]! << 16) | g[3]!) >>> 0, ((g[4]! << 16) | g[5]!) >>> 0, ((g[6]! << 16) | g[7]!) >>> 0];
}

/**
 * Parses `a.b.c.d[/n], x:y::z[/n], ...` (spaces around commas allowed; IPv6 with or without
 * brackets). Returns the list, or a message saying which item is wrong.
 */
export function parseCidrList(text: string): CidrList | { error: string } {
  const blocks: Block[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') {
      if (text.trim() === '') continue;
      return { error: 'an empty item' };
    }
    const slash = item.indexOf('/');
    let addr = slash < 0 ? item : item.slice(0, slash);
    if (addr.startsWith('[') && addr.endsWith(']')) addr = addr.slice(1, -1);
    const bits = slash < 0 ? undefined : item.slice(slash + 1);
    const v4 = isIPv4(addr) ? ipv4Word(addr) : undefined;
    const v6 = v4 === undefined ? ipv6Words(addr) : undefined;
    if (v4 === undefined && v6 === undefined) return { error: `${JSON.stringify(item)} is not an IPv4 or IPv6 address or block` };
    const max = v4 !== undefined ? 32 : 128;
    const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (!(prefix >= 0 && prefix <= max)) return { error: `${JSON.stringify(item)} has a prefix length outside 0-${max}` };
    blocks.push(v4 !== undefined ? { v6: false, words: [0, 0, 0, v4], prefix } : { v6: true, words: v6!, prefix });
  }
  return { text, blocks };
}

function maskedEqual(a: readonly number[], b: readonly number[], from: number, prefix: number): boolean {
  let left = prefix;
  for (let i = from; i < 4 && left > 0; i++) {
    const take = Math.min(32, left);
    const mask = take === 32 ? 0xffffffff : ~(0xffffffff >>> take) >>> 0;
    if (((a[i]! ^ b[i]!) & mask) >>> 0 !== 0) return false;
    left -= take;
  }
  return true;
}

/**
 * A test for membership in `list`. Addresses are as Node reports a datagram's source: dotted IPv4,
 * or IPv6 text; an IPv4-mapped IPv6 source (::ffff:a.b.c.d, a dual-stack socket) matches IPv4
 * blocks. Anything that is not an address matches nothing. IPv4, the common case, costs a scan
 * and a compare per block.
 */
export function cidrMatcher(list: CidrList): (address: string) => boolean {
  const v4 = list.blocks.filter((b) => !b.v6).map((b) => ({ net: b.words[3], mask: b.prefix === 0 ? 0 : (0xffffffff << (32 - b.prefix)) >>> 0 }));
  const v6 = list.blocks.filter((b) => b.v6);
  if (list.blocks.length === 0) return () => false;
  const inV4 = (w: number): boolean => {
    for (const { net, mask } of v4) if (((w ^ net) & mask) >>> 0 === 0) return true;
    return false;
  };
  return (address) => {
    const w4 = ipv4Word(address);
    if (w4 !== undefined) return inV4(w4);
    const mapped = V4_MAPPED.exec(address)?.[1];
    if (mapped !== undefined) return inV4(ipv4Word(mapped)!);
    const w6 = ipv6Words(address.startsWith('[') ? address.slice(1, -1) : address);
    return w6 !== undefined && v6.some((b) => maskedEqual(w6, b.words, 0, b.prefix));
  };
}
