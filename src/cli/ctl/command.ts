// What every `siplb ctl` command is: a usage line, a few lines of help, and a run that parses its
// own arguments and returns what to print. ctl-command.ts keeps them in one table, so a command is
// added by writing one module and one table row.
import { SiplbUsageError } from '../../errors.js';
import type { AdminClient } from './client.js';

export interface CtlContext {
  readonly client: AdminClient;
  /** --json: print the method's result as JSON, for scripts. */
  readonly json: boolean;
}

export interface CtlCommand {
  /** After `siplb ctl `, e.g. `hash NSLOTS VAL [VAL2]`; several forms separated by newlines. */
  readonly usage: string;
  /** What it does, lines without indentation. */
  readonly help: string;
  /** Throws SiplbUsageError on bad arguments, SiplbCtlError when siplb says no. */
  run(args: readonly string[], ctx: CtlContext): Promise<string>;
}

export const asJson = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;

/** Rows padded to their widest cell (the last column left ragged). */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n') + '\n';
}

/** Refuses options a command does not know (an option is anything starting with '-' but a number). */
export function noOptions(name: string, args: readonly string[]): void {
  const bad = args.find((a) => a.startsWith('-') && !/^-[0-9]/.test(a));
  if (bad !== undefined) throw new SiplbUsageError(`ctl ${name}: unknown option '${bad}'`);
}

/** A SET argument: a decimal integer. */
export function setArg(name: string, raw: string | undefined): number {
  if (raw === undefined || !/^-?[0-9]{1,9}$/.test(raw)) throw new SiplbUsageError(`ctl ${name}: SET must be a set number, got ${raw === undefined ? 'nothing' : `'${raw}'`}`);
  return Number(raw);
}
