// The destination watcher: events from changes made to the real shared table, by this thread
// (mark, set, markFailed as the proxy and an admin do) and by another thread (a worker marking it,
// as a dispatch worker does), with nothing but the table between writer and watcher.
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { parseDispatcherList } from '../../../src/dispatch/list-file.js';
import { buildSets } from '../../../src/dispatch/sets.js';
import type { DestEvent } from '../../../src/events/event.js';
import { DestWatcher } from '../../../src/events/watch.js';
import { flatten } from '../../../src/proxy/targets.js';
import { DS_DISABLED, DS_INACTIVE, DS_PROBING, DS_TRYING } from '../../../src/shared/dest-state.js';
import { DestTable } from '../../../src/shared/dest-table.js';

const LIST = [
  '1 sip:10.0.0.1:5060 0 10 duid=ms1',
  '1 sip:10.0.0.2:5060 8 5',
  '2 sip:10.0.0.3:5070 1 0 duid=late', // loaded inactive
].join('\n');
const records = parseDispatcherList(LIST, { file: 'test.list', loadMode: 1 }).destinations;
const AT = new Date('2026-12-14T09:30:12.345Z');

const watchers: DestWatcher[] = [];
const threads: Worker[] = [];
afterEach(async () => {
  for (const w of watchers.splice(0)) w.stop();
  await Promise.all(threads.splice(0).map((t) => t.terminate()));
});

function rig(thresholds = { probing: 1, inactive: 1 }, onEvent?: (e: DestEvent) => void): { table: DestTable; events: DestEvent[]; watcher: DestWatcher; at: (uri: string) => number } {
  const dests = flatten(buildSets(records));
  const table = new DestTable(DestTable.create(dests.map((d) => d.flags), thresholds));
  const events: DestEvent[] = [];
  const watcher = new DestWatcher({ records, table, node: '192.0.2.10:5060', onEvent: onEvent ?? ((e) => events.push(e)), now: () => AT });
  watchers.push(watcher);
  return { table, events, watcher, at: (uri) => dests.findIndex((d) => d.uri === uri) };
}

describe('DestWatcher', () => {
  it('a destination marked inactive: one dst-down with everything a receiver needs', () => {
    const { table, events, watcher, at } = rig();
    expect(watcher.poll()).toBe(0); // the table as loaded is the baseline: set 2's inactive one did not go down
    table.markFailed(at('sip:10.0.0.1:5060'), DS_INACTIVE);
    expect(watcher.poll()).toBe(1);
    expect(events).toEqual([
      {
        event: 'dst-down',
        time: '2026-12-14T09:30:12.345Z',
        node: '192.0.2.10:5060',
        set: 1,
        uri: 'sip:10.0.0.1:5060',
        index: 0, // priority 10 comes first in its set (Kamailio's order)
        id: '1:sip:10.0.0.1:5060',
        duid: 'ms1',
        oldState: 'AX',
        newState: 'IX',
        reason: 'inactive',
      },
    ]);
    expect(watcher.poll()).toBe(0); // reported once, not at every poll while it stays down
  });

  it('dst-up when it comes back, and when a destination loaded inactive becomes active', () => {
    const { table, events, watcher, at } = rig();
    const a = at('sip:10.0.0.1:5060');
    table.mark(a, DS_INACTIVE | DS_PROBING);
    watcher.poll();
    table.mark(a, DS_PROBING); // a keepalive answered (inactive threshold 1)
    table.set(at('sip:10.0.0.3:5070'), 0); // dispatcher.set_state a
    expect(watcher.poll()).toBe(2);
    expect(events.map((e) => [e.event, e.uri, e.oldState, e.newState, e.reason, e.duid])).toEqual([
      ['dst-down', 'sip:10.0.0.1:5060', 'AX', 'IP', 'inactive', 'ms1'],
      ['dst-up', 'sip:10.0.0.1:5060', 'IP', 'AP', 'inactive', 'ms1'],
      ['dst-up', 'sip:10.0.0.3:5070', 'IX', 'AX', 'inactive', 'late'],
    ]);
    expect(events[2]).toMatchObject({ set: 2, index: 0 });
  });

  it('an operator disable and enable: reason disabled both ways; duid null when there is none', () => {
    const { table, events, watcher, at } = rig();
    const b = at('sip:10.0.0.2:5060');
    table.set(b, DS_DISABLED);
    watcher.poll();
    table.set(b, DS_PROBING);
    watcher.poll();
    expect(events.map((e) => [e.event, e.oldState, e.newState, e.reason, e.duid, e.index])).toEqual([
      ['dst-down', 'AP', 'DX', 'disabled', null, 1],
      ['dst-up', 'DX', 'AP', 'disabled', null, 1],
    ]);
  });

  it('state changes that keep a destination usable are not events; trying up to the threshold is', () => {
    const { table, events, watcher, at } = rig({ probing: 3, inactive: 1 });
    const a = at('sip:10.0.0.1:5060');
    table.mark(a, DS_TRYING); // TX, still selectable
    table.mark(at('sip:10.0.0.2:5060'), 0); // AP -> AX
    expect(watcher.poll()).toBe(0);
    table.mark(a, DS_TRYING);
    expect(watcher.poll()).toBe(0);
    table.mark(a, DS_TRYING); // third failure: the probing threshold, inactive
    expect(watcher.poll()).toBe(1);
    expect(events[0]).toMatchObject({ event: 'dst-down', oldState: 'TX', newState: 'IX' });
  });

  it('down and back between two polls goes unreported (the documented blind spot of polling)', () => {
    const { table, events, watcher, at } = rig();
    const a = at('sip:10.0.0.1:5060');
    table.mark(a, DS_INACTIVE);
    table.set(a, 0);
    expect(watcher.poll()).toBe(0);
    expect(events).toEqual([]);
  });

  it('a consumer that throws gets onError, and the other destinations still get their events', () => {
    const seen: string[] = [];
    const errors: string[] = [];
    const { table, at } = rig(undefined, () => {});
    const dests = flatten(buildSets(records));
    const watcher = new DestWatcher({
      records,
      table,
      node: 'n',
      onEvent: (e) => {
        seen.push(e.uri);
        if (e.uri === 'sip:10.0.0.1:5060') throw new Error('consumer bug');
      },
      onError: (err, e) => errors.push(`${String(err)} ${e.uri}`),
    });
    table.set(at('sip:10.0.0.1:5060'), DS_INACTIVE);
    table.set(at('sip:10.0.0.2:5060'), DS_INACTIVE);
    expect(watcher.poll()).toBe(2);
    expect(seen.sort()).toEqual([dests[0]!.uri, dests[1]!.uri].sort());
    expect(errors).toEqual(['Error: consumer bug sip:10.0.0.1:5060']);
  });

  it('refuses a table that was not built from these records', () => {
    const table = new DestTable(DestTable.create([0, 0]));
    expect(() => new DestWatcher({ records, table, node: 'n', onEvent: () => {} })).toThrow(/slot 2 of 2:sip:10.0.0.3:5070 is past the list's 2 table entries/);
  });

  it('on its timer: sees a mark made by another thread, and nothing after stop()', async () => {
    const dests = flatten(buildSets(records));
    const sab = DestTable.create(dests.map((d) => d.flags));
    const events: DestEvent[] = [];
    const watcher = new DestWatcher({ records, table: new DestTable(sab), node: 'n', onEvent: (e) => events.push(e), pollMs: 10 }).start();
    watchers.push(watcher);
    const b = dests.findIndex((d) => d.uri === 'sip:10.0.0.2:5060');
    threads.push(new Worker(new URL('../../helpers/dest-table-worker.mjs', import.meta.url), { workerData: { table: sab, job: 'mark', index: b, state: DS_INACTIVE | DS_PROBING } }));
    await until(() => events.length === 1);
    expect(events[0]).toMatchObject({ event: 'dst-down', uri: 'sip:10.0.0.2:5060', oldState: 'AP', newState: 'IP' });
    watcher.stop();
    new DestTable(sab).set(b, 0);
    await new Promise((r) => setTimeout(r, 100));
    expect(events).toHaveLength(1);
  });
});

async function until(done: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}
