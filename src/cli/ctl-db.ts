// `siplb ctl db add|rm|show`: edits the dispatcher table of SIPLB_DB_URL as `kamctl dispatcher
// add|rm|show` does, talking to the database, not to the proxy. Unlike kamctl, a destination or
// attrs that siplb would refuse at load is refused here, before it reaches the table, and values
// go in as query parameters, never spliced into the SQL. A running siplb sees the change at its
// next reload, as Kamailio does after `kamctl dispatcher reload`.
import { dbColumns, dbTable, dbUrl } from '../config/db.js';
import { SCHEMA } from '../config/schema.js';
import { makeDestinationRecord } from '../dispatch/list-file.js';
import { SiplbUsageError } from '../errors.js';
import { placeholder, quoteIdent, withSql } from '../sources/sql-client.js';
import { cell } from '../sources/sql.js';
import { EXIT_OK, type CliIo } from './io.js';

export const CTL_DB_USAGE = 'ctl db add SETID DESTINATION [FLAGS [PRIORITY [ATTRS [DESCRIPTION]]]] | db rm ID | db show [--json]';

const HELP = `Usage: siplb ${CTL_DB_USAGE}

Edit the dispatcher table of SIPLB_DB_URL (table SIPLB_DB_TABLE, columns SIPLB_DB_COLUMNS),
as kamctl dispatcher add|rm|show does. A running siplb loads the change at its next reload.
  add   insert a destination (checked as a dispatcher.list line would be); prints its id
  rm    delete the row with this id
  show  every row, ordered by set and id

Options:
  --json      print show's rows (or the added row) as JSON
  -h, --help  show this text
`;

interface DbRow {
  id: number;
  setid: number;
  destination: string;
  flags: number;
  priority: number;
  attrs: string;
  description: string;
}

export async function ctlDbCommand(args: readonly string[], io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const json = args.includes('--json');
  const rest = args.filter((a) => a !== '--json');
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(HELP);
    return EXIT_OK;
  }
  const url = dbUrl(env.SIPLB_DB_URL ?? SCHEMA.dbUrl.default, 'SIPLB_DB_URL');
  if (url === '') throw new SiplbUsageError('ctl db: SIPLB_DB_URL is empty; set it to the database that holds the dispatcher table');
  const table = dbTable(env.SIPLB_DB_TABLE ?? SCHEMA.dbTable.default, 'SIPLB_DB_TABLE');
  const c = dbColumns(env.SIPLB_DB_COLUMNS ?? SCHEMA.dbColumns.default, 'SIPLB_DB_COLUMNS');
  const [command, ...params] = rest;
  const cols = [c.id, c.setid, c.destination, c.flags, c.priority, c.attrs, c.description];

  const select = (dialect: 'postgres' | 'mysql', where: string): string =>
    `SELECT ${cols.map((n) => quoteIdent(dialect, n)).join(', ')} FROM ${quoteIdent(dialect, table)} ${where}`;
  const toRow = (r: Record<string, unknown>): DbRow => ({
    id: Number(r[c.id]),
    setid: Number(r[c.setid]),
    destination: cell(r[c.destination]) ?? '',
    flags: Number(r[c.flags] ?? 0),
    priority: Number(r[c.priority] ?? 0),
    attrs: cell(r[c.attrs]) ?? '',
    description: cell(r[c.description]) ?? '',
  });

  switch (command) {
    case 'add': {
      if (params.length < 2 || params.length > 6) throw new SiplbUsageError(`ctl db add takes 2 to 6 arguments, got ${params.length}; usage: siplb ${CTL_DB_USAGE}`);
      const [setId, destination, flags = '0', priority = '0', attrs = '', description = ''] = params as [string, string, ...string[]];
      const r = makeDestinationRecord({ setId, destination, flags, priority, attrs });
      if (!r.ok) throw new SiplbUsageError(`ctl db add: ${r.reason}`);
      for (const w of r.warnings) io.stderr(`siplb: warning: ${w}\n`);
      const row = await withSql(url, table, async (db) => {
        const q = (n: string): string => quoteIdent(db.dialect, n);
        const values = [r.value.setId, destination, r.value.flags, r.value.priority, attrs, description];
        const insert = `INSERT INTO ${q(table)} (${cols.slice(1).map(q).join(', ')}) VALUES (${values.map((_, i) => placeholder(db.dialect, i + 1)).join(', ')})`;
        // PostgreSQL says the new id with RETURNING; MySQL with LAST_INSERT_ID() on the same connection.
        const ids = db.dialect === 'postgres' ? await db.query(`${insert} RETURNING ${q(c.id)} AS id`, values) : (await db.query(insert, values), await db.query('SELECT LAST_INSERT_ID() AS id'));
        return (await db.query(select(db.dialect, `WHERE ${q(c.id)} = ${placeholder(db.dialect, 1)}`), [ids[0]?.id])).map(toRow)[0];
      });
      io.stdout(json ? `${JSON.stringify(row, null, 2)}\n` : `added id ${row?.id}: set ${r.value.setId} ${destination}\n`);
      return EXIT_OK;
    }
    case 'rm': {
      if (params.length !== 1 || !/^[0-9]+$/.test(params[0]!)) throw new SiplbUsageError(`ctl db rm takes one row id (a number, as ctl db show prints it); usage: siplb ${CTL_DB_USAGE}`);
      const id = Number(params[0]);
      const removed = await withSql(url, table, async (db) => {
        const where = `WHERE ${quoteIdent(db.dialect, c.id)} = ${placeholder(db.dialect, 1)}`;
        const found = (await db.query(select(db.dialect, where), [id])).map(toRow);
        if (found.length > 0) await db.query(`DELETE FROM ${quoteIdent(db.dialect, table)} ${where}`, [id]);
        return found[0];
      });
      if (removed === undefined) throw new SiplbUsageError(`ctl db rm: table ${table} has no row with id ${id}`);
      io.stdout(json ? `${JSON.stringify(removed, null, 2)}\n` : `removed id ${id}: set ${removed.setid} ${removed.destination}\n`);
      return EXIT_OK;
    }
    case 'show': {
      if (params.length > 0) throw new SiplbUsageError(`ctl db show takes no arguments: got '${params[0]}'`);
      const rows = await withSql(url, table, async (db) =>
        (await db.query(select(db.dialect, `ORDER BY ${quoteIdent(db.dialect, c.setid)}, ${quoteIdent(db.dialect, c.id)}`))).map(toRow),
      );
      io.stdout(json ? `${JSON.stringify(rows, null, 2)}\n` : formatRows(rows, table));
      return EXIT_OK;
    }
    default:
      throw new SiplbUsageError(command === undefined ? `ctl db: no command; usage: siplb ${CTL_DB_USAGE}` : `ctl db: unknown command '${command}'; usage: siplb ${CTL_DB_USAGE}`);
  }
}

/** The table `ctl db show` prints; columns padded to their widest cell. */
export function formatRows(rows: readonly DbRow[], table: string): string {
  const cells = [['ID', 'SET', 'DESTINATION', 'FLAGS', 'PRIO', 'ATTRS', 'DESCRIPTION']];
  for (const r of rows) cells.push([String(r.id), String(r.setid), r.destination, String(r.flags), String(r.priority), r.attrs, r.description]);
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  const lines = cells.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
  return `${lines.join('\n')}\n${rows.length} row${rows.length === 1 ? '' : 's'} in table ${table}\n`;
}
