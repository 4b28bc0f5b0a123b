// The siplb command line: reads argv, picks a command, returns the exit code. bin/siplb.js calls
// main() and sets process.exitCode (never process.exit(), which could cut off piped stdout).
// Exit codes: 0 ok, 1 malformed message or siplb failure (e.g. the wasm module), 2 usage error.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, processIo, type CliIo } from './cli/io.js';
import { PARSE_USAGE, parseCommand } from './cli/parse-command.js';
import { startCommand } from './cli/start-command.js';
import { demoCommand } from './cli/demo-command.js';
import { CTL_USAGE, ctlCommand } from './cli/ctl-command.js';
import { configHelp } from './config/help.js';
import { SiplbError, SiplbUsageError } from './errors.js';

export { processIo, type CliIo } from './cli/io.js';

const HELP = `siplb: SIP load balancer and failover proxy

Usage:
  siplb <command> [options]

Commands:
  ${PARSE_USAGE}
      Parse one SIP message (raw bytes, CRLF line ends) from FILE, or stdin for '-',
      and print its start line, headers and the fields routing uses.
      --json    print message.toJSON() instead (or the parse error as JSON)
      Exit 0 when well-formed, 1 when malformed, 2 on a usage error.
  start
      Run the proxy, configured by the SIPLB_* environment variables below.
      SIGTERM/SIGINT drain it (new INVITEs get 503) and print the counters and
      the latency distribution; kill -USR2 prints them without stopping.
      SIGHUP reloads the destination list (a refused list keeps the old one).
  demo
      The proxy on its defaults plus two demo media servers (127.0.0.1:5070 and
      :5072, the destinations of the shipped dispatcher.list): calls placed with
      SIPp are balanced between them. Ctrl-C prints how they were split.
  ${CTL_USAGE}
      Ask the running siplb on its control channel (SIPLB_ADMIN, token from
      SIPLB_ADMIN_TOKEN): list destinations with their state letters (AP, TP, IP,
      DX...), latency and active calls; set-state STATE SET URI|all; stats;
      hash NSLOTS VAL; ping-active [on|off]. --json prints Kamailio's shapes.
      'siplb ctl --help' says more.
  help       Show this text.

Options:
  -h, --help     Show this text.
  -V, --version  Print the version.
`;

/** Runs one command line (without the node and script arguments) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (err) {
    if (err instanceof SiplbUsageError) {
      io.stderr(`siplb: ${err.message}\nRun 'siplb --help' for usage.\n`);
      return EXIT_USAGE;
    }
    if (err instanceof SiplbError) {
      io.stderr(`siplb: ${err.message} (${err.code})\n`);
      return EXIT_FAILURE;
    }
    throw err;
  }
}

async function dispatch(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      throw new SiplbUsageError('no command given');
    case 'help':
    case '--help':
    case '-h':
      if (rest[0] === 'parse') return parseCommand(['--help'], io);
      io.stdout(`${HELP}\nEnvironment:\n${configHelp()}`);
      return EXIT_OK;
    case '--version':
    case '-V':
      io.stdout(`siplb ${version()}\n`);
      return EXIT_OK;
    case 'parse':
      return parseCommand(rest, io);
    case 'start':
      if (rest.length > 0) throw new SiplbUsageError(`'siplb start' takes no arguments (configure it with SIPLB_* variables): got '${rest[0]}'`);
      return startCommand(io);
    case 'ctl':
      return ctlCommand(rest, io);
    case 'demo':
      if (rest.length > 0) throw new SiplbUsageError(`'siplb demo' takes no arguments: got '${rest[0]}'`);
      return demoCommand(io);
    default:
      throw new SiplbUsageError(command.startsWith('-') ? `unknown option '${command}'` : `unknown command '${command}'`);
  }
}

/** The version from package.json, found by walking up from this file (src/ or dist/src/). */
export function version(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'siplb' && typeof pkg.version === 'string') return pkg.version;
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}
