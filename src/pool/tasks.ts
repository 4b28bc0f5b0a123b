// The tasks of the control pool (control-pool.ts), each a named export piscina calls by name.
// Inputs and answers cross threads by structured clone; the shared destination table crosses as
// its SharedArrayBuffer.
import { renderMetricsTask } from '../admin/metrics.js';
import parseTask from '../list/parse-task.js';

export const parseList = parseTask;
export const renderMetrics = renderMetricsTask;

export interface Tasks {
  parseList: typeof parseList;
  renderMetrics: typeof renderMetrics;
}
export type TaskName = keyof Tasks;
