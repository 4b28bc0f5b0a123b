// The JSON-RPC 2.0 registry against the specification's own examples (jsonrpc.org §7): single
// calls, positional and named params, notifications, batches, and each error code.
import { describe, expect, it } from 'vitest';
import { RpcError, RpcRegistry, intParam, type RpcMethod } from '../../../src/admin/rpc.js';

function registry(): { rpc: RpcRegistry; seen: unknown[] } {
  const seen: unknown[] = [];
  const subtract: RpcMethod = {
    params: ['minuend', 'subtrahend'],
    handler: (p) => {
      const [a, b] = p as unknown[];
      return intParam(a, 'minuend') - intParam(b, 'subtrahend');
    },
  };
  const rpc = new RpcRegistry().add([
    ['subtract', subtract],
    ['notify_hello', { handler: (p) => void seen.push(p) }],
    ['get_data', { readOnly: true, handler: async () => Promise.resolve(['hello', 5]) }],
    ['fails', { handler: () => { throw new RpcError(-32602, 'unknown set 9'); } }],
    ['crashes', { handler: () => { throw new Error('boom'); } }],
  ]);
  return { rpc, seen };
}

describe('RpcRegistry', () => {
  it('answers positional and named params alike', async () => {
    const { rpc } = registry();
    expect(await rpc.handle({ jsonrpc: '2.0', method: 'subtract', params: [42, 23], id: 1 })).toEqual({ jsonrpc: '2.0', result: 19, id: 1 });
    expect(await rpc.handle({ jsonrpc: '2.0', method: 'subtract', params: { subtrahend: 23, minuend: 42 }, id: 'x' })).toEqual({ jsonrpc: '2.0', result: 19, id: 'x' });
    expect(await rpc.handle({ jsonrpc: '2.0', method: 'subtract', params: { minuend: 42, sub: 1 }, id: 2 })).toEqual({
      jsonrpc: '2.0',
      error: { code: -32602, message: "unknown parameter 'sub': subtract takes minuend, subtrahend" },
      id: 2,
    });
  });

  it('gives a notification no answer, even when it fails', async () => {
    const { rpc, seen } = registry();
    expect(await rpc.handle({ jsonrpc: '2.0', method: 'notify_hello', params: [7] })).toBeUndefined();
    expect(await rpc.handle({ jsonrpc: '2.0', method: 'nope' })).toBeUndefined();
    expect(seen).toEqual([[7]]);
  });

  it('names each error as the specification numbers it', async () => {
    const { rpc } = registry();
    expect(await rpc.handle({ jsonrpc: '2.0', method: 'foobar', id: '1' })).toEqual({ jsonrpc: '2.0', error: { code: -32601, message: 'Method not found: foobar' }, id: '1' });
    expect(await rpc.handle({ jsonrpc: '2.0', method: 1, params: 'bar' })).toMatchObject({ error: { code: -32600 }, id: null });
    expect(await rpc.handle({ method: 'subtract', params: [1, 1], id: 3 })).toMatchObject({ error: { code: -32600, message: 'Invalid Request: jsonrpc must be "2.0"' }, id: 3 });
    expect(await rpc.handle({ jsonrpc: '2.0', method: 'subtract', params: 5, id: 4 })).toMatchObject({ error: { code: -32600 }, id: 4 });
    expect(await rpc.handle({ jsonrpc: '2.0', method: 'subtract', params: ['x', 1], id: 5 })).toMatchObject({ error: { code: -32602, message: 'minuend must be an integer, got "x"' } });
    expect(await rpc.handle({ jsonrpc: '2.0', method: 'fails', id: 6 })).toEqual({ jsonrpc: '2.0', error: { code: -32602, message: 'unknown set 9' }, id: 6 });
    expect(await rpc.handle({ jsonrpc: '2.0', method: 'crashes', id: 7 })).toEqual({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal error: boom' }, id: 7 });
    expect(await rpc.handle({ jsonrpc: '2.0', method: 'subtract', id: { no: 1 } })).toMatchObject({ error: { code: -32600 }, id: null });
  });

  it('answers a batch in order, leaving notifications out (§7 batch example)', async () => {
    const { rpc } = registry();
    const answer = await rpc.handle([
      { jsonrpc: '2.0', method: 'subtract', params: [42, 23], id: '1' },
      { jsonrpc: '2.0', method: 'notify_hello', params: [7] },
      { jsonrpc: '2.0', method: 'subtract', params: [42, 23], id: '2' },
      { foo: 'boo' },
      { jsonrpc: '2.0', method: 'foo.get', params: { name: 'myself' }, id: '5' },
      { jsonrpc: '2.0', method: 'get_data', id: '9' },
    ]);
    expect(answer).toEqual([
      { jsonrpc: '2.0', result: 19, id: '1' },
      { jsonrpc: '2.0', result: 19, id: '2' },
      { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request: jsonrpc must be "2.0"' }, id: null },
      { jsonrpc: '2.0', error: { code: -32601, message: 'Method not found: foo.get' }, id: '5' },
      { jsonrpc: '2.0', result: ['hello', 5], id: '9' },
    ]);
  });

  it('refuses an empty batch and an array of non-objects', async () => {
    const { rpc } = registry();
    expect(await rpc.handle([])).toEqual({ jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request: empty batch' }, id: null });
    expect(await rpc.handle([1, 2])).toEqual([
      { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request: not an object' }, id: null },
      { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request: not an object' }, id: null },
    ]);
    expect(await rpc.handle([{ jsonrpc: '2.0', method: 'notify_hello' }])).toBeUndefined();
  });

  it('refuses a method registered twice', () => {
    expect(() => registry().rpc.add([['subtract', { handler: () => 0 }]])).toThrow('RPC method subtract registered twice');
  });

  it('takes decimal strings for integers, as query strings and kamcmd send them', () => {
    expect(intParam('42', 'n')).toBe(42);
    expect(() => intParam('4x', 'n')).toThrow('n must be an integer, got "4x"');
    expect(() => intParam(1.5, 'n')).toThrow('n must be an integer');
  });
});
