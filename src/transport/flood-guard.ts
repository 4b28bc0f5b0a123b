// Flood control per source address (what Kamailio operators build with the pike module), on the
// main thread in front of sharding and parsing: every datagram is counted against its source IP in
// a sliding window; past SIPLB_FLOOD_LIMIT the source is blocked for SIPLB_FLOOD_BLOCK and its
// datagrams are dropped unanswered (an answer per datagram to a spoofed source makes us a
// reflector). A source still over the limit when its block ends is blocked again at once, because
// its datagrams keep being counted while it is blocked.
//
// The main thread receives every datagram, so this is a few typed-array reads per datagram: a hash
// of the address string, a probe of at most BUCKET slots, two counters. Memory is fixed at
// construction (a spoofed flood with millions of source addresses cannot grow it): a table of
// `capacity` slots, each source in one of BUCKET consecutive slots from its hash; a new source
// takes an empty slot there or evicts the least recently seen one that is not blocked.
//
// The sliding window is two fixed buckets weighted by how far the current one has run (the
// estimate nginx's limit_req and Cloudflare use): prev * (1 - elapsed / window) + cur.

/** Slots probed per source: enough that evictions stay rare until the table is nearly full. */
const BUCKET = 8;
const USED = 1;
const EXEMPT = 2;

export interface FloodGuardOptions {
  /** Datagrams per source per window; past it the source is blocked. */
  readonly limit: number;
  readonly windowMs: number;
  readonly blockMs: number;
  /** Sources never counted (SIPLB_TRUSTED, the list's destinations); asked once per table entry. */
  readonly exempt: (address: string) => boolean;
  /** Slots in the table, a power of two. Default 65,536 (about 2 MB with the address strings). */
  readonly capacity?: number;
  /** A source just blocked: its estimated datagrams per window, and whether its last block ended within a window. */
  readonly onBlock?: (address: string, perWindow: number, again: boolean) => void;
}

export interface FloodCounters {
  /** Datagrams dropped because their source is blocked. */
  dropped: number;
  /** Blocks begun (a re-block counts again). */
  blocks: number;
  /** Sources whose slot was taken by another one (the table was full in their bucket). */
  evictions: number;
}

/** FNV-1a over the UTF-16 code units of an address (ASCII here): about 20 ns for an IPv4 text. */
function hashOf(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class FloodGuard {
  readonly counters: FloodCounters = { dropped: 0, blocks: 0, evictions: 0 };
  readonly capacity: number;
  readonly #o: FloodGuardOptions;
  readonly #mask: number;
  readonly #keys: string[];
  readonly #hashes: Uint32Array;
  readonly #flags: Uint8Array;
  /** Window number (floor(now / windowMs)) that `#cur` counts. */
  readonly #window: Float64Array;
  readonly #cur: Uint32Array;
  readonly #prev: Uint32Array;
  readonly #blockedUntil: Float64Array;
  readonly #lastSeen: Float64Array;

  constructor(opts: FloodGuardOptions) {
    const capacity = opts.capacity ?? 1 << 16;
    if (!Number.isInteger(Math.log2(capacity)) || capacity < BUCKET) throw new RangeError(`FloodGuard capacity must be a power of two >= ${BUCKET}`);
    if (!(opts.limit > 0 && opts.windowMs > 0 && opts.blockMs > 0)) throw new RangeError('FloodGuard needs limit, windowMs and blockMs > 0');
    this.#o = opts;
    this.capacity = capacity;
    this.#mask = capacity - 1;
    this.#keys = new Array<string>(capacity).fill('');
    this.#hashes = new Uint32Array(capacity);
    this.#flags = new Uint8Array(capacity);
    this.#window = new Float64Array(capacity);
    this.#cur = new Uint32Array(capacity);
    this.#prev = new Uint32Array(capacity);
    this.#blockedUntil = new Float64Array(capacity);
    this.#lastSeen = new Float64Array(capacity);
  }

  /** Counts one datagram from `address` at `now` (ms, any monotonic origin); false: drop it. */
  admit(address: string, now: number): boolean {
    const i = this.#slot(address, now);
    this.#lastSeen[i] = now;
    if ((this.#flags[i]! & EXEMPT) !== 0) return true;
    const { windowMs, limit } = this.#o;
    const w = Math.floor(now / windowMs);
    const counted = this.#window[i]!;
    if (counted !== w) {
      this.#prev[i] = counted === w - 1 ? this.#cur[i]! : 0;
      this.#cur[i] = 0;
      this.#window[i] = w;
    }
    // counted while blocked too: that is what tells, when the block ends, whether it still floods
    const cur = ++this.#cur[i]!;
    const until = this.#blockedUntil[i]!;
    if (until > now) {
      this.counters.dropped++;
      return false;
    }
    const estimate = this.#prev[i]! * (1 - (now - w * windowMs) / windowMs) + cur;
    if (estimate <= limit) return true;
    this.#blockedUntil[i] = now + this.#o.blockMs;
    this.counters.blocks++;
    this.counters.dropped++;
    this.#o.onBlock?.(address, Math.round(estimate), until > 0 && now - until <= windowMs);
    return false;
  }

  /** Sources blocked at `now` (a scan of the table: for the stats report, not per datagram). */
  blockedSources(now: number): number {
    let n = 0;
    for (let i = 0; i < this.capacity; i++) if (this.#blockedUntil[i]! > now && (this.#flags[i]! & USED) !== 0) n++;
    return n;
  }

  /** Sources tracked now: never more than `capacity`. */
  get size(): number {
    let n = 0;
    for (let i = 0; i < this.capacity; i++) if ((this.#flags[i]! & USED) !== 0) n++;
    return n;
  }

  /** The slot of `address`: found in its bucket, or taken for it (an empty slot, else an eviction). */
  #slot(address: string, now: number): number {
    const h = hashOf(address);
    const mask = this.#mask;
    let victim = -1;
    let victimScore = Infinity;
    for (let k = 0; k < BUCKET; k++) {
      const i = (h + k) & mask;
      // Slots are never emptied, so a source is never stored past an empty slot of its bucket.
      if (this.#flags[i] === 0) return this.#claim(i, address, h, now);
      if (this.#hashes[i] === h && this.#keys[i] === address) return i;
      // A blocked source is evicted last (its block would end early), the longest idle one first.
      const until = this.#blockedUntil[i]!;
      const score = until > now ? 1e15 + until : this.#lastSeen[i]!;
      if (score < victimScore) {
        victimScore = score;
        victim = i;
      }
    }
    this.counters.evictions++;
    return this.#claim(victim, address, h, now);
  }

  #claim(i: number, address: string, h: number, now: number): number {
    this.#keys[i] = address;
    this.#hashes[i] = h;
    this.#flags[i] = USED | (this.#o.exempt(address) ? EXEMPT : 0);
    this.#window[i] = Math.floor(now / this.#o.windowMs);
    this.#cur[i] = 0;
    this.#prev[i] = 0;
    this.#blockedUntil[i] = 0;
    return i;
  }
}
