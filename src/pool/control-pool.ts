// The control pool (piscina, one thread): control-plane work that must not stall the main
// thread, which owns every socket. Parsing and checking a reloaded list file (src/list/) and
// building the Prometheus exposition (src/admin/metrics.ts) run there; measured on 2 cores, a
// scrape of 4,000 destinations built on the main thread held datagrams up for most of its
// 200 ms. Never per datagram. The thread starts at the first task and ends after 30 s idle.
import { Piscina } from 'piscina';
import type { TaskName, Tasks } from './tasks.js';

let pool: Piscina | undefined;

/** Runs task `name` of src/pool/tasks.ts in the pool's thread. */
export function runTask<N extends TaskName>(name: N, input: Parameters<Tasks[N]>[0]): Promise<Awaited<ReturnType<Tasks[N]>>> {
  pool ??= new Piscina({ filename: new URL('./tasks.js', import.meta.url).href, minThreads: 0, maxThreads: 1, idleTimeout: 30_000 });
  return pool.run(input, { name }) as Promise<Awaited<ReturnType<Tasks[N]>>>;
}

/** Stops the thread (a later task starts a new one): at the proxy's close. */
export async function closeControlPool(): Promise<void> {
  const p = pool;
  pool = undefined;
  await p?.destroy();
}
