// `siplb ctl <command>`: talks to a running siplb on its control channel (SIPLB_ADMIN, the same
// variable the proxy reads, so one environment serves both; the token from SIPLB_ADMIN_TOKEN).
// Each command is a module of src/cli/ctl/ and a row of COMMANDS.
import { adminAddress } from '../config/parse.js';
import { SCHEMA } from '../config/schema.js';
import { SiplbUsageError } from '../errors.js';
import { AdminClient } from './ctl/client.js';
import type { CtlCommand } from './ctl/command.js';
import { hashCommand } from './ctl/hash.js';
import { listCommand } from './ctl/list.js';
import { pingActiveCommand } from './ctl/ping-active.js';
import { setStateCommand } from './ctl/set-state.js';
import { statsCommand } from './ctl/stats.js';
import { latencyCommand } from './ctl/latency.js';
import { routesCommand } from './ctl/routes.js';
import { addCommand, reloadCommand, removeCommand } from './ctl/reload.js';
import { EXIT_OK, type CliIo } from './io.js';
import { ctlDbCommand } from './ctl-db.js';

export { formatList } from './ctl/list.js';

/** Every command by name, in the order help shows them. */
export const COMMANDS: ReadonlyMap<string, CtlCommand> = new Map([
  ['list', listCommand],
  ['set-state', setStateCommand],
  ['stats', statsCommand],
  ['hash', hashCommand],
  ['ping-active', pingActiveCommand],
  ['reload', reloadCommand],
  ['add', addCommand],
  ['remove', removeCommand],
  ['latency', latencyCommand],
  ['routes', routesCommand],
]);

export const CTL_USAGE = `ctl <${[...COMMANDS.keys()].join('|')}> [--json]`;

const indent = (text: string, by: string): string => text.split('\n').map((l) => by + l).join('\n');

function help(): string {
  const commands = [...COMMANDS.values()].map((c) => `${indent(c.usage, '  ')}\n${indent(c.help, '      ')}`).join('\n');
  return `Usage: siplb ${CTL_USAGE}

Ask the running siplb on SIPLB_ADMIN (default ${SCHEMA.admin.default}), sending SIPLB_ADMIN_TOKEN
as a bearer token when it is set. Commands:
${commands}
  db ...
      edit the dispatcher table of SIPLB_DB_URL directly, as kamctl dispatcher does:
      siplb ctl db --help

Options:
  --json      print the method's answer as JSON (Kamailio's shapes), for scripts
  -h, --help  show this text

Exit 0 when done, 1 when siplb is not there or refused, 2 on a usage error.
`;
}

export async function ctlCommand(args: readonly string[], io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (args[0] === 'db') return ctlDbCommand(args.slice(1), io, env); // the database, not the proxy: src/cli/ctl-db.ts
  const json = args.includes('--json');
  const rest = args.filter((a) => a !== '--json');
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(help());
    return EXIT_OK;
  }
  const [name, ...commandArgs] = rest;
  if (name === undefined) throw new SiplbUsageError(`ctl: no command; usage: siplb ${CTL_USAGE}`);
  const command = COMMANDS.get(name);
  if (command === undefined) throw new SiplbUsageError(name.startsWith('-') ? `ctl: unknown option '${name}'` : `ctl: unknown command '${name}'; usage: siplb ${CTL_USAGE}`);
  const token = env.SIPLB_ADMIN_TOKEN === undefined || env.SIPLB_ADMIN_TOKEN === '' ? undefined : env.SIPLB_ADMIN_TOKEN;
  // the address is checked as the proxy checks it: a non-loopback one only with a token
  const address = adminAddress(env.SIPLB_ADMIN ?? SCHEMA.admin.default, 'SIPLB_ADMIN', { adminToken: token });
  if (address === undefined) throw new SiplbUsageError('ctl: SIPLB_ADMIN is empty, so there is no control channel to ask');
  io.stdout(await command.run(commandArgs, { client: new AdminClient(address, token), json }));
  return EXIT_OK;
}
