// Which entry of the shared destination table (src/shared/dest-table.ts) each destination of the
// list holds, on the main thread. A destination keeps its entry for as long as it is in the list,
// so a reload that keeps it keeps everything the table holds for it: state, probing count, active
// calls, latency, overload report. Kamailio rebuilds its lists on reload and drops all of that.
//
// A destination is known by its id (sets.ts: `set:uri`, `#n` for further records of one URI in a
// set). The list's part of the table has a fixed number of entries (SIPLB_MAX_DESTINATIONS); the
// registration slots come after it. Freed entries are reused last-freed-last (a FIFO), so a call
// still in flight to a removed destination releases its load into an entry nobody took yet.
import type { DestinationRecord } from './list-file.js';
import { buildSets, flatten, recordIds } from './sets.js';

export interface RosterPlan {
  /** The new list, every record with its slot. */
  readonly records: DestinationRecord[];
  /** Slots of destinations in both lists whose list flags are the same: their state stays. */
  readonly kept: number[];
  /** Slots of destinations in both lists whose line now gives other flags: they start from those. */
  readonly reflagged: number[];
  /** Slots taken by destinations new to the list. */
  readonly added: number[];
  /** Slots of destinations no longer in the list. */
  readonly removed: number[];
}

export class Roster {
  readonly #capacity: number;
  #records: readonly DestinationRecord[] = [];
  /** id -> slot of the list in service. */
  #slotOf = new Map<string, number>();
  /** Free slots, the next one to give first. */
  #free: number[];

  constructor(capacity: number) {
    this.#capacity = capacity;
    this.#free = Array.from({ length: capacity }, (_, i) => i);
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** The list in service, with slots. */
  get records(): readonly DestinationRecord[] {
    return this.#records;
  }

  /**
   * Slots for `next` (records as parsed, without slots); nothing changes until commit(). A first
   * plan numbers the destinations in table order (flatten's), as a table built before reloads
   * existed did. Returns a reason instead when the list does not fit.
   */
  plan(next: readonly DestinationRecord[]): RosterPlan | { error: string } {
    if (next.length > this.#capacity) {
      return { error: `the list has ${next.length} destinations, more than SIPLB_MAX_DESTINATIONS (${this.#capacity})` };
    }
    const ids = recordIds(next);
    const oldIds = recordIds(this.#records);
    const old = new Map(this.#records.map((r, i) => [oldIds[i]!, r] as const));
    const free = this.#free.slice();
    const slots = new Map<string, number>();
    const kept: number[] = [];
    const reflagged: number[] = [];
    const added: number[] = [];
    if (this.#records.length === 0) {
      // table order: the slot is the destination's position in flatten()
      flatten(buildSets(next)).forEach((d, i) => slots.set(d.id, i));
      free.splice(0, next.length);
      added.push(...slots.values());
    } else {
      ids.forEach((id, i) => {
        const slot = this.#slotOf.get(id);
        if (slot === undefined) return;
        slots.set(id, slot);
        (old.get(id)!.flags === next[i]!.flags ? kept : reflagged).push(slot);
      });
      for (const id of ids) {
        if (slots.has(id)) continue;
        const slot = free.shift()!;
        slots.set(id, slot);
        added.push(slot);
      }
    }
    const removed = [...this.#slotOf].filter(([id]) => !slots.has(id)).map(([, slot]) => slot);
    free.push(...removed);
    const records = next.map((r, i) => ({ ...r, slot: slots.get(ids[i]!)! }));
    this.#pending = { slots, free };
    return { records, kept, reflagged, added, removed };
  }

  #pending: { slots: Map<string, number>; free: number[] } | undefined;

  /** Puts the last plan in service. */
  commit(plan: RosterPlan): void {
    if (this.#pending === undefined) throw new Error('Roster.commit without a plan');
    this.#slotOf = this.#pending.slots;
    this.#free = this.#pending.free;
    this.#records = plan.records;
    this.#pending = undefined;
  }
}
