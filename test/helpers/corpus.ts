// The RFC 4475 corpus as data: the raw messages (byte-exact), index.tsv (what the RFC says), and
// expectations.json (what siplb decided). test/fixtures/rfc4475/README.md explains the files.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const CORPUS_DIR = join(import.meta.dirname, '..', 'fixtures', 'rfc4475');
export const GOLDEN_DIR = join(CORPUS_DIR, 'golden');

/** What a proxy still reads from a malformed request to answer it; null where it is absent or unusable. */
export interface ViewExpectation {
  /** Top Via sent-by, "host" or "host:port". */
  readonly via: string | null;
  readonly branch: string | null;
  readonly callId: string | null;
  /** "number METHOD". */
  readonly cseq: string | null;
  readonly fromTag: string | null;
}

export interface Expectation {
  readonly file: string;
  /** Bytes of the file: a line-ending conversion changes it. */
  readonly size: number;
  /** index.tsv's `expect` column. */
  readonly rfcExpect: 'valid' | 'invalid';
  /** "ok" or the ERR_* name the parser returns. */
  readonly parse: string;
  /** The SIP status a proxy answers with, "forward", or "drop" (responses, nothing to answer to). */
  readonly status: number | 'forward' | 'drop';
  /** The outcome in a transaction-stateful proxy, where it differs from `status`. */
  readonly statusStateful?: number | 'forward' | 'drop';
  /** "proxy" when the status is a proxy rule rather than the parser's mapping of its error. */
  readonly statusBy?: 'proxy';
  readonly decision: string;
  readonly view?: ViewExpectation;
}

export interface CorpusEntry extends Expectation {
  /** File name without .dat: the golden is golden/<name>.json. */
  readonly name: string;
  readonly bytes: Buffer;
  /** index.tsv's `note` column: RFC 4475's description of the message. */
  readonly note: string;
}

interface IndexRow {
  readonly expect: string;
  readonly note: string;
}

function readIndex(): Map<string, IndexRow> {
  const rows = new Map<string, IndexRow>();
  const [header, ...lines] = readFileSync(join(CORPUS_DIR, 'index.tsv'), 'utf8').trimEnd().split('\n');
  if (header !== 'file\trfc\tsection\texpect\tnote') throw new Error(`index.tsv: unexpected header ${header}`);
  for (const line of lines) {
    const [file = '', , , expect = '', note = ''] = line.split('\t');
    rows.set(file.replace(/^rfc4475\//, ''), { expect, note });
  }
  return rows;
}

const str = (v: unknown): v is string => typeof v === 'string';
const strOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';

function isView(v: unknown): v is ViewExpectation {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return strOrNull(o.via) && strOrNull(o.branch) && strOrNull(o.callId) && strOrNull(o.cseq) && strOrNull(o.fromTag);
}

function isExpectation(v: unknown): v is Expectation {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    str(o.file) &&
    typeof o.size === 'number' &&
    (o.rfcExpect === 'valid' || o.rfcExpect === 'invalid') &&
    str(o.parse) &&
    (typeof o.status === 'number' || o.status === 'forward' || o.status === 'drop') &&
    (o.statusStateful === undefined || typeof o.statusStateful === 'number' || o.statusStateful === 'forward' || o.statusStateful === 'drop') &&
    (o.statusBy === undefined || o.statusBy === 'proxy') &&
    str(o.decision) &&
    (o.view === undefined || isView(o.view))
  );
}

/** expectations.json, checked entry by entry so a typo fails loudly instead of passing as undefined. */
export function readExpectations(): Expectation[] {
  const raw = JSON.parse(readFileSync(join(CORPUS_DIR, 'expectations.json'), 'utf8')) as unknown;
  if (!Array.isArray(raw)) throw new Error('expectations.json: not an array');
  return raw.map((entry: unknown, i) => {
    if (!isExpectation(entry)) throw new Error(`expectations.json: entry ${i} is malformed: ${JSON.stringify(entry)}`);
    return entry;
  });
}

/** Every corpus message with its expectation and RFC note, in expectations.json order. */
export function loadCorpus(): CorpusEntry[] {
  const index = readIndex();
  return readExpectations().map((e) => ({
    ...e,
    name: e.file.replace(/\.dat$/, ''),
    bytes: readFileSync(join(CORPUS_DIR, e.file)),
    note: index.get(e.file)?.note ?? '',
  }));
}

/** The .dat files on disk and the files index.tsv lists, for completeness checks. */
export function corpusFiles(): { onDisk: string[]; indexed: Map<string, IndexRow> } {
  return { onDisk: readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.dat')).sort(), indexed: readIndex() };
}

/** A golden file's contents, parsed. */
export function readGolden(name: string): unknown {
  return JSON.parse(readFileSync(join(GOLDEN_DIR, `${name}.json`), 'utf8')) as unknown;
}

/** toJSON() the way a golden stores it: through JSON, so undefined fields are left out. */
export function asGolden(value: { toJSON(): unknown }): unknown {
  return JSON.parse(JSON.stringify(value.toJSON())) as unknown;
}
