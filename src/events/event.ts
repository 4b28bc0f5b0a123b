// A destination event as siplb hands it out: what the watcher builds from two readings of a
// destination's flags, the JSON body of a webhook, and the environment of an event command.
// DISPATCHER.md defines two events only: `dst-down` when a destination moves from usable to
// skipped (ds_skip_dst: inactive or disabled), `dst-up` for the reverse. A change of state letters
// that leaves the destination usable (AX to TX, a probing bit) is not an event.
import type { Destination } from '../dispatch/sets.js';
import { DS_DISABLED, isUsable, stateLetters } from '../shared/dest-state.js';

export type DestEventName = 'dst-down' | 'dst-up';

/**
 * Why a destination is skipped (dst-down) or what it came back from (dst-up). A guess from the
 * flags alone: the table does not record who changed them. `disabled` is an operator's doing
 * (flag 4, never set by siplb itself); `inactive` a failover mark or keepalives.
 */
export type DestEventReason = 'inactive' | 'disabled';

export interface DestEvent {
  readonly event: DestEventName;
  /** When the watcher saw the change (ISO 8601, UTC); the change itself is at most one poll older. */
  readonly time: string;
  /** siplb's advertised host:port, so a receiver fed by several nodes can tell them apart. */
  readonly node: string;
  readonly set: number;
  readonly uri: string;
  /** Position in its set, Kamailio's index (dispatcher.list order). */
  readonly index: number;
  /** siplb's stable id of the destination, `${set}:${uri}` (src/dispatch/sets.ts). */
  readonly id: string;
  /** The duid attr; null (not absent) when none, so every body has the same keys. */
  readonly duid: string | null;
  /** State letters before and after (dest-state.ts stateLetters: AX, TP, IP, DX...). */
  readonly oldState: string;
  readonly newState: string;
  readonly reason: DestEventReason;
}

/**
 * The event for a destination whose flags went from `before` to `after`, or undefined when its
 * usability did not change. On a flags word that is both inactive and disabled (possible from the
 * list file's flags column) the reason is `disabled`: the operator's decision is the one to report.
 */
export function destEvent(dest: Destination, before: number, after: number, at: Date, node: string): DestEvent | undefined {
  const wasUp = isUsable(before);
  if (wasUp === isUsable(after)) return undefined;
  const skipped = wasUp ? after : before;
  return {
    event: wasUp ? 'dst-down' : 'dst-up',
    time: at.toISOString(),
    node,
    set: dest.setId,
    uri: dest.uri,
    index: dest.index,
    id: dest.id,
    duid: dest.attrs.duid ?? null,
    oldState: stateLetters(before),
    newState: stateLetters(after),
    reason: skipped & DS_DISABLED ? 'disabled' : 'inactive',
  };
}

/**
 * The environment an event command gets, besides the inherited one. These names are not
 * configuration variables (loadConfig would refuse them in siplb's own environment); a test keeps
 * them apart from CONFIG_VARS, and the README check accepts them.
 */
export const EVENT_ENV_NAMES = [
  'SIPLB_EVENT',
  'SIPLB_EVENT_TIME',
  'SIPLB_EVENT_NODE',
  'SIPLB_EVENT_SET',
  'SIPLB_EVENT_URI',
  'SIPLB_EVENT_INDEX',
  'SIPLB_EVENT_ID',
  'SIPLB_EVENT_DUID',
  'SIPLB_EVENT_OLD_STATE',
  'SIPLB_EVENT_STATE',
  'SIPLB_EVENT_REASON',
  'SIPLB_EVENT_JSON',
] as const;

export type EventEnv = Record<(typeof EVENT_ENV_NAMES)[number], string>;

/** The event as environment variables; SIPLB_EVENT_JSON is the webhook body, byte for byte. */
export function eventEnv(e: DestEvent): EventEnv {
  return {
    SIPLB_EVENT: e.event,
    SIPLB_EVENT_TIME: e.time,
    SIPLB_EVENT_NODE: e.node,
    SIPLB_EVENT_SET: String(e.set),
    SIPLB_EVENT_URI: e.uri,
    SIPLB_EVENT_INDEX: String(e.index),
    SIPLB_EVENT_ID: e.id,
    SIPLB_EVENT_DUID: e.duid ?? '',
    SIPLB_EVENT_OLD_STATE: e.oldState,
    SIPLB_EVENT_STATE: e.newState,
    SIPLB_EVENT_REASON: e.reason,
    SIPLB_EVENT_JSON: JSON.stringify(e),
  };
}
