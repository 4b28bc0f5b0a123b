// Main thread: watches the shared destination table for destinations going down or up. Whoever
// changes a state (a failover mark in a dispatch worker or the inline core, the probe worker, the
// admin later) only does its compareExchange on the table (src/shared/dest-table.ts); nothing on
// the data path knows that events exist. The watcher reads every destination's flags on a timer
// and compares them with its previous reading.
//
// Polling, not a notification from the writers: a message per state change would have to be sent
// by every writer, each thread with its own channel, and a lost one is a missed event. A poll is
// one Atomics.load per destination (about 5 ns: 2 µs for 400 destinations, every 100 ms) on the
// main thread, off the datagram path. What it cannot see is a destination that goes down and
// comes back within one poll interval; DISPATCHER.md's events are about a destination being
// skipped, and one skipped for less than 100 ms was skipped by almost no call.
import type { DestinationRecord } from '../dispatch/list-file.js';
import { buildSets, flatten, type Destination } from '../dispatch/sets.js';
import type { DestTable } from '../shared/dest-table.js';
import type { BindingTable } from '../shared/binding-table.js';
import { EMPTY_ATTRS } from '../dispatch/attrs.js';
import { parseDestinationUri } from '../dispatch/dest-uri.js';
import { destEvent, type DestEvent } from './event.js';

/**
 * Fixed, not a SIPLB_* variable: state changes come from timers of a second or more (the final
 * response timer, keepalive intervals), so 100 ms of detection delay is lost in them, and the
 * cost of the poll is a few microseconds per interval even for hundreds of destinations.
 */
export const EVENT_POLL_MS = 100;

export interface WatchOptions {
  /** The list in service; each record's slot (or its flatten() position) is its table entry. */
  readonly records: readonly DestinationRecord[];
  readonly table: DestTable;
  /** Written into each event (siplb's advertised host:port). */
  readonly node: string;
  readonly onEvent: (e: DestEvent) => void;
  /** A throwing onEvent lands here instead of in the timer, where it would end the process. */
  readonly onError?: (err: unknown, e: DestEvent) => void;
  readonly pollMs?: number;
  readonly now?: () => Date;
  /**
   * Registration-based destinations: the table's slots after the records'. A binding that comes
   * is a dst-up (its slot was vacant, that is disabled), one that expires or unregisters a dst-down.
   */
  readonly bindings?: BindingTable;
}

export class DestWatcher {
  /** The list's destinations by table entry; undefined where an entry is free. */
  #dests: Array<Destination | undefined>;
  /** Entries of the list's part of the table; the binding slots follow. */
  readonly #listSlots: number;
  readonly #table: DestTable;
  /** Flags at the last poll, by table index. */
  readonly #last: Uint8Array;
  readonly #opts: WatchOptions;
  #timer: NodeJS.Timeout | undefined;
  /** The last binding seen in each slot: an expired one is reported under the URI it had. */
  readonly #slotDests: Array<Destination | undefined>;

  #slotDest(k: number): Destination | undefined {
    const b = this.#opts.bindings?.read(k);
    if (b !== undefined) {
      const parsed = parseDestinationUri(b.uri);
      if (parsed.ok) {
        const id = `${b.setId}:${b.uri}`;
        this.#slotDests[k] = { ...parsed.value, address: b.address, port: b.port, setId: b.setId, flags: 0, priority: b.priority, attrs: EMPTY_ATTRS, line: 0, id, index: k, seed: 0, slot: this.#listSlots + k };
      }
    }
    return this.#slotDests[k];
  }

  constructor(opts: WatchOptions) {
    this.#opts = opts;
    this.#table = opts.table;
    const slots = opts.bindings?.slots ?? 0;
    this.#listSlots = this.#table.count - slots;
    this.#dests = this.#bySlot(opts.records);
    this.#slotDests = Array.from({ length: slots }, () => undefined);
    // The starting point is the table as it is now: a destination loaded inactive or disabled
    // (list flags) did not go down, it started down.
    this.#last = Uint8Array.from(this.#table.snapshot());
  }

  #bySlot(records: readonly DestinationRecord[]): Array<Destination | undefined> {
    const dests = new Array<Destination | undefined>(this.#listSlots).fill(undefined);
    for (const d of flatten(buildSets(records))) {
      if (d.slot >= this.#listSlots) throw new Error(`destination watcher: slot ${d.slot} of ${d.id} is past the list's ${this.#listSlots} table entries`);
      dests[d.slot] = d;
    }
    return dests;
  }

  /**
   * A reloaded list. Call it after the new destinations' entries were set and before the removed
   * ones are freed: a new entry starts from its flags now (a destination loaded inactive did not
   * go down), and a freed one has no destination to report.
   */
  reload(records: readonly DestinationRecord[]): void {
    const next = this.#bySlot(records);
    next.forEach((d, i) => {
      if (d !== undefined && d.id !== this.#dests[i]?.id) this.#last[i] = this.#table.flags(i);
    });
    this.#dests = next;
  }

  /** Polls every `pollMs` (EVENT_POLL_MS) until stop(). The timer does not keep the process alive. */
  start(): this {
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.poll(), this.#opts.pollMs ?? EVENT_POLL_MS);
      this.#timer.unref();
    }
    return this;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One pass over the table: emits an event for each destination whose usability changed; returns how many. */
  poll(): number {
    let emitted = 0;
    let at: Date | undefined;
    for (let i = 0; i < this.#last.length; i++) {
      const before = this.#last[i]!;
      const after = this.#table.flags(i);
      if (after === before) continue;
      this.#last[i] = after;
      at ??= this.#opts.now?.() ?? new Date();
      const dest = i < this.#listSlots ? this.#dests[i] : this.#slotDest(i - this.#listSlots);
      if (dest === undefined) continue;
      const e = destEvent(dest, before, after, at, this.#opts.node);
      if (e === undefined) continue;
      emitted++;
      // One failing consumer must not stop the poll, nor the events of the other destinations.
      try {
        this.#opts.onEvent(e);
      } catch (err) {
        this.#opts.onError?.(err, e);
      }
    }
    return emitted;
  }
}
