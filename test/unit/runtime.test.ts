// Which Node.js runs the suite, and that everything the tests start runs on the same one: the test
// files, the processes they spawn (process.execPath: bin/siplb.js, helpers) and worker threads.
// .ci/run runs the suite twice, on the machine's Node 20 and on Node 24 from .node24/, and sets
// CI_NODE_MAJOR for each run: a run that silently used the other Node fails here.
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';

const version = process.versions.node;
const wanted = process.env.CI_NODE_MAJOR;

describe(`Node.js ${version}`, () => {
  it(wanted === undefined ? 'is the Node.js of every process and thread the tests start' : `is major ${wanted} (CI_NODE_MAJOR), as are the processes and threads the tests start`, async () => {
    if (wanted !== undefined) expect(version.split('.')[0]).toBe(wanted);
    const child = spawnSync(process.execPath, ['-p', 'process.versions.node'], { encoding: 'utf8' });
    expect(child.stdout.trim()).toBe(version);
    const worker = new Worker('require("node:worker_threads").parentPort.postMessage(process.versions.node)', { eval: true });
    const inWorker = await new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(inWorker).toBe(version);
  });
});
