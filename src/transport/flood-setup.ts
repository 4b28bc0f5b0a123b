// The flood guard as siplb runs it: built from SIPLB_FLOOD_* and SIPLB_TRUSTED, with the list's
// destinations exempt, and its log lines. One warning per newly blocked source names the address,
// its rate and the variables an operator would change; a spoofed-source flood blocks thousands of
// sources a second, so past LINES_PER_SECOND the lines stop and one summary line a second counts
// the rest (the log must not become the next thing that floods).
import type { SiplbConfig } from '../config/types.js';
import { cidrMatcher, parseCidrList, type CidrList } from '../shared/cidr.js';
import { FloodGuard } from './flood-guard.js';

export interface FloodLog {
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/** Blocked-source lines per second before they are summarised. */
export const LINES_PER_SECOND = 10;

/** Rate-limited reporting of new blocks; `now` in ms (tests drive it, siplb passes performance.now()). */
export class BlockReporter {
  #second = -1;
  #lines = 0;
  #suppressed = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: FloodLog,
    private readonly settings: { limit: number; windowMs: number; blockS: number },
    private readonly perSecond = LINES_PER_SECOND,
  ) {}

  blocked(address: string, perWindow: number, again: boolean, now: number): void {
    const second = Math.floor(now / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#lines = 0;
    }
    if (this.#lines++ >= this.perSecond) {
      // Once a second at most; the timer is unref'd so it never holds the process open.
      if (this.#suppressed++ === 0) this.#timer = setTimeout(() => this.flush(), 1000).unref();
      return;
    }
    const { limit, windowMs, blockS } = this.settings;
    const perSecond = Math.round((perWindow * 1000) / windowMs);
    this.log.warn(
      `flood control: ${again ? 'still flooding, blocked again' : 'source blocked'}: ${address} sent ${perSecond} datagrams/s, over ` +
        `SIPLB_FLOOD_LIMIT=${limit} per SIPLB_FLOOD_WINDOW=${windowMs} ms; its datagrams are dropped unanswered for SIPLB_FLOOD_BLOCK=${blockS} s. ` +
        'A load generator or an upstream SBC belongs in SIPLB_TRUSTED.',
      { address, ratePerSecond: perSecond, again, limit, windowMs, blockS },
    );
  }

  /** Logs the summary of suppressed lines, if any (the timer calls it; close() too). */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#suppressed === 0) return;
    this.log.warn(`flood control: ${this.#suppressed} more sources blocked; their lines were suppressed (at most ${this.perSecond} a second)`, {
      suppressed: this.#suppressed,
    });
    this.#suppressed = 0;
  }
}

/** A dotted-quad IPv4 text as an unsigned 32-bit number, or -1 (anything else, IPv6 included). */
export function parseIpv4(s: string): number {
  let word = 0;
  let octet = -1;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46 /* . */) {
      if (octet < 0 || ++dots > 3) return -1;
      word = word * 256 + octet;
      octet = -1;
    } else if (c >= 48 && c <= 57) {
      octet = octet < 0 ? c - 48 : octet * 10 + c - 48;
      if (octet > 255) return -1;
    } else return -1;
  }
  return dots === 3 && octet >= 0 ? word * 256 + octet : -1;
}

/**
 * cidrMatcher with an IPv4 fast path. Under a spoofed-source flood every datagram comes from a
 * source the table has not seen, so this runs per datagram: the general matcher (a regex, a split,
 * arrays) cost about 1.5 µs of the 2 µs such a datagram cost the guard (BENCHMARKS.md).
 */
export function fastMatcher(list: CidrList): (address: string) => boolean {
  const nets = list.blocks.filter((b) => !b.v6).map((b) => ({ net: b.words[3], mask: b.prefix === 0 ? 0 : (0xffffffff << (32 - b.prefix)) >>> 0 }));
  const general = cidrMatcher(list);
  return (address) => {
    const w = parseIpv4(address);
    if (w < 0) return general(address);
    for (const { net, mask } of nets) if (((w ^ net) & mask) >>> 0 === 0) return true;
    return false;
  };
}

/**
 * The guard for `config`, or undefined when SIPLB_FLOOD_LIMIT is 0. `destinations` are the list's
 * addresses: a destination is exempt whatever port it sends from (media servers answer from
 * several). The addresses go through the CIDR parser so that IPv6 spellings compare equal.
 */
export function floodGuardFor(
  config: Pick<SiplbConfig, 'floodLimit' | 'floodWindow' | 'floodBlock' | 'trusted'>,
  destinations: readonly string[],
  log: FloodLog,
): { guard: FloodGuard; reporter: BlockReporter } | undefined {
  if (config.floodLimit === 0) return undefined;
  const trusted = fastMatcher(config.trusted);
  // one address at a time: an address the parser does not take (an unresolved name's 0.0.0.0 is
  // filtered) must not cost the others their exemption
  const blocks = destinations.filter((a) => a !== '0.0.0.0').flatMap((a) => {
    const one = parseCidrList(a);
    return 'error' in one ? [] : one.blocks;
  });
  const isDest = fastMatcher({ text: destinations.join(','), blocks });
  const reporter = new BlockReporter(log, { limit: config.floodLimit, windowMs: config.floodWindow, blockS: config.floodBlock });
  const guard = new FloodGuard({
    limit: config.floodLimit,
    windowMs: config.floodWindow,
    blockMs: config.floodBlock * 1000,
    exempt: (address) => trusted(address) || isDest(address),
    onBlock: (address, perWindow, again) => reporter.blocked(address, perWindow, again, performance.now()),
  });
  return { guard, reporter };
}
