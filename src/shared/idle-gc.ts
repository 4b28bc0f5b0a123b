// One full garbage collection when a thread's proxy core has gone idle. V8 gives pages back to the
// system only after a full collection, and with no allocation nothing triggers one: after a load
// stopped, the finished transactions expired 32 s later but the heap they had used stayed
// resident (the RSS of a run at 2,000 calls/s stayed at 240-250 MB 40 s after it, or fell to 124,
// depending on whether V8's memory reducer happened to run). Idle means: nothing held (no
// transaction, no cached route) and no datagram since the last check; one collection per idle
// period, so it never runs under load.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const CHECK_MS = 5000;

let gc: (() => void) | undefined;

/** V8's gc(), exposed once for this thread; undefined if V8 refuses (then nothing is done). */
function fullGc(): (() => void) | undefined {
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    } catch {
      return undefined;
    }
  }
  return gc;
}

/**
 * Checks every 5 s whether `held()` is 0 and `activity()` (a counter of datagrams seen) has not
 * moved since the last check; then collects once, until activity resumes. Returns the timer
 * (unref'd) so the caller can clear it.
 */
export function collectWhenIdle(held: () => number, activity: () => number): NodeJS.Timeout {
  let last = -1;
  let collected = false;
  const timer = setInterval(() => {
    const now = activity();
    if (now !== last) {
      last = now;
      collected = false;
      return;
    }
    if (collected || held() > 0) return;
    collected = true;
    fullGc()?.();
  }, CHECK_MS);
  timer.unref();
  return timer;
}
