// Kamailio's dispatcher table as a destination source (SIPLB_DB_URL): one connection, one SELECT of
// every row, closed again. Each row goes through makeDestinationRecord, the list file's own
// parser, so a row is accepted or refused exactly as the same line in dispatcher.list would be;
// a refused row is named by table and id, and SIPLB_DS_LOAD_MODE decides as it does for the file.
import type { SiplbConfig } from '../config/types.js';
import { SiplbConfigError } from '../errors.js';
import { makeDestinationRecord, type DestinationRecord, type ParsedList } from '../dispatch/list-file.js';
import { dbTarget, quoteIdent, withSql, type SqlRow } from './sql-client.js';

export type DbSourceConfig = Pick<SiplbConfig, 'dbUrl' | 'dbTable' | 'dbColumns' | 'dsLoadMode'>;

/** How a row is named in messages: by its table and primary key, as kamctl dispatcher rm takes it. */
export function rowWhere(table: string, id: number): string {
  return `table ${table}, id ${id}`;
}

/**
 * Column text as the list file would give it; NULL is "not given" (Kamailio's defaults apply).
 * Drivers give strings, numbers, bigints (PostgreSQL int8) or Buffers (MySQL binary columns).
 */
export function cell(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (Buffer.isBuffer(v)) return v.toString('utf8').trim();
  return undefined;
}

/**
 * One row to a record. `line` holds the row's id: the place it came from, as a list line's
 * number does for the file (messages say "table T, id N").
 */
export function rowToRecord(row: SqlRow, c: SiplbConfig['dbColumns']): { id: number; r: ReturnType<typeof makeDestinationRecord> } {
  const id = Number(row[c.id]);
  const setId = cell(row[c.setid]);
  const destination = cell(row[c.destination]);
  if (setId === undefined) return { id, r: { ok: false, reason: `${c.setid} is NULL` } };
  if (destination === undefined || destination === '') return { id, r: { ok: false, reason: `${c.destination} is empty` } };
  const r = makeDestinationRecord({ setId, destination, flags: cell(row[c.flags]), priority: cell(row[c.priority]), attrs: cell(row[c.attrs]) }, Number.isSafeInteger(id) ? id : 0);
  return { id, r };
}

/** The SELECT every read runs: the five columns Kamailio's module reads, and the id, in id order. */
export function selectSql(config: DbSourceConfig, dialect: 'postgres' | 'mysql'): string {
  const c = config.dbColumns;
  const cols = [c.id, c.setid, c.destination, c.flags, c.priority, c.attrs].map((n) => quoteIdent(dialect, n)).join(', ');
  return `SELECT ${cols} FROM ${quoteIdent(dialect, config.dbTable)} ORDER BY ${quoteIdent(dialect, c.id)}`;
}

/**
 * Reads the whole table. Throws SiplbDbError when the database cannot be reached or read (the
 * caller keeps the list it has), SiplbConfigError naming every bad row under load mode 1; under
 * load mode 0 bad rows are skipped, one warning each.
 */
export async function readSqlDestinations(config: DbSourceConfig): Promise<ParsedList> {
  const rows = await withSql(config.dbUrl, config.dbTable, (client) => client.query(selectSql(config, client.dialect)));
  const destinations: DestinationRecord[] = [];
  const warnings: string[] = [];
  const errors: string[] = [];
  for (const row of rows) {
    const { id, r } = rowToRecord(row, config.dbColumns);
    const where = rowWhere(config.dbTable, id);
    if (!r.ok) {
      errors.push(`${where}: ${r.reason}`);
      warnings.push(`${where}: ${r.reason} (row skipped)`);
      continue;
    }
    destinations.push(r.value);
    for (const w of r.warnings) warnings.push(`${where}: ${w}`);
  }
  if (errors.length > 0 && config.dsLoadMode === 1) {
    const n = errors.length;
    const t = dbTarget(config.dbUrl);
    throw new SiplbConfigError('SIPLB_DB_URL', `${n} bad row${n === 1 ? '' : 's'} in table ${config.dbTable} of ${t.shown}, list not loaded:\n  ${errors.join('\n  ')}`);
  }
  return { destinations, warnings };
}
