// `siplb parse [--json] FILE|-`: parse one SIP message from a file or stdin with the wasm parser
// and print it. The bytes go to the parser untouched (no decoding, no line-end fixing), so what
// the command reports is what the proxy would see for the same datagram.
import { readFile } from 'node:fs/promises';
import { SiplbUsageError } from '../errors.js';
import { createParser } from '../parser/index.js';
import type { ParseError } from '../parser/types.js';
import { formatMessage, formatParseError } from './format-message.js';
import { EXIT_FAILURE, EXIT_OK, type CliIo } from './io.js';

export const PARSE_USAGE = 'parse [--json] FILE|-';

const PARSE_HELP = `Usage: siplb ${PARSE_USAGE}

Parse one SIP message from FILE ('-' reads stdin) and print it: the start line, one line per
header, then the fields routing uses. The bytes are parsed as they are; use CRLF line ends.

Options:
  --json      print message.toJSON(), or the parse error as JSON
  -h, --help  show this text

Exit status: 0 well-formed, 1 malformed, 2 usage error.
`;

export interface ParseOptions {
  readonly json: boolean;
  /** A path, or '-' for stdin. */
  readonly source: string;
}

/** Reads the arguments after `parse`. Returns undefined when help was asked for. */
export function parseArgs(args: readonly string[]): ParseOptions | undefined {
  let json = false;
  const operands: string[] = [];
  let optionsDone = false;
  for (const arg of args) {
    if (optionsDone || arg === '-' || !arg.startsWith('-')) operands.push(arg);
    else if (arg === '--') optionsDone = true;
    else if (arg === '--json') json = true;
    else if (arg === '--help' || arg === '-h') return undefined;
    else throw new SiplbUsageError(`parse: unknown option '${arg}'`);
  }
  const [source] = operands;
  if (source === undefined) throw new SiplbUsageError(`parse: no input; usage: siplb ${PARSE_USAGE}`);
  if (operands.length > 1) throw new SiplbUsageError(`parse: one input at a time, got ${operands.length}`);
  return { json, source };
}

/** The raw bytes of the input. An unreadable file is a usage error (exit 2). */
export async function readInput(source: string, io: CliIo): Promise<Buffer> {
  if (source === '-') return io.stdin();
  try {
    return await readFile(source);
  } catch (err) {
    const reason = err instanceof Error && 'code' in err ? String(err.code) : String(err);
    throw new SiplbUsageError(`parse: cannot read '${source}': ${reason}`, { cause: err });
  }
}

/** Runs `siplb parse`; returns the exit code. */
export async function parseCommand(args: readonly string[], io: CliIo): Promise<number> {
  const options = parseArgs(args);
  if (options === undefined) {
    io.stdout(PARSE_HELP);
    return EXIT_OK;
  }
  const bytes = await readInput(options.source, io);
  const result = createParser().parse(bytes);
  if (result.ok === false) {
    reportMalformed(result, options.json, io);
    return EXIT_FAILURE;
  }
  io.stdout(options.json ? `${JSON.stringify(result.toJSON(), null, 2)}\n` : formatMessage(result));
  return EXIT_OK;
}

/** One line on stderr always; with --json also the error object on stdout, so pipes get JSON. */
function reportMalformed(error: ParseError, json: boolean, io: CliIo): void {
  io.stderr(`${formatParseError(error)}\n`);
  if (!json) return;
  const { code, name, reason, status, offset, header } = error;
  const out = { ok: false, code, name, reason, status, offset, header: header ?? null };
  io.stdout(`${JSON.stringify(out, null, 2)}\n`);
}
