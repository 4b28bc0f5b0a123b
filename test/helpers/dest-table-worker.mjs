// A second thread for the destination-table test: opens the table the test created with the real
// DestTable (built to dist/) and runs one job on it, then exits. It never posts a message: what it
// did must be visible through the shared buffer alone.
import { workerData } from 'node:worker_threads';
import { DestTable } from '../../dist/src/shared/dest-table.js';

const { table, job, index, n, state, parity } = workerData;
const t = new DestTable(table);
if (job === 'mark') t.mark(index, state);
if (job === 'probe-fail') for (let k = 0; k < n; k++) t.probeResult(index, false, 1);
if (job === 'load') for (let k = 0; k < n; k++) t.takeLoad(index);
if (job === 'load-cycle') {
  for (let k = 0; k < n; k++) {
    t.takeLoad(index);
    t.releaseLoad(index);
  }
}
if (job === 'latency') {
  for (let k = 1; k <= n; k++) {
    t.writeLatency(index, { AVERAGE: k, STDEV: k, ESTIMATE: k, M2: k, MIN: k, MAX: k, COUNT: k, TIMEOUTS: k });
  }
}
if (job === 'load-below') for (let k = 0; k < n; k++) t.takeLoadBelow(index, state);
// Overload reports with every field equal, this writer's values of one parity (a second writer
// would take the other one).
if (job === 'overload') for (let v = parity; v < 2 * n; v += 2) t.setOverload(index, v, v, v);
