// Real PostgreSQL and MariaDB servers for the SQL destination tests, started by
// scripts/db-server.sh in a temporary directory on 127.0.0.1 and stopped after the file. Under
// CI=true a server that cannot be started is a failure; elsewhere the tests that need it are
// skipped with the reason printed (as netnsAvailable does for namespaces).
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './run-cli.js';
import { withSql } from '../../src/sources/sql-client.js';
import { KAMAILIO_COLUMNS, type DbColumns } from '../../src/config/db.js';

const run = promisify(execFile);
const SCRIPT = join(ROOT, 'scripts', 'db-server.sh');

export type DbKind = 'postgres' | 'mariadb';

export interface DbServer {
  readonly kind: DbKind;
  /** postgres://siplb:siplb@127.0.0.1:PORT/siplb or mysql://... */
  readonly url: string;
  stop(): Promise<void>;
}

/** Why `kind` cannot be started here, or undefined when it can. */
function missing(kind: DbKind): string | undefined {
  if (process.getuid?.() !== 0) return 'scripts/db-server.sh needs root (it runs the server as the postgres or mysql user)';
  const pg = existsSync('/usr/lib/postgresql') && readdirSync('/usr/lib/postgresql').some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`));
  if (kind === 'postgres' && !pg) return 'PostgreSQL is not installed (apt-get install postgresql, as .ci/run does)';
  if (kind === 'mariadb' && !existsSync('/usr/sbin/mariadbd')) return 'MariaDB is not installed (apt-get install mariadb-server, as .ci/run does)';
  return undefined;
}

/**
 * Starts a throwaway server, or returns undefined (after printing why) when this machine cannot
 * run one and CI is not set. A watchdog stops it if this test process dies without stop().
 */
export async function startDbServer(kind: DbKind, what: string): Promise<DbServer | undefined> {
  const why = missing(kind);
  if (why !== undefined) {
    if (process.env.CI === 'true') throw new Error(`CI=true and ${why}; required by ${what}`);
    console.warn(`SKIP ${what}: ${why}`);
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), `siplb-${kind}-`));
  const { stdout } = await run('bash', [SCRIPT, 'start', kind, dir], { timeout: 40_000 });
  const url = stdout.trim().split('\n').pop() ?? '';
  const script = 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; bash "$2" stop "$3" "$4"';
  const watchdog = spawn('sh', ['-c', script, 'siplb-db-watchdog', String(process.pid), SCRIPT, kind, dir], { detached: true, stdio: 'ignore' });
  watchdog.unref();
  return {
    kind,
    url,
    stop: async () => {
      watchdog.kill();
      await run('bash', [SCRIPT, 'stop', kind, dir], { timeout: 30_000 });
    },
  };
}

/** Kamailio's `dispatcher` table (schema version 4, kamctl's dispatcher-create.sql), under any names. */
export function createTableSql(kind: DbKind, table: string, c: DbColumns = KAMAILIO_COLUMNS): string {
  if (kind === 'postgres') {
    return `CREATE TABLE ${table} (${c.id} SERIAL PRIMARY KEY NOT NULL, ${c.setid} INTEGER DEFAULT 0 NOT NULL, ${c.destination} VARCHAR(192) DEFAULT '' NOT NULL, ${c.flags} INTEGER DEFAULT 0 NOT NULL, ${c.priority} INTEGER DEFAULT 0 NOT NULL, ${c.attrs} VARCHAR(128) DEFAULT '' NOT NULL, ${c.description} VARCHAR(64) DEFAULT '' NOT NULL)`;
  }
  return `CREATE TABLE ${table} (${c.id} INT(10) UNSIGNED AUTO_INCREMENT PRIMARY KEY NOT NULL, ${c.setid} INT DEFAULT 0 NOT NULL, ${c.destination} VARCHAR(192) DEFAULT '' NOT NULL, ${c.flags} INT DEFAULT 0 NOT NULL, ${c.priority} INT DEFAULT 0 NOT NULL, ${c.attrs} VARCHAR(128) DEFAULT '' NOT NULL, ${c.description} VARCHAR(64) DEFAULT '' NOT NULL)`;
}

/** Runs statements in order on one connection (test setup: create tables, insert rows). */
export async function sqlExec(url: string, statements: readonly string[]): Promise<void> {
  await withSql(url, '', async (db) => {
    for (const s of statements) await db.query(s);
  });
}
