// Vitest global setup: bring wasm/build and dist up to date before any test runs. The build script
// rebuilds only what is stale, so after `npm test` (whose pretest already built) this costs a walk
// over the source tree and no compiler start.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export default function setup(): void {
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
}
