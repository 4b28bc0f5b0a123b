// dispatcher.* methods on a real shared table, without HTTP: state letters as Kamailio parses
// them, set_state by URI, duid and `all`, clear errors, and dispatcher.hash as kamcmd prints it.
import { describe, expect, it } from 'vitest';
import { dispatcherMethods, stateParam } from '../../../src/admin/dispatcher-methods.js';
import { RpcRegistry } from '../../../src/admin/rpc.js';
import { parseDispatcherList } from '../../../src/dispatch/list-file.js';
import { buildSets } from '../../../src/dispatch/sets.js';
import { dsHash } from '../../../src/dispatch/hash.js';
import { flatten } from '../../../src/proxy/targets.js';
import { DS_DISABLED, DS_INACTIVE, DS_PROBING, DS_TRYING, stateLetters } from '../../../src/shared/dest-state.js';
import { DestTable } from '../../../src/shared/dest-table.js';

function setup(): { rpc: RpcRegistry; table: DestTable; uris: string[]; active: boolean[] } {
  const text = '1 sip:10.0.0.1:5060 0 0 duid=a\n1 sip:10.0.0.2:5060 8 0 duid=b\n2 sip:10.0.0.3:5060 0\n';
  const records = parseDispatcherList(text, { file: 'test.list', loadMode: 0 }).destinations;
  const flat = flatten(buildSets(records));
  const table = new DestTable(DestTable.create(flat.map((d) => d.flags)));
  const active = [true];
  const rpc = new RpcRegistry().add(
    dispatcherMethods({ records: () => records, states: () => table, latency: false, pingActive: (set) => { const was = active[0]!; if (set !== undefined) active[0] = set; return was; } }),
  );
  return { rpc, table, uris: flat.map((d) => d.uri), active };
}

describe('dispatcher methods', () => {
  it.each([
    ['a', 0], ['ap', DS_PROBING], ['I', DS_INACTIVE], ['ip', DS_INACTIVE | DS_PROBING], ['d', DS_DISABLED], ['dp', DS_DISABLED], ['tp', DS_TRYING | DS_PROBING],
    ['0', DS_INACTIVE], ['1p', DS_PROBING], ['2', DS_DISABLED], ['3', DS_TRYING],
  ] as const)('state %j is %i', (s, bits) => {
    expect(stateParam(s)).toBe(bits);
  });

  it('names the bad letter', () => {
    expect(() => stateParam('x')).toThrow("bad state letter 'x' in 'x': expected a (active), i (inactive), d (disabled) or t (trying), optionally followed by p (probing)");
    expect(() => stateParam('az')).toThrow("bad state letter 'z' in 'az'");
  });

  it('set_state by URI, by duid and for a whole set, in the shared table', async () => {
    const { rpc, table, uris } = setup();
    const at = (host: string): number => uris.indexOf(`sip:${host}:5060`);
    expect(await rpc.call('dispatcher.set_state', ['d', 1, 'SIP:10.0.0.1:5060'])).toBe('Ok. Dispatcher state updated.');
    expect(stateLetters(table.flags(at('10.0.0.1')))).toBe('DX');
    expect(await rpc.call('dispatcher.set_duid_state', { state: 'ip', group: '1', duid: 'b' })).toBe('Ok. Dispatcher state updated.');
    expect(stateLetters(table.flags(at('10.0.0.2')))).toBe('IP');
    await rpc.call('dispatcher.set_state', ['ap', 1, 'all']);
    expect([0, 1, 2].map((i) => stateLetters(table.flags(i)))).toEqual(['AP', 'AP', 'AX']);
    // a keepalive never undoes an operator's disable
    await rpc.call('dispatcher.set_state', ['d', 2, uris[2]!]);
    table.probeResult(2, true, 1);
    expect(stateLetters(table.flags(2))).toBe('DX');
  });

  it('says which set, destination or duid it does not know', async () => {
    const { rpc, uris } = setup();
    await expect(rpc.call('dispatcher.set_state', ['d', 9, uris[0]])).rejects.toThrow('unknown set 9');
    await expect(rpc.call('dispatcher.set_state', ['d', 2, uris[0]])).rejects.toThrow(`unknown destination ${uris[0]} in set 2`);
    await expect(rpc.call('dispatcher.set_duid_state', ['d', 1, 'zz'])).rejects.toThrow('unknown duid zz in set 1');
    await expect(rpc.call('dispatcher.set_state', ['q', 1, 'all'])).rejects.toThrow("bad state letter 'q'");
    await expect(rpc.call('dispatcher.set_state', ['d', 1])).rejects.toThrow('address must be a non-empty string, got nothing');
  });

  it('ping_active gets and sets, with Kamailio keys', async () => {
    const { rpc, active } = setup();
    expect(await rpc.call('dispatcher.ping_active', [])).toEqual({ OldPingState: 1 });
    expect(await rpc.call('dispatcher.ping_active', [0])).toEqual({ NewPingState: 0, OldPingState: 1 });
    expect(active[0]).toBe(false);
    await expect(rpc.call('dispatcher.ping_active', [2])).rejects.toThrow('state must be 0 or 1, got 2');
  });

  it('hash answers hashid and slot as kamcmd dispatcher.hash (golden values from ds_get_hash)', async () => {
    const { rpc } = setup();
    expect(await rpc.call('dispatcher.hash', [4, 'alice', 'atlanta.com'])).toEqual({ hashid: 1053853112, slot: 1053853112 % 4 });
    expect(await rpc.call('dispatcher.hash', { nslots: 10, val1: 'abc' })).toEqual({ hashid: 7167810, slot: 0 });
    expect(await rpc.call('dispatcher.hash', [0, 'abc'])).toEqual({ hashid: dsHash('abc'), slot: 0 });
  });
});
