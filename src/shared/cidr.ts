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

/** IPv4 dotted quad to an unsigned 32-bit number; undefined when it is not one. */
export function ipv4Word(address: string): number | undefined {
  if (!isIPv4(address)) return undefined;
  let n = 0;
  for (const part of address.split('.')) n = n * 256 + Number(part);
  return n >>> 0;
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
    const v4 = ipv4Word(addr);
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
 * blocks. Anything that is not an address matches nothing.
 */
export function cidrMatcher(list: CidrList): (address: string) => boolean {
  const v4 = list.blocks.filter((b) => !b.v6);
  const v6 = list.blocks.filter((b) => b.v6);
  if (list.blocks.length === 0) return () => false;
  return (address) => {
    const mapped = V4_MAPPED.exec(address)?.[1];
    const w4 = ipv4Word(mapped ?? address);
    if (w4 !== undefined) {
      const a = [0, 0, 0, w4];
      return v4.some((b) => maskedEqual(a, b.words, 3, b.prefix));
    }
    const w6 = ipv6Words(address.startsWith('[') ? address.slice(1, -1) : address);
    return w6 !== undefined && v6.some((b) => maskedEqual(w6, b.words, 0, b.prefix));
  };
}
