// A destination list from text to records ready for the proxy, in two steps: checkList (pure,
// CPU only: parse, every line's socket attrs against SIPLB_LISTEN), which a reload runs in the
// parse pool off the data path (parse-task.ts), and HostResolver (resolve.ts: DNS, async on the
// main thread).
import type { SiplbConfig } from '../config/types.js';
import { SiplbConfigError } from '../errors.js';
import { parseDispatcherList, type ParsedList } from '../dispatch/list-file.js';
import { recordSockets } from '../dispatch/sockets.js';
import { fileOrigin, type SourceOrigin } from '../sources/origin.js';

export type ListCheckConfig = Pick<SiplbConfig, 'listFile' | 'dsLoadMode' | 'listen'>;

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
