// How messages name where a destination came from: a list file's line or a table's row. Apart
// from the readers so that the list checks (and the parse pool's thread) need no database driver.

export interface SourceOrigin {
  /** The variable an error about the source names. */
  readonly variable: 'SIPLB_LIST_FILE' | 'SIPLB_DB_URL';
  /** The file's path, or "table T in URL" (password hidden). */
  readonly name: string;
  /** What one record is called in messages. */
  readonly unit: 'line' | 'row';
  /** A record's place, from its `line`: "file:12" or "table dispatcher, id 12". */
  where(line: number): string;
}

/** The list file `file`: a record's place is `file:line`. */
export function fileOrigin(file: string): SourceOrigin {
  return { variable: 'SIPLB_LIST_FILE', unit: 'line', name: file, where: (line) => `${file}:${line}` };
}

/** Records that came from one operator command (dispatcher.add): the command names them. */
export function commandOrigin(command: string): SourceOrigin {
  return { variable: 'SIPLB_LIST_FILE', unit: 'line', name: command, where: () => command };
}
