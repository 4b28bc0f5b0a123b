// The flood guard as siplb runs it: built from SIPLB_FLOOD_* and SIPLB_TRUSTED, with the list's
// destinations exempt, and its log lines. One warning per newly blocked source names the address,
// its rate and the variables an operator would change; a spoofed-source flood blocks thousands of
// sources a second, so past LINES_PER_SECOND the lines stop and one summary line a second counts
// the rest (the log must not become the next thing that floods).
import type { SiplbConfig } from '../config/types.js';
import { cidrMatcher, parseCidrList } from '../shared/cidr.js';
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

/**
 * The guard for `config`, or undefined when SIPLB_FLOOD_LIMIT is 0. `destinations` are the list's
 * addresses: a destination is exempt whatever port it sends from (media servers answer from
 * several). The addresses go through the CIDR parser so that IPv6 spellings compare equal.
 */
export function floodGuardFor(
  config: Pick<SiplbConfig, 'floodLimit' | 'floodWindow' | 'floodBlock' | 'trusted'>,
  destinations: readonly string[],
  log: FloodLog,
): { guard: FloodGuard; reporter: BlockReporter; setDestinations: (addresses: readonly string[]) => void } | undefined {
  if (config.floodLimit === 0) return undefined;
  const trusted = cidrMatcher(config.trusted);
  // one address at a time: an address the parser does not take (an unresolved name's 0.0.0.0 is
  // filtered) must not cost the others their exemption
  const matcher = (addresses: readonly string[]): ((address: string) => boolean) => {
    const blocks = addresses.filter((a) => a !== '0.0.0.0').flatMap((a) => {
      const one = parseCidrList(a);
      return 'error' in one ? [] : one.blocks;
    });
    return cidrMatcher({ text: addresses.join(','), blocks });
  };
  let isDest = matcher(destinations);
  const reporter = new BlockReporter(log, { limit: config.floodLimit, windowMs: config.floodWindow, blockS: config.floodBlock });
  const guard = new FloodGuard({
    limit: config.floodLimit,
    windowMs: config.floodWindow,
    blockMs: config.floodBlock * 1000,
    exempt: (address) => trusted(address) || isDest(address),
    onBlock: (address, perWindow, again) => reporter.blocked(address, perWindow, again, performance.now()),
  });
  // a reloaded list's destinations are exempt from the next datagram on
  return { guard, reporter, setDestinations: (addresses) => (isDest = matcher(addresses)) };
}
