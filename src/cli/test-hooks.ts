// Test-only hooks of `siplb start`. Not reachable in production: each is enabled only by an
// environment variable outside the SIPLB_* namespace (loadConfig refuses unknown SIPLB_* names, so
// a hook cannot hide among the settings, and nothing in the README or --help names these), and
// each acts only on a signal that siplb otherwise ignores.
//
//   TEST_SIPLB_KILL_WORKER=N   on SIGWINCH, the main thread terminates dispatch worker N the way a
//                              crash ends it (Worker.terminate(): the thread stops wherever it is,
//                              its transactions are lost); the pool replaces it like any dead
//                              worker. test/e2e/worker-kill.test.ts kills a worker under SIPp load.
//
// SIGWINCH because a daemon never gets it from a terminal, Node does not use it, and its default
// action is to ignore it: without the variable, the signal does nothing.
import type { Log, Server } from '../server.js';

export const KILL_WORKER_ENV = 'TEST_SIPLB_KILL_WORKER';

/** Installs the hooks `env` asks for; returns a function that removes them. */
export function installTestHooks(env: NodeJS.ProcessEnv, server: Server, log: Log): () => void {
  const raw = env[KILL_WORKER_ENV];
  if (raw === undefined || raw === '') return () => {};
  const index = Number(raw);
  if (!Number.isInteger(index) || index < 0) {
    log.warn(`${KILL_WORKER_ENV}=${raw} is not a worker index; test hook not installed`);
    return () => {};
  }
  const kill = (): void => {
    const done = server.terminateWorker(index);
    log.warn('test hook: terminating a dispatch worker', { hook: KILL_WORKER_ENV, worker: index, done });
  };
  log.warn(`test hook installed: SIGWINCH terminates dispatch worker ${index} (${KILL_WORKER_ENV})`);
  process.on('SIGWINCH', kill);
  return () => void process.off('SIGWINCH', kill);
}
