// State that survives a restart (SIPLB_STATE_FILE): each destination's state flags and keepalive
// latency record, written with msgpackr at SIPLB_STATE_INTERVAL and on shutdown, and restored at
// start for the destinations still in the list, so that a restart neither sends calls to a server
// an operator disabled nor forgets what the keepalives learnt (OpenSIPS's persistent_state;
// Kamailio starts every destination from its list flags).
//
// A destination is matched by its id (set and URI, `#n` for further records of one URI) and must
// have the same list flags as when it was saved: a line an operator edited starts from its new
// flags, as it would at a reload. The file is replaced atomically (written aside, then renamed),
// so a crash while writing leaves the previous one. A missing file is a first start; an
// unreadable or foreign one is said in one line and ignored: it never stops a start.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { pack, unpack } from 'msgpackr';
import type { DestinationRecord } from '../dispatch/list-file.js';
import { recordIds } from '../dispatch/sets.js';
import type { DestTable, LatencyStats } from '../shared/dest-table.js';

/** Bumped when the layout changes; another version is ignored (with a line in the log). */
export const STATE_FILE_VERSION = 1;

interface SavedDestination {
  id: string;
  /** The list line's flags when saved: restored only onto the same line. */
  listFlags: number;
  /** The state flags (DS_* bits) when saved. */
  flags: number;
  latency: LatencyStats;
}

interface StateFile {
  siplbState: number;
  savedAt: number;
  destinations: SavedDestination[];
}

export interface StateLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/** The state of every destination of `records` (with their slots), as the file holds it. */
export function snapshotState(records: readonly DestinationRecord[], table: DestTable, now = Date.now()): StateFile {
  const ids = recordIds(records);
  return {
    siplbState: STATE_FILE_VERSION,
    savedAt: now,
    destinations: records.map((r, i) => ({ id: ids[i]!, listFlags: r.flags, flags: table.flags(r.slot!), latency: table.latency(r.slot!) })),
  };
}

/** Writes the state of `records` to `path` atomically. */
export async function saveState(path: string, records: readonly DestinationRecord[], table: DestTable): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, pack(snapshotState(records, table)), { mode: 0o600 });
  await rename(tmp, path);
}

function isStateFile(v: unknown): v is StateFile {
  const s = v as StateFile;
  return typeof s === 'object' && s !== null && s.siplbState === STATE_FILE_VERSION && Array.isArray(s.destinations);
}

/**
 * Puts the saved state of the destinations still present (same id, same list flags) into their
 * table entries. Call it before any thread reads the table. Returns how many were restored.
 */
export async function restoreState(path: string, records: readonly DestinationRecord[], table: DestTable, log: StateLog): Promise<number> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0; // a first start
    log.warn(`SIPLB_STATE_FILE: cannot read ${path}; every destination starts from its list flags`, { error: (err as NodeJS.ErrnoException).code ?? String(err) });
    return 0;
  }
  let state: unknown;
  try {
    state = unpack(bytes);
  } catch {
    state = undefined;
  }
  if (!isStateFile(state)) {
    log.warn(`SIPLB_STATE_FILE: ${path} is not a siplb state file of version ${STATE_FILE_VERSION}; every destination starts from its list flags`);
    return 0;
  }
  const saved = new Map(state.destinations.map((d) => [d.id, d]));
  const ids = recordIds(records);
  let restored = 0;
  records.forEach((r, i) => {
    const s = saved.get(ids[i]!);
    if (s === undefined || s.listFlags !== r.flags || typeof s.flags !== 'number') return;
    table.setListFlags(r.slot!, s.flags);
    if (s.latency && typeof s.latency.COUNT === 'number') table.writeLatency(r.slot!, s.latency);
    restored++;
  });
  log.info('destination state restored', { file: path, restored, of: records.length, savedAt: new Date(state.savedAt).toISOString() });
  return restored;
}
