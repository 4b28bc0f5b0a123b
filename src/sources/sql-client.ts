// One short-lived connection to the destination database, PostgreSQL (pg) or MySQL/MariaDB
// (mysql2), behind the three calls siplb needs: query with parameters, quote an identifier, close.
// Every failure becomes one SiplbDbError line naming the variable to fix, the host and port, and
// the server's or the system's error code; the password never appears (redactUrl).
// The drivers are loaded at the first connection, not with this module: a proxy on a list file
// (most of them) does not carry pg and mysql2 in its heap (measured: about 18 MiB more RSS).
import type { RowDataPacket } from 'mysql2/promise';
import { redactUrl } from '../config/db.js';
import { SiplbDbError } from '../errors.js';

export type SqlDialect = 'postgres' | 'mysql';
export type SqlRow = Record<string, unknown>;

export interface SqlClient {
  readonly dialect: SqlDialect;
  /** Rows of a query; `params` fill $1.. (PostgreSQL) or ? (MySQL): write them with placeholder(). */
  query(sql: string, params?: readonly unknown[]): Promise<SqlRow[]>;
  close(): Promise<void>;
}

/** Where the database is, for messages: dialect, host:port, the URL without its password. */
export interface DbTarget {
  readonly dialect: SqlDialect;
  readonly host: string;
  readonly port: number;
  readonly shown: string;
}

/** Connecting and each query are bounded: a server that does not answer is an error, not a hang. */
export const DB_TIMEOUT_MS = 5000;

export function dbTarget(url: string): DbTarget {
  const u = new URL(url);
  const dialect: SqlDialect = u.protocol === 'mysql:' ? 'mysql' : 'postgres';
  const port = u.port === '' ? (dialect === 'mysql' ? 3306 : 5432) : Number(u.port);
  return { dialect, host: u.hostname, port, shown: redactUrl(url) };
}

/** `name` or `schema.name`, quoted for the dialect (names are checked by the config parsers). */
export function quoteIdent(dialect: SqlDialect, name: string): string {
  const q = dialect === 'mysql' ? '`' : '"';
  return name
    .split('.')
    .map((part) => `${q}${part}${q}`)
    .join('.');
}

/** The n-th (1-based) query parameter. */
export function placeholder(dialect: SqlDialect, n: number): string {
  return dialect === 'mysql' ? '?' : `$${n}`;
}

interface DriverError {
  code?: string | number;
  errno?: number;
  message?: string;
}

/** Codes meaning "no such table" or "no such column", so the message points at the right variable. */
const NO_TABLE = new Set(['42P01', 'ER_NO_SUCH_TABLE']);
const NO_COLUMN = new Set(['42703', 'ER_BAD_FIELD_ERROR']);

function reasonOf(err: unknown): string {
  const e = err as DriverError;
  if (typeof e.code === 'string' && e.code !== '') return e.code;
  if (/timeout/i.test(e.message ?? '')) return 'ETIMEDOUT';
  return 'error';
}

/** The driver's message on one line, without anything that may echo the URL. */
function detail(err: unknown, t: DbTarget): string {
  const raw = (err as DriverError).message ?? String(err);
  return raw.split('\n')[0]!.replaceAll(t.shown, '<url>').slice(0, 200);
}

/** A driver error while connecting or querying, as one line for the operator. */
export function dbError(err: unknown, t: DbTarget, doing: string, table?: string): SiplbDbError {
  const reason = reasonOf(err);
  const where = `${t.dialect} at ${t.host}:${t.port} (${t.shown})`;
  if (NO_TABLE.has(reason)) return new SiplbDbError('SIPLB_DB_TABLE', `no table ${table ?? ''} in ${where}: ${detail(err, t)} (${reason})`, reason, { cause: err });
  if (NO_COLUMN.has(reason)) return new SiplbDbError('SIPLB_DB_COLUMNS', `a column of table ${table ?? ''} is missing in ${where}: ${detail(err, t)} (${reason})`, reason, { cause: err });
  return new SiplbDbError('SIPLB_DB_URL', `cannot ${doing} ${where}: ${detail(err, t)} (${reason})`, reason, { cause: err });
}

/** Opens a connection; throws SiplbDbError when the server is down, slow, or refuses the login. */
export async function connectSql(url: string): Promise<SqlClient> {
  const t = dbTarget(url);
  try {
    return t.dialect === 'mysql' ? await connectMysql(url) : await connectPostgres(url);
  } catch (err) {
    throw dbError(err, t, 'connect to');
  }
}

async function connectPostgres(url: string): Promise<SqlClient> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: DB_TIMEOUT_MS, query_timeout: DB_TIMEOUT_MS });
  // A connection that breaks after connect() emits 'error'; without a listener that is a crash.
  client.on('error', () => undefined);
  await client.connect();
  return {
    dialect: 'postgres',
    query: async (sql, params = []) => (await client.query<SqlRow>(sql, [...params])).rows,
    close: () => client.end(),
  };
}

async function connectMysql(url: string): Promise<SqlClient> {
  const { createConnection } = await import('mysql2/promise');
  const conn = await createConnection({ uri: url, connectTimeout: DB_TIMEOUT_MS, supportBigNumbers: true });
  conn.on('error', () => undefined);
  return {
    dialect: 'mysql',
    query: async (sql, params = []) => {
      const [rows] = await conn.query<RowDataPacket[]>({ sql, timeout: DB_TIMEOUT_MS }, [...params]);
      return Array.isArray(rows) ? rows : [];
    },
    close: () => conn.end(),
  };
}

/** Runs `work` on a fresh connection and always closes it; query errors become SiplbDbError. */
export async function withSql<T>(url: string, table: string, work: (c: SqlClient) => Promise<T>): Promise<T> {
  const t = dbTarget(url);
  const client = await connectSql(url);
  try {
    return await work(client);
  } catch (err) {
    throw err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('SIPLB_ERR_') ? err : dbError(err, t, 'read from', table);
  } finally {
    await client.close().catch(() => undefined);
  }
}
