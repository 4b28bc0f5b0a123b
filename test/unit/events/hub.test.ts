// startEvents as server.ts wires it, in-process on a real table: a destination down and back up
// (the up half needs the probe worker or the admin in a real process, so the table is changed
// directly here), each as a log line, a counter and a webhook POST to a real receiver, in order.
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { parseDispatcherList } from '../../../src/dispatch/list-file.js';
import { buildSets } from '../../../src/dispatch/sets.js';
import type { DestEvent } from '../../../src/events/event.js';
import { startEvents, type DestEvents } from '../../../src/events/hub.js';
import { flatten } from '../../../src/proxy/targets.js';
import { DS_DISABLED, DS_INACTIVE, DS_PROBING } from '../../../src/shared/dest-state.js';
import { DestTable } from '../../../src/shared/dest-table.js';
import { memoryLog, startReceiver, type HttpReceiver } from '../../helpers/http-receiver.js';

const records = parseDispatcherList('1 sip:10.0.0.1:5060 8 0 duid=a\n1 sip:10.0.0.2:5060 8 0 duid=b\n', { file: 't', loadMode: 1 }).destinations;
const open: Array<DestEvents | HttpReceiver> = [];
afterEach(async () => {
  for (const x of open.splice(0)) await ('stop' in x ? x.stop() : x.close());
});

function table(): DestTable {
  return new DestTable(DestTable.create(flatten(buildSets(records)).map((d) => d.flags)));
}

async function until(done: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('startEvents', () => {
  it('down then up: a warn and an info line, both counters, two POSTs in order', async () => {
    const receiver = await startReceiver();
    open.push(receiver);
    const t = table();
    const log = memoryLog();
    const config = loadConfig({ SIPLB_LISTEN: 'udp:127.0.0.1:5099', SIPLB_EVENT_WEBHOOK: receiver.url });
    const events = startEvents(config, records, t, log, { pollMs: 10 });
    open.push(events);
    expect(log.lines).toEqual([{ level: 'info', msg: 'destination events', fields: { webhook: `http://127.0.0.1:${receiver.port}`, command: false, queue: 1000 } }]);

    t.mark(1, DS_INACTIVE | DS_PROBING); // a failed keepalive at threshold 1
    await until(() => events.stats().dstDown === 1);
    t.mark(1, DS_PROBING); // an answered one
    await until(() => events.stats().webhookDelivered === 2);

    const bodies = receiver.requests.map((r) => JSON.parse(r.body) as DestEvent);
    expect(bodies.map((b) => [b.event, b.uri, b.oldState, b.newState, b.node])).toEqual([
      ['dst-down', 'sip:10.0.0.1:5060', 'AP', 'IP', '127.0.0.1:5099'],
      ['dst-up', 'sip:10.0.0.1:5060', 'IP', 'AP', '127.0.0.1:5099'],
    ]);
    expect(log.lines.slice(1).map((l) => [l.level, l.msg, l.fields])).toEqual([
      ['warn', 'destination down', bodies[0]],
      ['info', 'destination up', bodies[1]],
    ]);
    expect(events.stats()).toEqual({
      dstDown: 1,
      dstUp: 1,
      webhookDelivered: 2,
      webhookFailed: 0,
      webhookDropped: 0,
      webhookQueued: 0,
      commandRun: 0,
      commandFailed: 0,
      commandDropped: 0,
      commandPending: 0,
    });
  });

  it('with neither webhook nor command: log lines and counters only, and nothing after stop()', async () => {
    const t = table();
    const log = memoryLog();
    const events = startEvents(loadConfig({}), records, t, log, { pollMs: 10 });
    open.push(events);
    t.set(0, DS_DISABLED);
    await until(() => events.stats().dstDown === 1);
    expect(log.lines.map((l) => [l.msg, l.fields.reason])).toEqual([['destination down', 'disabled']]);
    events.stop();
    t.set(0, 0);
    await new Promise((r) => setTimeout(r, 60));
    expect(events.stats().dstUp).toBe(0);
  });
});
