// File-system side of the configuration: where the shipped dispatcher.list is, and a check that the
// configured list file exists when siplb starts (the dispatcher reports bad lines later, by number).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SiplbConfigError } from '../errors.js';
import { fail } from './parse.js';

/** The name of the example list shipped at the package root. */
export const SHIPPED_LIST_FILE = 'dispatcher.list';

/**
 * The siplb package root: the nearest directory above this module whose package.json is named
 * siplb (src/config when run from source, dist/src/config when built, node_modules/siplb when installed).
 */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string | undefined {
  let dir = from;
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown };
        if (pkg.name === 'siplb') return dir;
      } catch {
        // Not ours if it does not parse; keep walking.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Absolute path of the shipped dispatcher.list; `name` is the variable to blame if there is none. */
export function defaultListFile(name: string): string {
  const root = packageRoot();
  if (root === undefined) {
    throw new SiplbConfigError(name, 'not set, and the siplb package root (for the shipped dispatcher.list) was not found: set it');
  }
  return join(root, SHIPPED_LIST_FILE);
}

/** SIPLB_LIST_FILE: a path to an existing regular file; relative paths resolve from the working directory. */
export function listFile(raw: string, name: string): string {
  if (raw === '' || raw.includes('\0')) fail(name, 'a path to a dispatcher list file', raw);
  const path = resolve(raw);
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new SiplbConfigError(name, `cannot use ${JSON.stringify(path)}: ${why}`, { cause: err });
  }
  if (!isFile) throw new SiplbConfigError(name, `expected a regular file, got ${JSON.stringify(path)}`);
  return path;
}
