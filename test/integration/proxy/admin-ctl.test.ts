// The control channel's trust and `siplb ctl` against a real siplb: a non-loopback SIPLB_ADMIN
// without a token refused at start in one line; with a token every path answers 401 (and
// WWW-Authenticate) without it or with a wrong one, 200 with it; the ctl commands through the
// real CLI, with the token from SIPLB_ADMIN_TOKEN, their tables, --json and exit codes; and
// ping-active really stopping and restarting keepalives.
import { afterEach, describe, expect, it } from 'vitest';
import { freeTcpPort, startProxy, writeList, type ProxyProcess } from '../../helpers/proxy-process.js';
import { runCliEnv } from '../../helpers/run-cli.js';
import { Peer, answer } from '../../helpers/udp-peer.js';

const open: Array<{ close(): Promise<void> } | ProxyProcess> = [];
afterEach(async () => {
  for (const x of open.splice(0)) await ('stop' in x ? x.stop() : x.close());
});

const TOKEN = 'correct-horse-battery-staple';

async function backend(): Promise<Peer & { options: () => number }> {
  const p = await Peer.open();
  open.push(p);
  p.onMessage = (r) => {
    if (!r.first.startsWith('SIP/2.0') && !r.first.startsWith('ACK')) p.send(answer(r.text, 200, 'OK', { toTag: 'b' }), r.from.port, r.from.address);
  };
  return Object.assign(p, { options: () => p.received.filter((r) => r.first.startsWith('OPTIONS')).length });
}

describe('admin trust', () => {
  it('refuses a non-loopback SIPLB_ADMIN without a token, in one line', async () => {
    const r = await runCliEnv(['start'], { SIPLB_LISTEN: 'udp:127.0.0.1:5999', SIPLB_LIST_FILE: writeList(''), SIPLB_ADMIN: '0.0.0.0:5081' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      'siplb: SIPLB_ADMIN: "0.0.0.0:5081" is not a loopback address (127.0.0.0/8, ::1); set SIPLB_ADMIN_TOKEN to listen there (SIPLB_ERR_CONFIG)',
    ]);
    const short = await runCliEnv(['start'], { SIPLB_LISTEN: 'udp:127.0.0.1:5999', SIPLB_LIST_FILE: writeList(''), SIPLB_ADMIN_TOKEN: 'short' });
    expect(short.stderr).toContain('SIPLB_ADMIN_TOKEN: expected 16 to 1024 characters, got 5');
  });

  it('with a token: 401 without it or with a wrong one on every path, 200 with it; ctl sends it', async () => {
    const a = await backend();
    const port = await freeTcpPort();
    const proxy = await startProxy({ SIPLB_LIST_FILE: writeList(`1 sip:127.0.0.1:${a.port} 0 0 duid=a\n`), SIPLB_ADMIN: `127.0.0.1:${port}`, SIPLB_ADMIN_TOKEN: TOKEN });
    open.unshift(proxy);
    const base = `http://127.0.0.1:${port}`;
    const rpcBody = JSON.stringify({ jsonrpc: '2.0', method: 'dispatcher.list', id: 1 });
    for (const auth of [undefined, 'Bearer wrong-token-wrong-token', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      const headers: Record<string, string> = auth === undefined ? {} : { authorization: auth };
      for (const [path, init] of [['/RPC', { method: 'POST', body: rpcBody }], ['/api/dispatcher/list', {}], ['/nothing-here', {}]] as const) {
        const res = await fetch(`${base}${path}`, { ...init, headers });
        expect([path, auth, res.status]).toEqual([path, auth, 401]);
        expect(res.headers.get('www-authenticate')).toBe('Bearer realm="siplb"');
        expect(((await res.json()) as { error: string }).error).toContain('bearer token');
      }
    }
    const ok = await fetch(`${base}/RPC`, { method: 'POST', body: rpcBody, headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { result: { NRSETS: number } }).result.NRSETS).toBe(1);
    expect((await fetch(`${base}/api/dispatcher/list`, { headers: { authorization: `bearer ${TOKEN}` } })).status).toBe(200);

    const env = { SIPLB_ADMIN: `127.0.0.1:${port}` };
    const refused = await runCliEnv(['ctl', 'list'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`siplb: siplb on 127.0.0.1:${port} refused the request (401): it needs a token: set SIPLB_ADMIN_TOKEN (SIPLB_ERR_CTL)\n`);
    const wrong = await runCliEnv(['ctl', 'list'], { ...env, SIPLB_ADMIN_TOKEN: 'x'.repeat(20) });
    expect(wrong.stderr).toContain('SIPLB_ADMIN_TOKEN is not the one it has');
    const list = await runCliEnv(['ctl', 'list'], { ...env, SIPLB_ADMIN_TOKEN: TOKEN });
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(`sip:127.0.0.1:${a.port}`);
  }, 20_000);
});

describe('siplb ctl commands', () => {
  it('set-state, hash, stats, ping-active: tables, --json, exit codes', async () => {
    const a = await backend();
    const b = await backend();
    const port = await freeTcpPort();
    const uriA = `sip:127.0.0.1:${a.port}`;
    const uriB = `sip:127.0.0.1:${b.port}`;
    const proxy = await startProxy({
      SIPLB_LIST_FILE: writeList(`1 ${uriA} 0 0 duid=a\n1 ${uriB} 0 0 duid=b\n`),
      SIPLB_ADMIN: `127.0.0.1:${port}`,
      SIPLB_DS_PING_INTERVAL: '1',
      SIPLB_DS_PROBING_MODE: '1',
    });
    open.unshift(proxy);
    const env = { SIPLB_ADMIN: `127.0.0.1:${port}` };
    const ctl = (...args: string[]): ReturnType<typeof runCliEnv> => runCliEnv(['ctl', ...args], env);

    const disabled = await ctl('set-state', 'd', '1', uriA);
    expect(disabled).toMatchObject({ code: 0, stderr: '' });
    expect(disabled.stdout.split('\n')[1]).toMatch(new RegExp(`^1 +${uriA} +DX$`));
    const byDuid = await ctl('set-state', 'ip', '1', '--duid', 'b', '--json');
    expect(JSON.parse(byDuid.stdout)).toMatchObject({ result: 'Ok. Dispatcher state updated.', set: 1, targets: [{ DEST: { URI: uriB, FLAGS: 'IP' } }] });
    const all = await ctl('set-state', 'ap', '1', 'all');
    expect(all.stdout.trim().split('\n').slice(1).map((l) => l.split(/ +/)[2])).toEqual(['AP', 'AP']);

    const bad = await ctl('set-state', 'x', '1', uriA);
    expect(bad).toMatchObject({ code: 1 });
    expect(bad.stderr).toBe("siplb: dispatcher.set_state: bad state letter 'x' in 'x': expected a (active), i (inactive), d (disabled) or t (trying), optionally followed by p (probing) (SIPLB_ERR_CTL)\n");
    expect((await ctl('set-state', 'd', '7', 'all')).stderr).toContain('unknown set 7');
    expect((await ctl('set-state', 'd', 'one', 'all')).code).toBe(2);
    expect((await ctl('frobnicate')).code).toBe(2);

    const hash = await ctl('hash', '4', 'alice', 'atlanta.com');
    expect(hash.stdout).toBe('HASHID      SLOT\n1053853112  0\n');
    expect(JSON.parse((await ctl('hash', '10', 'abc', '--json')).stdout)).toEqual({ hashid: 7167810, slot: 0 });

    const stats = await ctl('stats');
    expect(stats.code).toBe(0);
    expect(stats.stdout).toMatch(/^siplb counters:\n/);
    expect(stats.stdout).toMatch(/keepalives_sent [1-9]/);
    expect(JSON.parse((await ctl('stats', '--json')).stdout)).toHaveProperty('probe.active', true);

    // keepalives really stop and start again
    expect((await ctl('ping-active')).stdout).toBe('keepalives on\n');
    expect((await ctl('ping-active', 'off')).stdout).toBe('keepalives off (were on)\n');
    await new Promise((r) => setTimeout(r, 300)); // one already under way may still land
    const before = a.options() + b.options();
    await new Promise((r) => setTimeout(r, 2500));
    expect(a.options() + b.options()).toBe(before);
    expect(JSON.parse((await ctl('ping-active', '--json')).stdout)).toEqual({ OldPingState: 0 });
    expect((await ctl('ping-active', 'on')).stdout).toBe('keepalives on (were off)\n');
    await a.waitFor(() => a.options() + b.options() > before, 3000);
    expect((await ctl('ping-active', 'maybe')).code).toBe(2);

    const help = await runCliEnv(['ctl', '--help'], {});
    expect(help.stdout).toContain('set-state STATE SET URI|all');
    expect(help.stdout).toContain('ping-active [on|off]');
  }, 30_000);
});
