// Destinations from Kamailio's dispatcher table (SIPLB_DB_URL) on real PostgreSQL and MariaDB
// servers (scripts/db-server.sh, loopback only): siplb start loads the table and routes a real
// INVITE to a destination from it, under Kamailio's names or configured ones; bad rows follow
// SIPLB_DS_LOAD_MODE and are named by table and id; a database that is down is one line; and
// `siplb ctl db add|show|rm` edits the table as kamctl dispatcher does.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freeTcpPort, freeUdpPort, startProxy, type ProxyProcess } from '../../helpers/proxy-process.js';
import { runCliEnv, describeResult, type CliResult } from '../../helpers/run-cli.js';
import { Peer } from '../../helpers/udp-peer.js';
import { createTableSql, sqlExec, startDbServer, type DbKind, type DbServer } from '../../helpers/db-server.js';
import { dbColumns } from '../../../src/config/db.js';

const open: Array<Peer | ProxyProcess> = [];
afterEach(async () => {
  for (const x of open.splice(0)) await ('stop' in x ? x.stop() : x.close());
});

function invite(proxyPort: number, uacPort: number, tag: string): string {
  return [
    `INVITE sip:service@127.0.0.1:${proxyPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${uacPort};branch=z9hG4bK-sql-${tag};rport`,
    'Max-Forwards: 70',
    `From: <sip:alice@127.0.0.1:${uacPort}>;tag=f-${tag}`,
    `To: <sip:service@127.0.0.1:${proxyPort}>`,
    `Call-ID: sql-${tag}@127.0.0.1`,
    'CSeq: 1 INVITE',
    `Contact: <sip:alice@127.0.0.1:${uacPort}>`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** A proxy on the table, and an INVITE through it: resolves with the backend that got it. */
async function routesTo(env: Record<string, string>, backends: Peer[], tag: string): Promise<{ proxy: ProxyProcess; got: Peer }> {
  const proxy = await startProxy({ SIPLB_WARMUP_CALLS: '0', SIPLB_ALG: '8', ...env });
  open.unshift(proxy);
  const uac = await Peer.open();
  open.push(uac);
  uac.send(invite(proxy.port, uac.port, tag), proxy.port);
  const gotIt = (p: Peer): boolean => p.received.some((r) => r.first.startsWith('INVITE ') && r.text.includes(`Call-ID: sql-${tag}@`));
  await Promise.any(backends.map((p) => p.waitFor((rs) => gotIt(p) && rs.length > 0, 5000)));
  return { proxy, got: backends.find(gotIt)! };
}

/** Exit 1, one line on stderr (JSON log lines aside), no stack trace. */
function expectOneLine(r: CliResult): string {
  expect(r.code, describeResult(r)).toBe(1);
  const plain = r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{"level":'));
  expect(plain, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return plain[0]!;
}

/** `siplb start` expected to fail before serving: resolves when it exits. */
async function start(env: Record<string, string>): Promise<CliResult> {
  const listen = `udp:127.0.0.1:${await freeUdpPort()}`;
  return runCliEnv(['start'], { SIPLB_ADMIN: '', SIPLB_DS_PING_INTERVAL: '0', SIPLB_WARMUP_CALLS: '0', SIPLB_LISTEN: listen, ...env });
}

// Both servers start at once (MariaDB's first start takes seconds) and serve every test of the file.
const servers = new Map<DbKind, DbServer | undefined>();
beforeAll(async () => {
  const kinds: DbKind[] = ['postgres', 'mariadb'];
  const started = await Promise.allSettled(kinds.map((k) => startDbServer(k, `test/integration/sources/sql.test.ts on ${k}`)));
  started.forEach((r, i) => servers.set(kinds[i]!, r.status === 'fulfilled' ? r.value : undefined));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}, 60_000);
afterAll(async () => {
  await Promise.all([...servers.values()].map((s) => s?.stop() ?? Promise.resolve()));
});

describe.each<[DbKind, string]>([
  ['postgres', 'postgres'],
  ['mariadb', 'mysql'],
])('dispatcher table on %s', (kind, scheme) => {
  const server = (): DbServer | undefined => servers.get(kind);
  let db: DbServer | undefined;
  beforeAll(() => {
    db = server();
  });
  const url = (): string => db!.url;
  const t = (name: string): string => `${name}_${kind}`;

  it('siplb start reads the table and routes an INVITE to the destination it names', async ({ skip }) => {
    if (db === undefined) return skip();
    expect(url().startsWith(`${scheme}://`)).toBe(true);
    const [a, b] = [await Peer.open(), await Peer.open()];
    open.push(a, b);
    // algorithm 8: the highest priority wins, so the row decides which backend gets the call
    await sqlExec(url(), [
      createTableSql(kind, 'dispatcher'),
      `INSERT INTO dispatcher (setid, destination, flags, priority, attrs, description) VALUES (1, 'sip:127.0.0.1:${a.port}', 0, 1, 'duid=a', 'low'), (1, 'sip:127.0.0.1:${b.port}', 0, 9, 'duid=b;weight=50', 'high')`,
    ]);
    const { got } = await routesTo({ SIPLB_DB_URL: url() }, [a, b], `${kind}-default`);
    expect(got).toBe(b);
  });

  it('custom table and column names (SIPLB_DB_TABLE, SIPLB_DB_COLUMNS)', async ({ skip }) => {
    if (db === undefined) return skip();
    const a = await Peer.open();
    open.push(a);
    const spec = 'id=rid,setid=grp,destination=uri,flags=fl,priority=prio,attrs=at,description=note';
    await sqlExec(url(), [createTableSql(kind, t('lb_targets'), dbColumns(spec, 'x')), `INSERT INTO ${t('lb_targets')} (grp, uri, fl, prio, at) VALUES (3, 'sip:127.0.0.1:${a.port}', 0, 0, '')`]);
    const { got } = await routesTo({ SIPLB_DB_URL: url(), SIPLB_DB_TABLE: t('lb_targets'), SIPLB_DB_COLUMNS: spec, SIPLB_SET: '3' }, [a], `${kind}-custom`);
    expect(got).toBe(a);
  });

  it('a reload reads the table again: a new row takes calls, the others keep their state; a table that cannot be read keeps the list', async ({ skip }) => {
    if (db === undefined) return skip();
    const [a, b] = [await Peer.open(), await Peer.open()];
    open.push(a, b);
    const table = t('reloaded');
    const row = (p: Peer, prio: number): string => `(1, 'sip:127.0.0.1:${p.port}', 0, ${prio}, '', 'r')`;
    await sqlExec(url(), [createTableSql(kind, table), `INSERT INTO ${table} (setid, destination, flags, priority, attrs, description) VALUES ${row(a, 1)}`]);
    const port = await freeTcpPort();
    const admin = `http://127.0.0.1:${port}`;
    await routesTo({ SIPLB_DB_URL: url(), SIPLB_DB_TABLE: table, SIPLB_ADMIN: `127.0.0.1:${port}`, SIPLB_RELOAD_DELTA: '0' }, [a], `${kind}-reload-1`);
    const rpc = async (method: string, params: unknown[] = []): Promise<{ result?: unknown; error?: { message: string } }> =>
      (await (await fetch(`${admin}/RPC`, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 }) })).json()) as { result?: unknown; error?: { message: string } };
    const flags = async (): Promise<string[]> => {
      const list = (await rpc('dispatcher.list')).result as { RECORDS: Array<{ SET: { TARGETS: Array<{ DEST: { URI: string; FLAGS: string } }> } }> };
      return list.RECORDS.flatMap((r) => r.SET.TARGETS.map((d) => `${d.DEST.URI} ${d.DEST.FLAGS}`)).sort();
    };
    await rpc('dispatcher.set_state', ['d', 1, `sip:127.0.0.1:${a.port}`]);
    await sqlExec(url(), [`INSERT INTO ${table} (setid, destination, flags, priority, attrs, description) VALUES ${row(b, 9)}`]);
    expect((await rpc('siplb.reload')).result).toMatchObject({ destinations: 2, kept: 1, added: 1, removed: 0 });
    expect(await flags()).toEqual([`sip:127.0.0.1:${a.port} DX`, `sip:127.0.0.1:${b.port} AX`].sort());
    // the table gone: the reload is refused with the database's reason, and the list stays
    await sqlExec(url(), [`DROP TABLE ${table}`]);
    const refused = await rpc('siplb.reload');
    expect(refused.error?.message).toMatch(/SIPLB_DB/);
    expect(await flags()).toEqual([`sip:127.0.0.1:${a.port} DX`, `sip:127.0.0.1:${b.port} AX`].sort());
  });

  it('a bad row: load mode 0 skips it with a warning naming table and id; load mode 1 refuses to start', async ({ skip }) => {
    if (db === undefined) return skip();
    const a = await Peer.open();
    open.push(a);
    const table = t('ds_bad');
    await sqlExec(url(), [
      createTableSql(kind, table),
      `INSERT INTO ${table} (setid, destination, attrs) VALUES (1, 'sip:bad host:5060', ''), (1, 'sip:127.0.0.1:${a.port}', 'weight=50')`,
    ]);
    const env = { SIPLB_DB_URL: url(), SIPLB_DB_TABLE: table };
    const { proxy } = await routesTo({ ...env, SIPLB_DS_LOAD_MODE: '0' }, [a], `${kind}-mode0`);
    expect(proxy.stderr()).toMatch(new RegExp(`table ${table}, id 1: bad destination URI \\\\"sip:bad host:5060\\\\".*\\(row skipped\\)`));

    const r = await start({ ...env, SIPLB_DS_LOAD_MODE: '1' });
    expect(r.code, describeResult(r)).toBe(1);
    expect(r.stderr).toContain(`SIPLB_DB_URL: 1 bad row in table ${table} of ${scheme}://siplb:***@127.0.0.1:`);
    expect(r.stderr).toContain(`table ${table}, id 1: bad destination URI "sip:bad host:5060"`);
    expect(r.stderr).not.toContain('siplb:siplb@');
  });

  it('a missing table or column is one line naming the variable to fix', async ({ skip }) => {
    if (db === undefined) return skip();
    const noTable = expectOneLine(await start({ SIPLB_DB_URL: url(), SIPLB_DB_TABLE: 'no_such_table' }));
    expect(noTable).toMatch(/^siplb: SIPLB_DB_TABLE: no table no_such_table in .*\((42P01|ER_NO_SUCH_TABLE)\) \(SIPLB_ERR_DB\)$/);
    const noColumn = expectOneLine(await start({ SIPLB_DB_URL: url(), SIPLB_DB_COLUMNS: 'attrs=no_such_column' }));
    expect(noColumn).toMatch(/^siplb: SIPLB_DB_COLUMNS: a column of table dispatcher is missing .*no_such_column.*\((42703|ER_BAD_FIELD_ERROR)\) \(SIPLB_ERR_DB\)$/);
  });

  it('an empty table starts and says once where to add destinations', async ({ skip }) => {
    if (db === undefined) return skip();
    const table = t('ds_empty');
    await sqlExec(url(), [createTableSql(kind, table)]);
    const proxy = await startProxy({ SIPLB_WARMUP_CALLS: '0', SIPLB_DB_URL: url(), SIPLB_DB_TABLE: table });
    open.push(proxy);
    const warns = proxy.stderr().split('\n').filter((l) => l.includes('"level":40'));
    expect(warns, proxy.stderr()).toHaveLength(1);
    expect(warns[0]).toContain(`the list has no destination: every new call will be answered 503 Service Unavailable (SIPLB_NO_DEST_CODE, SIPLB_NO_DEST_REASON); add destinations to table ${table} (SIPLB_DB_URL)`);
  });

  it('siplb ctl db add, show, rm: the kamctl dispatcher round trip', async ({ skip }) => {
    if (db === undefined) return skip();
    const table = t('ds_ctl');
    await sqlExec(url(), [createTableSql(kind, table)]);
    const env = { SIPLB_DB_URL: url(), SIPLB_DB_TABLE: table };
    const ctl = (...args: string[]): Promise<CliResult> => runCliEnv(['ctl', 'db', ...args], env);

    // refused before it reaches the table, as a list line would be (no id used up)
    const [bad, added] = await Promise.all([ctl('add', '1', 'sip:10.0.0.3', '0', '0', 'weight'), ctl('add', '2', 'sip:10.0.0.1:5060', '8', '5', 'weight=50;duid=gw1', 'gw one')]);
    expect(added.stdout, describeResult(added)).toBe('added id 1: set 2 sip:10.0.0.1:5060\n');
    expect((await ctl('add', '1', '10.0.0.2')).stdout).toBe('added id 2: set 1 10.0.0.2\n');
    expect(bad.code, describeResult(bad)).toBe(2);
    expect(bad.stderr).toContain('ctl db add:');

    const [shown, asJson] = await Promise.all([ctl('show'), ctl('show', '--json')]);
    expect(shown.stdout, describeResult(shown)).toBe(
      [
        'ID  SET  DESTINATION        FLAGS  PRIO  ATTRS               DESCRIPTION',
        '2   1    10.0.0.2           0      0',
        '1   2    sip:10.0.0.1:5060  8      5     weight=50;duid=gw1  gw one',
        `2 rows in table ${table}`,
        '',
      ].join('\n'),
    );
    const json = JSON.parse(asJson.stdout) as unknown;
    expect(json).toEqual([
      { id: 2, setid: 1, destination: '10.0.0.2', flags: 0, priority: 0, attrs: '', description: '' },
      { id: 1, setid: 2, destination: 'sip:10.0.0.1:5060', flags: 8, priority: 5, attrs: 'weight=50;duid=gw1', description: 'gw one' },
    ]);

    expect((await ctl('rm', '1')).stdout).toBe('removed id 1: set 2 sip:10.0.0.1:5060\n');
    // the row is gone: a second rm finds nothing
    const again = await ctl('rm', '1');
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`ctl db rm: table ${table} has no row with id 1`);
  });
});

describe('a database that is down at start', () => {
  it.each([['postgres'], ['mysql']])('%s: one line naming SIPLB_DB_URL, host, port and ECONNREFUSED, no password, exit 1', async (scheme) => {
    const port = await freeTcpPort();
    const line = expectOneLine(await start({ SIPLB_DB_URL: `${scheme}://siplb:s3cret@127.0.0.1:${port}/siplb` }));
    expect(line).toBe(
      `siplb: SIPLB_DB_URL: cannot connect to ${scheme} at 127.0.0.1:${port} (${scheme}://siplb:***@127.0.0.1:${port}/siplb): connect ECONNREFUSED 127.0.0.1:${port} (ECONNREFUSED) (SIPLB_ERR_DB)`,
    );
  });
});
