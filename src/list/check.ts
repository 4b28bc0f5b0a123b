// A destination list from text to records ready for the proxy, in two steps: checkList (pure,
// CPU only: parse, every line's socket attrs against SIPLB_LISTEN), which a reload runs in the
// parse pool off the data path (parse-task.ts), and resolveHosts (DNS, async on the main thread).
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { SiplbConfig } from '../config/types.js';
import { SiplbConfigError } from '../errors.js';
import { parseDispatcherList, type DestinationRecord, type ParsedList } from '../dispatch/list-file.js';
import { recordSockets } from '../dispatch/sockets.js';
import { fileOrigin, type SourceOrigin } from '../sources/origin.js';

export type ListCheckConfig = Pick<SiplbConfig, 'listFile' | 'dsLoadMode' | 'listen'>;

export interface ListLog {
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/**
 * Parses a list file's text and checks each record's socket attrs. Load mode 1: any bad line
 * throws a SiplbConfigError naming every one (the caller keeps the list it has); mode 0: bad
 * lines become warnings and are left out.
 */
export function checkList(text: string, config: ListCheckConfig): ParsedList {
  const parsed = parseDispatcherList(text, { file: config.listFile, loadMode: config.dsLoadMode });
  return checkSockets(parsed, config, fileOrigin(config.listFile));
}

/** The socket, sockname and ping_socket attrs of parsed records against SIPLB_LISTEN. */
export function checkSockets(parsed: ParsedList, config: ListCheckConfig, origin: SourceOrigin): ParsedList {
  const warnings = [...parsed.warnings];
  const errors: string[] = [];
  const destinations = parsed.destinations.filter((r) => {
    const s = recordSockets(r, config.listen);
    if (typeof s !== 'string') return true;
    const where = `${origin.where(r.line)}: ${s}`;
    if (config.dsLoadMode === 1) errors.push(where);
    else warnings.push(`${where} (${origin.unit} skipped)`);
    return false;
  });
  if (errors.length > 0) {
    const n = errors.length;
    throw new SiplbConfigError(origin.variable, `${n} bad ${origin.unit}${n === 1 ? '' : 's'} in ${origin.name}, list not loaded:\n  ${errors.join('\n  ')}`);
  }
  return { destinations, warnings };
}

/**
 * Host names resolved once, here: the hot path sends to addresses. A name that does not resolve
 * keeps its destination, inactive (flag 1) at 0.0.0.0, and is said once.
 */
export async function resolveHosts(records: readonly DestinationRecord[], origin: Pick<SourceOrigin, 'where'>, log: ListLog): Promise<DestinationRecord[]> {
  const out: DestinationRecord[] = [];
  for (const r of records) {
    if (isIP(r.address)) {
      out.push(r);
      continue;
    }
    try {
      const a = await lookup(r.address);
      out.push({ ...r, address: a.address });
    } catch (err) {
      log.warn(`${origin.where(r.line)}: cannot resolve ${r.host}; the destination is kept inactive`, { err: String(err) });
      out.push({ ...r, address: '0.0.0.0', flags: r.flags | 1 });
    }
  }
  return out;
}
