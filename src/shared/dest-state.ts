// Destination state as Kamailio's dispatcher defines it, as pure functions over numbers: the flag
// bits (dispatch.h, DISPATCHER.md "Destination flags"), their letters, the state argument of
// ds_mark_dst and dispatcher.set_state, and the transitions of ds_update_state and of the
// keepalive reply callback (ds_options_callback). src/shared/dest-table.ts applies them to the
// shared table with a CAS; nothing else changes a destination's state.

export const DS_INACTIVE = 1;
export const DS_TRYING = 2;
export const DS_DISABLED = 4;
export const DS_PROBING = 8;
/** No DNS A/AAAA resolution at load; not pinged. */
export const DS_NODNS = 16;
export const DS_NOPING = 32;
/**
 * The bits a state change resets before setting new ones: the four state bits, as DISPATCHER.md
 * says. Kamailio's own DS_STATES_ALL has grown over the years (15, then 31, 63 in 2024), so that
 * its marks now also clear 16 and 32; siplb keeps those two as loaded, since a failover mark that
 * silently turned "never ping" into "ping" would surprise an operator.
 */
export const DS_STATES_ALL = DS_INACTIVE | DS_TRYING | DS_DISABLED | DS_PROBING;
/**
 * siplb's own bit, beside Kamailio's: a slot of a registration set with no binding in it. Always
 * with DS_DISABLED, so selection skips it and keepalives never reach it; listings leave it out.
 */
export const SIPLB_VACANT = 0x80;
/** What a vacant registration slot holds. */
export const VACANT_SLOT = SIPLB_VACANT | DS_DISABLED;
/** Every flag bit a destination can carry (the low byte of its table word). */
export const DS_FLAGS_MASK = 0xff;

/** ds_probing_mode values (dispatch.h DS_PROBE_*). */
export const PROBE_NONE = 0;
export const PROBE_ALL = 1;
export const PROBE_INACTIVE = 2;
export const PROBE_ONLYFLAGGED = 3;

/** ds_probing_threshold and ds_inactive_threshold. */
export interface Thresholds {
  /** Failures (keepalives or `t` marks) that take a destination from trying to inactive. */
  readonly probing: number;
  /** Successes that take an inactive destination back to active. */
  readonly inactive: number;
}

/** Kamailio's defaults for both thresholds. */
export const KAMAILIO_THRESHOLDS: Thresholds = Object.freeze({ probing: 1, inactive: 1 });

/**
 * Selection skips a destination that is inactive or disabled (ds_skip_dst). Trying is still
 * selectable: it is only on its way towards the probing threshold.
 */
export function isUsable(flags: number): boolean {
  return (flags & (DS_INACTIVE | DS_DISABLED)) === 0;
}

/**
 * The two letters `dispatcher.list` prints: state by precedence I > D > T > A, then P (probing),
 * N (never ping), or X.
 */
export function stateLetters(flags: number): string {
  const first =
    flags & DS_INACTIVE ? 'I' : flags & DS_DISABLED ? 'D' : flags & DS_TRYING ? 'T' : 'A';
  const second = flags & DS_PROBING ? 'P' : flags & DS_NOPING ? 'N' : 'X';
  return first + second;
}

/**
 * The state argument of `dispatcher.set_state` and `ds_mark_dst`: `a` active, `i` inactive,
 * `t` trying, `d` disabled, optionally followed by `p` (probing); any case. Returns the state bits,
 * or undefined when the argument is none of these. (Kamailio's ds_parse_flags takes any string of
 * these letters; siplb accepts only the documented forms.)
 */
export function parseStateArg(arg: string): number | undefined {
  const m = /^([aitd])(p?)$/i.exec(arg);
  if (!m) return undefined;
  const base = { a: 0, i: DS_INACTIVE, t: DS_TRYING, d: DS_DISABLED }[m[1]!.toLowerCase() as 'a' | 'i' | 't' | 'd'];
  return base | (m[2] ? DS_PROBING : 0);
}

/** Applies state bits as Kamailio's ds_reinit_state (dispatcher.set_state) does: reset, then set. */
export function applyState(flags: number, state: number): number {
  return (flags & ~DS_STATES_ALL) | (state & DS_STATES_ALL);
}

/** A destination's flags and Kamailio's probing_count after one ds_update_state. */
export interface Updated {
  readonly flags: number;
  readonly count: number;
}

/**
 * Kamailio's ds_update_state (mode 0), the transition behind ds_mark_dst and every keepalive
 * result. `count` is Kamailio's single probing_count: consecutive failures while the destination
 * is not inactive, consecutive successes while it is.
 *
 * - The state bits are replaced by `state`; a disabled `state` leaves only the disabled bit.
 * - Trying on an inactive destination keeps it inactive (it must become active first) and
 *   restarts the count.
 * - Trying counts a failure; at the probing threshold trying becomes inactive, count 0.
 * - Anything else on an inactive destination counts a success; below the inactive threshold it
 *   stays inactive (keeping its probing bit); at the threshold it takes `state`, count 0.
 * - Anything else on a destination that was not inactive resets the count.
 */
export function updateState(flags: number, count: number, state: number, th: Thresholds): Updated {
  const old = flags;
  const asked = state & DS_STATES_ALL;
  let s = asked;
  if (s & DS_TRYING && old & DS_INACTIVE) s = (s & ~DS_TRYING) | DS_INACTIVE;
  let next = (old & ~DS_STATES_ALL) | (s & DS_DISABLED ? DS_DISABLED : s);
  if (s & DS_TRYING) {
    count++;
    if (count >= th.probing) {
      next = (next & ~DS_TRYING) | DS_INACTIVE;
      count = 0;
    }
  } else if (!(asked & DS_TRYING) && old & DS_INACTIVE) {
    count++;
    if (count < th.inactive) {
      next |= DS_INACTIVE | (old & DS_PROBING);
    } else {
      count = 0;
    }
  } else {
    count = 0;
  }
  return { flags: next, count };
}

/**
 * The state a keepalive result asks for (ds_options_callback), or undefined when the result must
 * not touch the destination: an operator disabled it meanwhile, or in probing mode 3 its probing
 * bit was cleared meanwhile. A good reply asks for active, keeping probing in mode 1, and in mode 3
 * when the destination has it. A failure asks for trying plus probing.
 *
 * One deliberate difference: in mode 0 Kamailio's failure asks for trying without probing, so a
 * destination pinged because it was flagged probing loses the flag on its first failure, becomes
 * inactive, and is never pinged again (stuck in IX until a reload or an operator). siplb keeps the
 * probing bit the destination had, so it keeps being pinged and comes back when it answers.
 */
export function probeState(flags: number, ok: boolean, probingMode: number): number | undefined {
  if (flags & DS_DISABLED) return undefined;
  if (probingMode === PROBE_ONLYFLAGGED && !(flags & DS_PROBING)) return undefined;
  if (ok) return probingMode === PROBE_ALL || probingMode === PROBE_ONLYFLAGGED ? DS_PROBING : 0;
  return DS_TRYING | (probingMode !== PROBE_NONE ? DS_PROBING : flags & DS_PROBING);
}

/**
 * Whether a destination gets a keepalive now (ds_ping_set with ds_ping_result_helper): never when
 * disabled, no-ping or no-DNS; mode 1 all others; modes 0 and 3 those flagged probing; mode 2 those
 * inactive and probing.
 */
export function shouldPing(flags: number, probingMode: number): boolean {
  if (flags & (DS_DISABLED | DS_NOPING | DS_NODNS)) return false;
  if (probingMode === PROBE_ALL) return true;
  if (probingMode === PROBE_INACTIVE) return (flags & (DS_PROBING | DS_INACTIVE)) === (DS_PROBING | DS_INACTIVE);
  return (flags & DS_PROBING) !== 0;
}
