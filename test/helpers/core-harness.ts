// Drives one ProxyCore with no sockets: datagrams in, sends captured, a clock the test moves. The
// parser, the SIP rewriting and the dispatcher are the real ones; only the socket and the clock
// are replaced, so every SIP decision the proxy makes is visible and deterministic.
import { loadConfig } from '../../src/config/load.js';
import { parseDispatcherList } from '../../src/dispatch/list-file.js';
import { coreConfig } from '../../src/proxy/core-config.js';
import { ProxyCore } from '../../src/proxy/core.js';
import { DestTable } from '../../src/shared/dest-table.js';
import { flatten } from '../../src/proxy/targets.js';
import { buildSets } from '../../src/dispatch/sets.js';
import type { Peer } from '../../src/proxy/types.js';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Sent {
  bytes: Buffer;
  text: string;
  address: string;
  port: number;
}

export const UAC: Peer = { address: '127.0.0.1', port: 5061, socket: 0 };
export const DEST_A: Peer = { address: '127.0.0.11', port: 5070, socket: 0 };
export const DEST_B: Peer = { address: '127.0.0.12', port: 5072, socket: 0 };

// Priorities make the order explicit: Kamailio puts equal priorities in reverse file order.
export const DEFAULT_LIST = '1 sip:127.0.0.11:5070 0 10 duid=a\n1 sip:127.0.0.12:5072 0 5 duid=b\n';

export interface Harness {
  core: ProxyCore;
  states: DestTable;
  sent: Sent[];
  /** Sends captured since the last call. */
  take(): Sent[];
  feed(bytes: Buffer, from: Peer): Sent[];
  advance(ms: number): Sent[];
}

export function harness(env: Record<string, string> = {}, list = DEFAULT_LIST, opts: { queueDelay?: () => number } = {}): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'siplb-core-'));
  const file = join(dir, 'dispatcher.list');
  writeFileSync(file, list);
  const config = loadConfig({ SIPLB_LISTEN: 'udp:127.0.0.1:5060', SIPLB_LIST_FILE: file, SIPLB_RR_SECRET: 'test-secret-0123456789', SIPLB_MARK_FAILED: '', ...env });
  const records = parseDispatcherList(list, { file, loadMode: 1 }).destinations;
  const states = new DestTable(DestTable.create(flatten(buildSets(records)).map((d) => d.flags)));
  let now = 1_000_000;
  const sent: Sent[] = [];
  let mark = 0;
  const core = new ProxyCore(
    coreConfig(config, records),
    states,
    {
      send(bytes, address, port) {
        const b = Buffer.from(bytes);
        sent.push({ bytes: b, text: b.toString('latin1'), address, port });
      },
    },
    () => now,
    opts.queueDelay,
  );
  const take = (): Sent[] => {
    const out = sent.slice(mark);
    mark = sent.length;
    return out;
  };
  return {
    core,
    states,
    sent,
    take,
    feed(bytes, from) {
      core.onDatagram(bytes, from);
      return take();
    },
    advance(ms) {
      for (let t = 0; t < ms; t += 10) {
        now += 10;
        core.tick();
      }
      return take();
    },
  };
}
