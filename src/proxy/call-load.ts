// Algorithm 10's call tracking, one per proxy core: Kamailio's _dsht_load (ds_ht.c) and the
// ds_load_* functions of dispatch.c. Each call that took load on a destination has an entry by
// Call-ID; the count itself is the destination's LOAD word in the shared table, summed over every
// dispatch worker, so the least-loaded pick sees the calls of all of them. Sharding by Call-ID
// brings every message of a call to the worker that holds its entry.
//
// An entry's life, as Kamailio's ds_load_add / ds_load_update / ds_load_unset and ds_ht_timer:
// the INVITE forwarded to a destination takes load (INIT); a failover moves it to the next
// destination (ds_load_replace); a 2xx confirms it; a final failure, the caller's CANCEL or the
// dialog's BYE (either direction) releases it; a call never confirmed is released
// SIPLB_DS_HASH_INITEXPIRE after its INVITE, any call SIPLB_DS_HASH_EXPIRE after it (a BYE that
// never came). Kamailio keys the table by Call-ID alone, one call per Call-ID, and so does this.
import { ownString } from '../shared/own-string.js';
import { TimerWheel, type TimerHandle } from './timer-wheel.js';

/** Kamailio's DS_LOAD_INIT and DS_LOAD_CONFIRMED. */
export const enum CallState {
  Init,
  Confirmed,
}

/** The LOAD words of the shared table (src/shared/dest-table.ts). */
export interface LoadSlots {
  takeLoad(i: number): void;
  takeLoadBelow(i: number, max: number): boolean;
  releaseLoad(i: number): void;
}

export interface CallEntry {
  /** An owned copy (shared/own-string.ts): held for hours, it must not pin its datagram's text. */
  readonly callId: string;
  /** Table index of the destination the load is on. */
  index: number;
  /** CSeq number of the INVITE: tells its responses from a re-INVITE's (stateless mode). */
  cseq: number;
  state: CallState;
  /** When the load was taken, ms: both expiries count from it, as in Kamailio's ds_add_cell. */
  added: number;
  readonly timer: TimerHandle;
}

export class CallLoad {
  readonly #calls = new Map<string, CallEntry>();
  /**
   * One-second ticks: the expiries are hours and Kamailio checks them every 30 s
   * (ds_hash_check_interval); 8192 slots hold the default 7200 s in one lap, so a call costs one
   * slot and one O(1) unlink at its BYE, not a setTimeout.
   */
  readonly #wheel: TimerWheel;

  constructor(
    private readonly slots: LoadSlots,
    /** SIPLB_DS_HASH_EXPIRE in ms. */
    private readonly expireMs: number,
    /** SIPLB_DS_HASH_INITEXPIRE in ms. */
    private readonly initExpireMs: number,
    now: number,
    private readonly onExpire: () => void = () => {},
  ) {
    this.#wheel = new TimerWheel(now, 1000, 8192);
  }

  /** Calls holding load on this core now. */
  get size(): number {
    return this.#calls.size;
  }

  entry(callId: string): CallEntry | undefined {
    return this.#calls.get(callId);
  }

  /**
   * The INVITE of `callId` goes to destination `index`: one more call there, unless it is at
   * `maxload` (checked and added in one step: false, and nothing changes). A call that holds load
   * elsewhere moves it here (failover); one that holds it here already keeps it.
   */
  take(callId: string, cseq: number, index: number, maxload: number, now: number): CallEntry | undefined {
    const e = this.#calls.get(callId);
    if (e !== undefined && e.index === index) return e;
    if (!this.slots.takeLoadBelow(index, maxload)) return undefined;
    if (e !== undefined) {
      this.slots.releaseLoad(e.index);
      e.index = index;
      e.cseq = cseq;
      e.state = CallState.Init;
      e.added = now;
      this.#arm(e, now);
      return e;
    }
    const timer = this.#wheel.handle<CallEntry | undefined>(this.#expired, undefined);
    const created: CallEntry = { callId: ownString(callId), index, cseq, state: CallState.Init, added: now, timer };
    timer.arg = created;
    this.#calls.set(created.callId, created);
    this.#arm(created, now);
    return created;
  }

  /**
   * A 2xx answered the INVITE (ds_load_update): the call is up, on destination `index` when the
   * caller knows which one answered (a late 2xx from a branch failed over from moves the load
   * back). A call released meanwhile (its CANCEL crossed the 2xx) is up after all and takes load
   * again, when `index` says where.
   */
  confirm(e: CallEntry, index: number | undefined, now: number): void {
    if (this.#calls.get(e.callId) !== e) {
      if (index === undefined || this.#calls.has(e.callId)) return;
      this.slots.takeLoad(index);
      e.index = index;
      this.#calls.set(e.callId, e);
    } else if (index !== undefined && index !== e.index) {
      this.slots.takeLoad(index);
      this.slots.releaseLoad(e.index);
      e.index = index;
    }
    e.state = CallState.Confirmed;
    this.#arm(e, now);
  }

  /** The call is over or failed (BYE, CANCEL, a final non-2xx): its load goes (ds_load_remove). */
  release(e: CallEntry): void {
    if (this.#calls.get(e.callId) !== e) return;
    this.#calls.delete(e.callId);
    this.#wheel.clear(e.timer);
    this.slots.releaseLoad(e.index);
  }

  /** The clock tick. */
  tick(now: number): void {
    this.#wheel.advance(now);
  }

  /** INIT: whichever expiry comes first; CONFIRMED: SIPLB_DS_HASH_EXPIRE. Both from `added`. */
  #arm(e: CallEntry, now: number): void {
    const life = e.state === CallState.Init ? Math.min(this.initExpireMs, this.expireMs) : this.expireMs;
    this.#wheel.arm(e.timer, e.added + life - now);
  }

  readonly #expired = (e: CallEntry | undefined): void => {
    if (e === undefined || this.#calls.get(e.callId) !== e) return;
    this.release(e);
    this.onExpire();
  };
}
