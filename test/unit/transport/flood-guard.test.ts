// The flood guard's table alone, on a clock the test drives: sliding window, block, re-block,
// exemption (cached per entry), eviction and the memory bound; then the setup siplb runs
// (SIPLB_TRUSTED, destinations of the list) and the rate-limited log lines.
import { describe, expect, it } from 'vitest';
import { parseCidrList, type CidrList } from '../../../src/shared/cidr.js';
import { FloodGuard, type FloodGuardOptions } from '../../../src/transport/flood-guard.js';
import { BlockReporter, floodGuardFor, LINES_PER_SECOND } from '../../../src/transport/flood-setup.js';

function guard(o: Partial<FloodGuardOptions> = {}): { g: FloodGuard; blocks: Array<[string, number, boolean]> } {
  const blocks: Array<[string, number, boolean]> = [];
  const g = new FloodGuard({ limit: 100, windowMs: 1000, blockMs: 10_000, exempt: () => false, onBlock: (...b) => blocks.push(b), ...o });
  return { g, blocks };
}

/** `n` datagrams from `address` spread evenly over [from, to) ms; how many were admitted. */
function send(g: FloodGuard, address: string, n: number, from: number, to = from): number {
  let ok = 0;
  for (let i = 0; i < n; i++) if (g.admit(address, from + ((to - from) * i) / n)) ok++;
  return ok;
}

const cidr = (text: string): CidrList => parseCidrList(text) as CidrList;

describe('FloodGuard', () => {
  it('admits up to the limit in a window, blocks the next datagram and drops the source for the block time', () => {
    const { g, blocks } = guard();
    expect(send(g, '192.0.2.1', 100, 0, 500)).toBe(100);
    expect(g.admit('192.0.2.1', 600)).toBe(false);
    expect(blocks).toEqual([['192.0.2.1', 101, false]]);
    expect(send(g, '192.0.2.1', 50, 700, 9000)).toBe(0); // blocked: silent, counted
    expect(g.counters).toMatchObject({ dropped: 51, blocks: 1 });
    expect(g.blockedSources(9000)).toBe(1);
    expect(send(g, '192.0.2.2', 100, 600, 700)).toBe(100); // another source is not affected
    // quiet since 9000: when the block ends (10,600) the window has emptied, so it is admitted
    expect(g.admit('192.0.2.1', 10_700)).toBe(true);
    expect(g.blockedSources(10_700)).toBe(0);
  });

  it('slides: the previous window counts in proportion to what is left of it', () => {
    const { g } = guard();
    expect(send(g, '192.0.2.1', 100, 900, 999)).toBe(100); // all at the end of window 0
    expect(g.admit('192.0.2.1', 1000)).toBe(false); // start of window 1: 100 * 1.0 + 1
    const { g: h } = guard();
    send(h, '192.0.2.1', 100, 900, 999);
    // half way through window 1 the old hundred weigh 50: 50 more fit, the 51st does not
    expect(send(h, '192.0.2.1', 50, 1500)).toBe(50);
    expect(h.admit('192.0.2.1', 1500)).toBe(false);
  });

  it('a source still over the limit when its block ends is blocked again at once', () => {
    const { g, blocks } = guard({ blockMs: 2000 });
    send(g, '198.51.100.7', 101, 0, 100); // blocked at 100, until 2100
    expect(send(g, '198.51.100.7', 4000, 100, 2100)).toBe(0); // 2,000/s through the block
    expect(g.admit('198.51.100.7', 2150)).toBe(false); // first datagram after the block: still flooding
    expect(blocks.map((b) => b[2])).toEqual([false, true]);
    expect(blocks[1]![1]).toBeGreaterThan(1000);
    expect(g.counters.blocks).toBe(2);
    expect(g.blockedSources(3000)).toBe(1);
  });

  it('never counts an exempt source, and asks about each source once while it has a slot', () => {
    const asked: string[] = [];
    const { g, blocks } = guard({ exempt: (a) => (asked.push(a), a === '127.0.0.1') });
    expect(send(g, '127.0.0.1', 100_000, 0, 1000)).toBe(100_000);
    send(g, '192.0.2.9', 10, 0, 1000);
    expect(asked).toEqual(['127.0.0.1', '192.0.2.9']);
    expect(blocks).toEqual([]);
  });

  it('holds at most `capacity` sources whatever the number of sources, and keeps blocked ones over idle ones', () => {
    const { g } = guard({ capacity: 256 });
    send(g, '203.0.113.66', 101, 0, 10); // blocked
    for (let i = 0; i < 200_000; i++) g.admit(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 20 + i / 100);
    expect(g.size).toBeLessThanOrEqual(256);
    expect(g.counters.evictions).toBeGreaterThan(199_000);
    expect(g.admit('203.0.113.66', 2100)).toBe(false); // a spoofed flood did not free it
    expect(g.blockedSources(2100)).toBe(1);
  });

  it('refuses a table size that is not a power of two and a zero limit', () => {
    expect(() => guard({ capacity: 1000 })).toThrow(RangeError);
    expect(() => guard({ limit: 0 })).toThrow(RangeError);
  });
});

describe('floodGuardFor (SIPLB_FLOOD_*, SIPLB_TRUSTED, destinations)', () => {
  const config = { floodLimit: 10, floodWindow: 1000, floodBlock: 60, trusted: cidr('127.0.0.0/8,::1,10.1.0.0/16') };
  const quiet = { warn: () => {} };

  it('is off with SIPLB_FLOOD_LIMIT=0', () => {
    expect(floodGuardFor({ ...config, floodLimit: 0 }, [], quiet)).toBeUndefined();
  });

  it('exempts SIPLB_TRUSTED and every destination address, any port, IPv6 written either way', () => {
    const { guard: g } = floodGuardFor(config, ['192.0.2.10', '2001:DB8:0:0::20', '0.0.0.0', 'not-an-address'], quiet)!;
    for (const a of ['127.0.0.2', '::1', '10.1.200.3', '192.0.2.10', '2001:db8::20']) expect(send(g, a, 1000, 0, 10), a).toBe(1000);
    for (const a of ['192.0.2.11', '2001:db8::21', '10.2.0.1', '0.0.0.0']) expect(send(g, a, 1000, 0, 10), a).toBe(10);
  });
});

describe('BlockReporter', () => {
  it('logs one line per blocked source, with the variables to change, then a summary instead', () => {
    const lines: Array<[string, Record<string, unknown> | undefined]> = [];
    const r = new BlockReporter({ warn: (m, f) => lines.push([m, f]) }, { limit: 1000, windowMs: 1000, blockS: 60 });
    r.blocked('127.0.0.2', 20_000, false, 5000);
    expect(lines[0]![0]).toBe(
      'flood control: source blocked: 127.0.0.2 sent 20000 datagrams/s, over SIPLB_FLOOD_LIMIT=1000 per SIPLB_FLOOD_WINDOW=1000 ms; ' +
        'its datagrams are dropped unanswered for SIPLB_FLOOD_BLOCK=60 s. A load generator or an upstream SBC belongs in SIPLB_TRUSTED.',
    );
    expect(lines[0]![1]).toEqual({ address: '127.0.0.2', ratePerSecond: 20_000, again: false, limit: 1000, windowMs: 1000, blockS: 60 });
    for (let i = 0; i < 5000; i++) r.blocked(`198.51.100.${i % 250}`, 2000, false, 5001 + i / 10);
    expect(lines).toHaveLength(LINES_PER_SECOND);
    r.flush();
    expect(lines).toHaveLength(LINES_PER_SECOND + 1);
    expect(lines.at(-1)![0]).toBe(`flood control: 4991 more sources blocked; their lines were suppressed (at most ${LINES_PER_SECOND} a second)`);
    r.blocked('127.0.0.2', 20_000, true, 9000); // a new second: lines again
    expect(lines.at(-1)![0]).toMatch(/^flood control: still flooding, blocked again: 127\.0\.0\.2 /);
  });
});
