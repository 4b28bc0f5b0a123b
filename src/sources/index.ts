// Where the destinations come from: the list file (SIPLB_LIST_FILE) or Kamailio's dispatcher
// table (SIPLB_DB_URL). Start and reload both call readDestinationSource(); the caller checks
// sockets and resolves names the same way for either, and names a record's place with origin.where.
import { readFile } from 'node:fs/promises';
import type { SiplbConfig } from '../config/types.js';
import { dbTarget } from './sql-client.js';
import { parseDispatcherList, type DestinationRecord } from '../dispatch/list-file.js';
import { readSqlDestinations, rowWhere } from './sql.js';
import { fileOrigin, type SourceOrigin } from './origin.js';

export type { SourceOrigin };

export type SourceConfig = Pick<SiplbConfig, 'listFile' | 'dsLoadMode' | 'dbUrl' | 'dbTable' | 'dbColumns'>;


export interface DestinationSource {
  destinations: DestinationRecord[];
  warnings: string[];
  origin: SourceOrigin;
}

export function sourceOrigin(config: SourceConfig): SourceOrigin {
  if (config.dbUrl === '') return fileOrigin(config.listFile);
  return { variable: 'SIPLB_DB_URL', unit: 'row', name: `table ${config.dbTable} in ${dbTarget(config.dbUrl).shown}`, where: (id) => rowWhere(config.dbTable, id) };
}

/**
 * Reads and validates every destination of the configured source. Throws (SiplbConfigError for
 * bad lines or rows under SIPLB_DS_LOAD_MODE=1, SiplbDbError when the database cannot be read, a
 * file system error for an unreadable file) and leaves nothing half-loaded: the caller keeps what
 * it had.
 */
export async function readDestinationSource(config: SourceConfig): Promise<DestinationSource> {
  const origin = sourceOrigin(config);
  if (config.dbUrl !== '') return { ...(await readSqlDestinations(config)), origin };
  const text = await readFile(config.listFile, 'utf8');
  return { ...parseDispatcherList(text, { file: config.listFile, loadMode: config.dsLoadMode }), origin };
}
