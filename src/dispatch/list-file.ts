// Kamailio's dispatcher list file: `setid destination [flags] [priority] [attrs]` per line,
// whitespace separated, '#' comments (DISPATCHER.md, Destination sources). The caller reads the
// file; this turns its text into records or names every bad line by file and number.
// Stricter than Kamailio's ds_load_list, which reads digits until a non-digit and shrugs at the
// rest: a typo here is an error with a reason, not a destination in set 0.
import { SiplbConfigError } from '../errors.js';
import { parseAttrs, EMPTY_ATTRS, type DestinationAttrs } from './attrs.js';
import { parseDestinationUri, type DestinationUri } from './dest-uri.js';

export type { DestinationAttrs } from './attrs.js';
export type { DestinationTransport } from './dest-uri.js';

/** A destination as a list line (or RPC, or database row) gives it: its URI and the other columns. */
export interface DestinationRecord extends DestinationUri {
  readonly setId: number;
  /** Initial state and option bits (src/shared/dest-state.ts). */
  readonly flags: number;
  /** Kamailio priority: higher comes first for algorithm 8. */
  readonly priority: number;
  readonly attrs: DestinationAttrs;
  /** Line in the list file (1-based), or the row's id in a database table; 0 when from elsewhere (RPC). */
  readonly line: number;
  /**
   * `name:port` of the SRV target this record stands for, when its line named an SRV set
   * (src/list/resolve.ts): part of the destination's id, so each target keeps its own entry.
   */
  readonly target?: string;
  /**
   * Its entry in the shared destination table, given by the main thread when the list is loaded
   * (src/dispatch/roster.ts): kept across reloads by a destination present before and after.
   * Absent on records not loaded yet; flatten() then numbers them in table order.
   */
  readonly slot?: number;
}

export interface ParsedList {
  destinations: DestinationRecord[];
  warnings: string[];
}

/** Kamailio reads lines into a 1024-byte buffer; longer ones are refused rather than split. */
export const MAX_LINE = 1024;
const INT32_MAX = 0x7fffffff;

export type RecordResult = { ok: true; value: DestinationRecord; warnings: string[] } | { ok: false; reason: string };

function parseInt32(text: string, what: string, allowHex: boolean, allowSign: boolean): number | string {
  const ok = (allowHex && /^0x[0-9a-f]{1,8}$/i.test(text)) || (allowSign ? /^-?[0-9]+$/ : /^[0-9]+$/).test(text);
  const n = ok ? Number(text) : NaN;
  if (!ok || Math.abs(n) > INT32_MAX) {
    const forms = allowHex ? 'a decimal or 0x hex integer' : allowSign ? 'an integer' : 'a non-negative integer';
    return `${what} "${text}" is not ${forms} up to ${INT32_MAX}`;
  }
  return n;
}

/**
 * Builds one record from its columns as text. Shared by the list file, `dispatcher.add` and the
 * database loader, so every source accepts and refuses the same values.
 */
export function makeDestinationRecord(
  cols: { setId: string; destination: string; flags?: string; priority?: string; attrs?: string },
  line = 0,
): RecordResult {
  const setId = parseInt32(cols.setId, 'set id', false, false);
  if (typeof setId === 'string') return { ok: false, reason: setId };
  const uri = parseDestinationUri(cols.destination);
  if (!uri.ok) return { ok: false, reason: `bad destination URI "${cols.destination}": ${uri.reason}` };
  const flags = cols.flags === undefined ? 0 : parseInt32(cols.flags, 'flags', true, false);
  if (typeof flags === 'string') return { ok: false, reason: flags };
  const priority = cols.priority === undefined ? 0 : parseInt32(cols.priority, 'priority', false, true);
  if (typeof priority === 'string') return { ok: false, reason: priority };
  let attrs = EMPTY_ATTRS;
  let warnings: string[] = [];
  if (cols.attrs !== undefined && cols.attrs !== '') {
    const parsed = parseAttrs(cols.attrs);
    if (!parsed.ok) return parsed;
    attrs = parsed.value;
    warnings = parsed.warnings;
  }
  const { uri: text, scheme, user, host, address, port, transport } = uri.value;
  const value: DestinationRecord = { setId, uri: text, scheme, user, host, address, port, transport, flags, priority, attrs, line };
  return { ok: true, value: Object.freeze(value), warnings };
}

/** Cuts a comment: '#' at the start of the line or after whitespace. Inside a token it is text. */
function stripComment(line: string): string {
  const m = /(^|[ \t])#/.exec(line);
  return m ? line.slice(0, m.index) : line;
}

function parseLine(text: string, line: number): RecordResult | undefined {
  if (text.length > MAX_LINE) return { ok: false, reason: `line longer than ${MAX_LINE} characters (${text.length})` };
  const body = stripComment(text).trim();
  if (body === '') return undefined;
  const cols = body.split(/[ \t]+/);
  if (cols.length < 2) return { ok: false, reason: `missing destination after set id "${cols[0]}"` };
  if (cols.length > 5) return { ok: false, reason: `unexpected "${cols.slice(5).join(' ')}" after attrs (attrs may not contain spaces)` };
  const [setId, destination, flags, priority, attrs] = cols as [string, string, ...(string | undefined)[]];
  return makeDestinationRecord({ setId, destination, flags, priority, attrs }, line);
}

/**
 * Parses a whole list file. loadMode 1 (Kamailio ds_load_mode=1): any bad line throws a
 * SiplbConfigError naming every bad line, so the caller keeps the list it has. loadMode 0: bad
 * lines are skipped, one warning each.
 */
export function parseDispatcherList(text: string, opts: { file: string; loadMode: 0 | 1 }): ParsedList {
  const destinations: DestinationRecord[] = [];
  const warnings: string[] = [];
  const errors: string[] = [];
  const lines = text.split(/\r\n|\n|\r/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    const where = `${opts.file}:${i + 1}`;
    const r = parseLine(raw, i + 1);
    if (r === undefined) return;
    if (!r.ok) {
      errors.push(`${where}: ${r.reason}`);
      warnings.push(`${where}: ${r.reason} (line skipped)`);
      return;
    }
    destinations.push(r.value);
    for (const w of r.warnings) warnings.push(`${where}: ${w}`);
  });
  if (errors.length > 0 && opts.loadMode === 1) {
    const n = errors.length;
    throw new SiplbConfigError('SIPLB_LIST_FILE', `${n} bad line${n === 1 ? '' : 's'} in ${opts.file}, list not loaded:\n  ${errors.join('\n  ')}`);
  }
  return { destinations, warnings };
}
