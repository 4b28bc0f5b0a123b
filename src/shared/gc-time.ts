// Time this thread has spent in garbage collection since it started, in ms: every V8 GC pause is a
// PerformanceEntry of type 'gc' (perf_hooks), summed as it comes. One observer per thread, started
// once; the cost is one callback per GC, never per datagram. The stats report gives the total, and
// a benchmark takes the difference over its window to get the GC share of the time.
import { PerformanceObserver } from 'node:perf_hooks';

let total = 0;
let observer: PerformanceObserver | undefined;

/** Total GC pause time of this thread so far (ms); starts counting on the first call. */
export function gcMillis(): number {
  if (observer === undefined) {
    observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) total += e.duration;
    });
    observer.observe({ entryTypes: ['gc'] });
  }
  return total;
}
