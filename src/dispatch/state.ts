// Destination flag bits and their letters, with Kamailio's values and meanings (dispatch.h,
// DISPATCHER.md "Destination flags"). The first four are the state; 16 and 32 are options that
// stay as loaded.

export const DS_INACTIVE = 1;
export const DS_TRYING = 2;
export const DS_DISABLED = 4;
export const DS_PROBING = 8;
/** No DNS A/AAAA resolution at load; not pinged. */
export const DS_NODNS = 16;
export const DS_NOPING = 32;
/** Kamailio's DS_STATES_ALL: the bits a state change resets before setting new ones. */
export const DS_STATES_ALL = DS_INACTIVE | DS_TRYING | DS_DISABLED | DS_PROBING;

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
 * or undefined when the argument is none of these.
 */
export function parseStateArg(arg: string): number | undefined {
  const m = /^([aitd])(p?)$/i.exec(arg);
  if (!m) return undefined;
  const base = { a: 0, i: DS_INACTIVE, t: DS_TRYING, d: DS_DISABLED }[m[1]!.toLowerCase() as 'a' | 'i' | 't' | 'd'];
  return base | (m[2] ? DS_PROBING : 0);
}

/** Applies parsed state bits as Kamailio's ds_reinit_state does: reset the state bits, set the new. */
export function applyState(flags: number, state: number): number {
  return (flags & ~DS_STATES_ALL) | (state & DS_STATES_ALL);
}
