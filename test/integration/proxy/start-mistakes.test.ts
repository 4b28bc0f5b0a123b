// Issue 8, defect 12: what an operator's mistakes at start look like, with `siplb start` run as
// users run it. A listening address that cannot be bound is one line naming the variable and a
// SIPLB_ERR_BIND code, exit 1, no stack trace; a list that routes nothing says so once, at start.
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { freeUdpPort, startProxy, writeList, type ProxyProcess } from '../../helpers/proxy-process.js';
import { BIN, ROOT, type CliResult } from '../../helpers/run-cli.js';
import { Peer } from '../../helpers/udp-peer.js';

const open: Array<Peer | ProxyProcess | Socket> = [];
afterEach(async () => {
  for (const x of open.splice(0)) {
    if ('stop' in x) await x.stop();
    else if (x instanceof Peer) await x.close();
    else await new Promise<void>((r) => x.close(() => r()));
  }
});

/** `siplb start` with only these variables (and PATH); resolves when it exits. */
function start(env: Record<string, string>, opts: { uid?: number; gid?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'start'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', SIPLB_WARMUP_CALLS: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000, ...opts });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function expectOneLine(r: CliResult, line: RegExp): void {
  expect(r.code, r.stderr).toBe(1);
  // the log's JSON lines (a socket bound before the one that failed) aside, one line and no stack
  const plain = r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{"level":'));
  expect(plain, r.stderr).toHaveLength(1);
  expect(`${plain[0]}\n`).toMatch(line);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

/** First port below which binding needs privileges here (net.ipv4.ip_unprivileged_port_start). */
const unprivilegedStart = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim());
const isRoot = process.getuid?.() === 0;

describe('siplb start: a listening address it cannot bind', () => {
  it('a port in use: SIPLB_LISTEN, the address, EADDRINUSE, exit 1, one line', async () => {
    const port = await freeUdpPort();
    const holder = createSocket('udp4');
    open.push(holder);
    await new Promise<void>((r) => holder.bind(port, '127.0.0.1', r));
    // the first address binds, the second fails: the first must be released and named nowhere
    const other = await freeUdpPort();
    const r = await start({ SIPLB_LISTEN: `udp:127.0.0.1:${other},udp:127.0.0.1:${port}` });
    expectOneLine(r, new RegExp(`^siplb: SIPLB_LISTEN: cannot bind udp:127\\.0\\.0\\.1:${port}: address already in use \\(EADDRINUSE\\) \\(SIPLB_ERR_BIND\\)\\n$`));
  });

  it.each([
    ['udp:192.0.2.1:5060', 'udp:192\\.0\\.2\\.1:5060'],
    ['udp:[2001:db8::1]:5060', 'udp:\\[2001:db8::1\\]:5060'],
  ])('an address not on this host (%s): EADDRNOTAVAIL', async (listen, shown) => {
    const r = await start({ SIPLB_LISTEN: listen });
    expectOneLine(r, new RegExp(`^siplb: SIPLB_LISTEN: cannot bind ${shown}: address not available on this host \\(EADDRNOTAVAIL\\) \\(SIPLB_ERR_BIND\\)\\n$`));
  });

  // As root the port is only privileged for another user: run siplb as nobody (65534).
  it.skipIf(unprivilegedStart === 0)(
    unprivilegedStart === 0 ? 'a privileged port: EACCES (skipped: net.ipv4.ip_unprivileged_port_start is 0, no port is privileged here)' : 'a privileged port: EACCES',
    async () => {
      const port = Math.min(1023, unprivilegedStart - 1);
      const r = await start({ SIPLB_LISTEN: `udp:127.0.0.1:${port}` }, isRoot ? { uid: 65534, gid: 65534 } : {});
      expectOneLine(r, new RegExp(`^siplb: SIPLB_LISTEN: cannot bind udp:127\\.0\\.0\\.1:${port}: permission denied \\(ports below 1024 need root or CAP_NET_BIND_SERVICE\\) \\(EACCES\\) \\(SIPLB_ERR_BIND\\)\\n$`));
    },
  );
});

describe('siplb start: a list that routes nothing', () => {
  it('an empty list: one warning naming the answer, and new calls get it', async () => {
    const proxy = await startProxy({ SIPLB_LIST_FILE: writeList('# no destination yet\n'), SIPLB_NO_DEST_CODE: '480', SIPLB_NO_DEST_REASON: 'Nobody Home', SIPLB_WARMUP_CALLS: '0' });
    open.push(proxy);
    const warns = proxy.stderr().split('\n').filter((l) => l.includes('"level":40'));
    expect(warns).toHaveLength(1);
    expect(warns[0]).toContain('the list has no destination: every new call will be answered 480 Nobody Home (SIPLB_NO_DEST_CODE, SIPLB_NO_DEST_REASON); add destinations to SIPLB_LIST_FILE');
    const uac = await Peer.open();
    open.push(uac);
    uac.send(
      [
        `INVITE sip:service@127.0.0.1:${proxy.port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${uac.port};branch=z9hG4bK-empty-1;rport`,
        'Max-Forwards: 70',
        `From: <sip:a@127.0.0.1>;tag=e1`,
        `To: <sip:service@127.0.0.1>`,
        'Call-ID: empty-1@127.0.0.1',
        'CSeq: 1 INVITE',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
      proxy.port,
    );
    await uac.waitFor((r) => r.some((x) => x.first === 'SIP/2.0 480 Nobody Home'));
  });

  it('SIPLB_SET naming a set the list does not have: one warning naming the sets it has', async () => {
    const proxy = await startProxy({ SIPLB_LIST_FILE: writeList('1 sip:127.0.0.1:5070\n2 sip:127.0.0.1:5072\n'), SIPLB_SET: '7', SIPLB_WARMUP_CALLS: '0' });
    open.push(proxy);
    const warns = proxy.stderr().split('\n').filter((l) => l.includes('"level":40'));
    expect(warns).toHaveLength(1);
    expect(warns[0]).toContain(
      'the list has no destination in set 7 (SIPLB_SET): every new call will be answered 503 Service Unavailable (SIPLB_NO_DEST_CODE, SIPLB_NO_DEST_REASON); set SIPLB_SET to a set the list has (1, 2) or add destinations to set 7',
    );
  });

  it('a list with destinations in SIPLB_SET: no such warning', async () => {
    const proxy = await startProxy({ SIPLB_LIST_FILE: writeList('1 sip:127.0.0.1:5070\n'), SIPLB_WARMUP_CALLS: '0' });
    open.push(proxy);
    expect(proxy.stderr()).not.toContain('every new call will be answered');
  });
});
