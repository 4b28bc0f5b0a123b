// The thread boundaries of STYLE.md are ESLint rules (eslint.config.js); this keeps them from being
// loosened by accident. Sources are linted as text at made-up paths, without type information.
import { ESLint } from 'eslint';
import { join } from 'node:path';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const eslint = new ESLint({ cwd: root, overrideConfig: [tseslint.configs.disableTypeChecked] });

const SOURCES = {
  dgram: "import { createSocket } from 'node:dgram';\nexport const a = createSocket;\n",
  parentPort: "import { parentPort } from 'node:worker_threads';\nexport const a = parentPort;\n",
  Worker: "import { Worker } from 'node:worker_threads';\nexport const a = Worker;\n",
  'type MessagePort': "import type { MessagePort } from 'node:worker_threads';\nexport type A = MessagePort;\n",
};
type Import = keyof typeof SOURCES;
const DGRAM: Import = 'dgram';
const WORKER_IO: Import = 'parentPort';
const WORKER_CLASS: Import = 'Worker';
const WORKER_TYPE: Import = 'type MessagePort';

async function restricted(path: string, name: Import): Promise<boolean> {
  const [result] = await eslint.lintText(SOURCES[name], { filePath: join(root, path) });
  const ids = (result?.messages ?? []).map((m) => m.ruleId);
  return ids.includes('@typescript-eslint/no-restricted-imports');
}

// [path, import, restricted?]
const cases: Array<[string, Import, boolean]> = [
  ['src/transport/udp.ts', DGRAM, false],
  ['src/demo/media-server.ts', DGRAM, false],
  ['src/proxy/forward.ts', DGRAM, true],
  ['src/parser/worker.ts', DGRAM, true],
  ['src/main.ts', DGRAM, true],
  ['src/proxy/worker.ts', WORKER_IO, false],
  ['src/proxy/forward.ts', WORKER_IO, true],
  ['src/transport/rings.ts', WORKER_IO, true],
  ['src/transport/pool.ts', WORKER_CLASS, false],
  ['src/sip/via.ts', WORKER_CLASS, true],
  ['src/shared/worker.ts', WORKER_IO, true],
  ['src/shared/messages.ts', WORKER_TYPE, false],
  ['src/config/env.ts', DGRAM, true],
  ['src/dispatch/algorithms.ts', WORKER_CLASS, true],
  ['test/integration/udp.test.ts', DGRAM, false],
];

describe('thread boundaries (eslint no-restricted-imports)', () => {
  it.each(cases)('%s importing %s: restricted=%s', async (path, name, expected) => {
    expect(await restricted(path, name)).toBe(expected);
  });
});
