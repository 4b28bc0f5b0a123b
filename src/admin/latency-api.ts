// Latency histograms on the control channel: GET /api/latency (JSON: percentiles overall, per
// dispatch worker and per destination round trip, with each encoded HdrHistogram for tools),
// GET /api/latency?format=hdr (HdrHistogram's percentile distribution text), and
// POST /api/latency/reset, which answers the distribution up to the reset and starts every
// histogram afresh (every worker, the main thread, the probe worker). JSON-RPC: siplb.latency,
// params [] or ["reset"], the same answer.
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as hdr from 'hdr-histogram-js';
import type { LatencySnapshot } from '../proxy/latency.js';
import { destLabels } from './dest-labels.js';
import type { AdminMetricsSources } from './metrics.js';
import { RpcError, type RpcMethod, type RpcParams } from './rpc.js';

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  'p99.9': number;
  max: number;
  mean: number;
  /** The distribution itself, HdrHistogram compressed base64 (hdr-histogram-js decodeFromCompressedBase64). */
  hdr: string;
}

/** All values in microseconds. */
export interface LatencyReport {
  unit: 'us';
  /** Receive to send, every thread merged. */
  overall: Percentiles;
  workers: Array<{ worker: number | 'main' } & Percentiles>;
  /** Keepalive round trip per destination that has had a reply. */
  destinations: Array<{ set: number; uri: string } & Percentiles>;
}

function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
}

export function percentiles(h: hdr.Histogram): Percentiles {
  const at = (p: number): number => (h.totalCount === 0 ? 0 : h.getValueAtPercentile(p));
  return { count: h.totalCount, p50: at(50), p90: at(90), p99: at(99), 'p99.9': at(99.9), max: h.totalCount === 0 ? 0 : h.maxValue, mean: Math.round(h.mean), hdr: hdr.encodeIntoCompressedBase64(h) };
}

/** Every thread's receive-to-send histogram merged into one. */
export function mergeThreads(snap: LatencySnapshot): hdr.Histogram {
  const out = newHistogram();
  for (const t of snap.threads) out.add(hdr.decodeFromCompressedBase64(t.hdr));
  return out;
}

export function latencyReport(snap: LatencySnapshot, src: AdminMetricsSources): LatencyReport {
  const labels = new Map(destLabels(src.records(), src.states().count, src.bindings).map((l) => [l.slot, l]));
  return {
    unit: 'us',
    overall: percentiles(mergeThreads(snap)),
    workers: snap.threads.map((t) => ({ worker: t.worker, ...percentiles(hdr.decodeFromCompressedBase64(t.hdr)) })),
    destinations: snap.rtt.flatMap((r) => {
      const l = labels.get(r.slot);
      return l === undefined ? [] : [{ set: l.set, uri: l.uri, ...percentiles(hdr.decodeFromCompressedBase64(r.hdr)) }];
    }),
  };
}

/** HdrHistogram's percentile distribution text, one section per distribution (values in µs). */
export function latencyHdrText(snap: LatencySnapshot, src: AdminMetricsSources): string {
  const section = (title: string, h: hdr.Histogram): string => `# ${title} (microseconds)\n${h.outputPercentileDistribution(5, 1)}\n`;
  const labels = new Map(destLabels(src.records(), src.states().count, src.bindings).map((l) => [l.slot, l]));
  const parts = [section('receive to send, all threads', mergeThreads(snap))];
  for (const t of snap.threads) parts.push(section(`receive to send, ${t.worker === 'main' ? 'main thread' : `worker ${t.worker}`}`, hdr.decodeFromCompressedBase64(t.hdr)));
  for (const r of snap.rtt) {
    const l = labels.get(r.slot);
    if (l !== undefined) parts.push(section(`keepalive round trip, set ${l.set} ${l.uri}`, hdr.decodeFromCompressedBase64(r.hdr)));
  }
  return parts.join('');
}

/** siplb.latency: the report; with params ["reset"], the report up to now, and every histogram reset. */
export async function latencyCall(params: unknown, src: AdminMetricsSources): Promise<{ result: LatencyReport } | { error: { code: number; message: string } }> {
  const list = Array.isArray(params) ? (params as unknown[]) : [];
  if (list.length > 1 || (list.length === 1 && list[0] !== 'reset')) return { error: { code: -32602, message: 'siplb.latency takes no params or ["reset"]' } };
  const report = latencyReport(await src.metrics.latency(), src);
  if (list[0] === 'reset') src.metrics.resetLatency();
  return { result: report };
}

/** JSON-RPC methods of this module, for the admin server's method table. */
export function latencyMethods(src: AdminMetricsSources): Map<string, RpcMethod> {
  return new Map([
    [
      'siplb.latency',
      {
        summary: 'latency percentiles: receive to send (overall, per thread), keepalive round trip per destination; ["reset"] resets them',
        handler: async (params: RpcParams) => {
          const answer = await latencyCall(params, src);
          if ('error' in answer) throw new RpcError(answer.error.code, answer.error.message);
          return answer.result;
        },
      },
    ],
  ]);
}

/** Answers /api/latency and /api/latency/reset; false when `req` is for another path. */
export async function handleLatency(req: IncomingMessage, res: ServerResponse, src: AdminMetricsSources): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://admin');
  const reset = url.pathname === '/api/latency/reset';
  if (url.pathname !== '/api/latency' && !reset) return false;
  if (req.method !== (reset ? 'POST' : 'GET')) {
    sendText(res, 405, `${reset ? 'POST' : 'GET'} only\n`);
    return true;
  }
  const snap = await src.metrics.latency();
  if (reset) src.metrics.resetLatency();
  if (url.searchParams.get('format') === 'hdr') sendText(res, 200, latencyHdrText(snap, src));
  else sendText(res, 200, JSON.stringify(latencyReport(snap, src)), 'application/json');
  return true;
}

function sendText(res: ServerResponse, status: number, text: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}
