// GET /metrics: Prometheus text exposition, every family `siplb_...`, in registries of their own
// (prom-client's global one belongs to whoever embeds us). Nothing here runs per datagram: each
// scrape asks every thread for one stats snapshot (server.ts stats(), msgpackr-packed from the
// workers); the main thread sends it to the control pool (src/pool/), where the families'
// collect() callbacks read it and the shared destination table and the text is built, and adds
// prom-client's process metrics, which describe the main thread and so are collected there.
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as hdr from 'hdr-histogram-js';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { DestTable } from '../shared/dest-table.js';
import { runTask } from '../pool/control-pool.js';
import type { DestinationRecord } from '../dispatch/list-file.js';
import type { LatencySnapshot } from '../proxy/latency.js';
import type { BindingTable } from '../shared/binding-table.js';
import { stateLetters } from '../shared/dest-state.js';
import type { Stats } from '../server.js';
import { destLabels, type DestLabel } from './dest-labels.js';
import { CLASSES } from '../proxy/message-kind.js';
import { HdrPromHistogram } from './prom-histogram.js';
import { handleLatency } from './latency-api.js';

/** What the running proxy gives the admin server for metrics and latency (server.ts). */
export interface MetricsSource {
  stats(): Promise<Stats>;
  latency(): Promise<LatencySnapshot>;
  resetLatency(): void;
}

export interface AdminMetricsSources {
  /** Functions: a reload replaces the list. */
  readonly records: () => readonly DestinationRecord[];
  readonly states: () => DestTable;
  /** SIPLB_DS_PING_LATENCY_STATS: the table holds keepalive latency. */
  readonly latency: boolean;
  readonly bindings?: BindingTable;
  readonly metrics: MetricsSource;
}

type Labels = Record<string, string | number>;
type Rows = Array<[Labels, number]>;
export interface Scrape {
  stats: Stats;
  dests: DestLabel[];
}

/** Locally answered refusals (counters.ts names), by the reason label they get. */
const REFUSED: Record<string, string> = {
  relay_foreign_route: 'foreign_route',
  relay_no_route: 'no_route',
  relay_token_missing: 'token_missing',
  relay_token_garbled: 'token_garbled',
  relay_token_invalid: 'token_invalid',
  relay_destination_gone: 'destination_gone',
  source_denied: 'source_denied',
  register_denied: 'register_denied',
  tx_limit_rejected: 'transaction_limit',
  no_destination: 'no_destination',
  draining_rejected: 'draining',
};

const ms = (v: number): number => v / 1000;

/** The sources the families read: the shared table (its SharedArrayBuffer in the pool) and whether it holds latency. */
interface FamilySources {
  readonly states: () => DestTable;
  readonly latency: boolean;
}

export class SiplbMetrics {
  readonly registry = new Registry();
  #scrape: Scrape | undefined;

  constructor(private readonly src: FamilySources) {
    const v = (s: Scrape, name: string): number => s.stats.counters.values[name] ?? 0;
    const keyed = (rec: Record<string, number>, label: string): Rows => Object.entries(rec).map(([k, n]) => [{ [label]: k }, n]);
    this.#counter('siplb_requests_received_total', 'SIP requests received, by method (OTHER: any other method or garbage).', ['method'], (s) => keyed(s.stats.counters.requestsIn, 'method'));
    this.#counter('siplb_requests_sent_total', 'SIP requests sent (forwarded), by method.', ['method'], (s) => keyed(s.stats.counters.requestsOut, 'method'));
    this.#counter('siplb_responses_received_total', 'SIP responses received, by class (other: a status line that does not parse).', ['class'], (s) => keyed(s.stats.counters.responsesIn, 'class'));
    this.#counter('siplb_responses_sent_total', 'SIP responses sent, relayed or our own, by class.', ['class'], (s) => keyed(s.stats.counters.responsesOut, 'class'));
    this.#counter('siplb_drops_total', 'Datagrams dropped without an answer, by reason.', ['reason'], (s) => [
      ...Object.entries(s.stats.counters.values).flatMap(([k, n]): Rows => (k.startsWith('drop_') ? [[{ reason: k.slice(5) }, n]] : [])),
      [{ reason: 'scanner' }, v(s, 'scanner_dropped')],
      [{ reason: 'ingress_ring_full' }, s.stats.ringDrops],
      [{ reason: 'egress_ring_full' }, s.stats.workers.reduce((n, w) => n + w.egressDrops, 0)],
    ]);
    this.#counter('siplb_requests_refused_total', 'Requests answered with an error instead of being routed, by reason.', ['reason'], (s) => Object.entries(REFUSED).map(([k, reason]) => [{ reason }, v(s, k)]));
    this.#counter('siplb_local_replies_total', 'Responses the proxy generated itself, by status code.', ['code'], (s) => keyed(s.stats.counters.replies, 'code'));
    this.#counter('siplb_parse_errors_total', 'Datagrams the SIP parser refused, by error.', ['error'], (s) => keyed(s.stats.counters.parseErrors, 'error'));
    this.#counter('siplb_forwarded_total', 'Messages forwarded: new requests (transactions started), in-dialog requests, responses.', ['kind'], (s) => [
      [{ kind: 'new' }, v(s, 'fwd_new')],
      [{ kind: 'in_dialog' }, v(s, 'fwd_in_dialog')],
      [{ kind: 'response' }, v(s, 'fwd_responses')],
    ]);
    this.#gauge('siplb_transactions_pending', 'Transactions in flight (stateful mode).', [], (s) => [[{}, s.stats.pending]]);
    this.#counter('siplb_transaction_timeouts_total', 'Client transactions that timed out (stateful mode).', [], (s) => [[{}, v(s, 'timeout')]]);
    this.#counter('siplb_retransmissions_total', 'Retransmissions absorbed (a copy of a request being handled) and sent (by our timers).', ['kind'], (s) => [
      [{ kind: 'absorbed' }, v(s, 'retrans_absorbed')],
      [{ kind: 'sent' }, v(s, 'retrans_sent')],
    ]);
    this.#counter('siplb_failovers_total', 'Failovers: to the next destination, with none left, and of in-dialog requests.', ['kind'], (s) => [
      [{ kind: 'next_destination' }, v(s, 'failover')],
      [{ kind: 'exhausted' }, v(s, 'failover_exhausted')],
      [{ kind: 'in_dialog' }, v(s, 'in_dialog_failover')],
    ]);
    this.#counter('siplb_overload_rejected_total', 'New requests refused 503 by load shedding.', [], (s) => [[{}, v(s, 'overload_rejected')]]);
    this.#gauge('siplb_overload_shed_ratio', 'Share of new requests refused now by load shedding (worst thread), 0-1.', [], (s) => [[{}, s.stats.overload.shedPercent / 100]]);
    this.#gauge('siplb_overload_queue_delay_seconds', 'Queueing delay of datagrams now (worst thread).', [], (s) => [[{}, ms(s.stats.overload.delayMs)]]);
    this.#counter('siplb_flood_dropped_total', 'Datagrams dropped by flood control.', [], (s) => [[{}, s.stats.flood.dropped]]);
    this.#counter('siplb_flood_blocks_total', 'Sources blocked by flood control.', [], (s) => [[{}, s.stats.flood.blocks]]);
    this.#gauge('siplb_flood_blocked_sources', 'Sources blocked by flood control now.', [], (s) => [[{}, s.stats.flood.blockedSources]]);
    this.#counter('siplb_worker_restarts_total', 'Dispatch workers that died and were replaced.', [], (s) => [[{}, s.stats.workerRestarts]]);
    this.#counter('siplb_datagrams_received_total', 'UDP datagrams received.', [], (s) => [[{}, s.stats.udp.received]]);
    this.#counter('siplb_datagrams_sent_total', 'UDP datagrams sent.', [], (s) => [[{}, s.stats.udp.sent]]);
    this.#counter('siplb_keepalives_total', 'Keepalives: sent, and their outcome.', ['result'], (s) => {
      const p = s.stats.probe;
      return p === undefined ? [] : [
        [{ result: 'sent' }, p.sent],
        [{ result: 'ok' }, p.ok],
        [{ result: 'rejected' }, p.rejected],
        [{ result: 'timeout' }, p.timeouts],
      ];
    });
    this.#destinationFamilies();
    this.registry.registerMetric(
      new HdrPromHistogram('siplb_receive_to_send_seconds', 'Time from receiving a datagram to sending what it caused, every thread.', () => {
        const s = this.#scrape;
        return s === undefined ? undefined : hdr.decodeFromCompressedBase64(s.stats.latencyHdr);
      }) as never,
    );
  }

  #destinationFamilies(): void {
    const t = this.src.states();
    const each = (f: (d: DestLabel, s: Scrape) => number | undefined) => (s: Scrape): Rows =>
      s.dests.flatMap((d): Rows => {
        const n = f(d, s);
        return n === undefined ? [] : [[{ set: d.set, uri: d.uri }, n]];
      });
    const dl = ['set', 'uri'];
    this.#counter('siplb_destination_requests_total', 'Requests sent to a destination.', dl, each((d, s) => s.stats.counters.destRequests[d.slot] ?? 0));
    this.#counter('siplb_destination_replies_total', 'Responses received from a destination, by class.', ['set', 'uri', 'class'], (s) =>
      s.dests.flatMap((d) =>
        CLASSES.flatMap((c, i): Rows => {
          const n = s.stats.counters.destReplies[d.slot * CLASSES.length + i] ?? 0;
          return n === 0 ? [] : [[{ set: d.set, uri: d.uri, class: c }, n]];
        }),
      ),
    );
    this.#gauge('siplb_destination_state', "A destination's state as Kamailio's flag letters (AP active, IP inactive, DX disabled, TP trying...), always 1.", ['set', 'uri', 'flags'], (s) =>
      s.dests.map((d) => [{ set: d.set, uri: d.uri, flags: stateLetters(t.flags(d.slot)) }, 1]),
    );
    this.#gauge('siplb_destination_usable', '1 when a destination takes new calls, else 0.', dl, each((d) => (t.usable(d.slot) ? 1 : 0)));
    this.#gauge('siplb_destination_active_calls', 'Active calls of a destination (algorithm 10 load).', dl, each((d) => t.load(d.slot)));
    const latency = (f: (l: ReturnType<DestTable['latency']>) => number) => each((d) => (this.src.latency ? f(t.latency(d.slot)) : undefined));
    this.#gauge('siplb_destination_latency_estimate_seconds', 'Keepalive round trip estimate (Kamailio EST, the EWMA algorithm 11 reads).', dl, latency((l) => ms(l.ESTIMATE)));
    this.#gauge('siplb_destination_latency_average_seconds', 'Keepalive round trip average (Kamailio AVG).', dl, latency((l) => ms(l.AVERAGE)));
    this.#counter('siplb_destination_keepalive_timeouts_total', 'Keepalives of a destination that got no reply (Kamailio TIMEOUT).', dl, latency((l) => l.TIMEOUTS));
  }

  #counter(name: string, help: string, labelNames: string[], rows: (s: Scrape) => Rows): void {
    const read = (): Scrape | undefined => this.#scrape;
    new Counter({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect(this: Counter) {
        this.reset();
        const s = read();
        if (s !== undefined) for (const [labels, n] of rows(s)) this.inc(labels, n);
      },
    });
  }

  #gauge(name: string, help: string, labelNames: string[], rows: (s: Scrape) => Rows): void {
    const read = (): Scrape | undefined => this.#scrape;
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect(this: Gauge) {
        this.reset();
        const s = read();
        if (s !== undefined) for (const [labels, n] of rows(s)) this.set(labels, n);
      },
    });
  }

  /** The exposition text of `scrape`; the caller runs one at a time (each reads the snapshot its collect()s see). */
  async render(scrape: Scrape): Promise<string> {
    this.#scrape = scrape;
    try {
      return await this.registry.metrics();
    } finally {
      this.#scrape = undefined;
    }
  }
}

/** What the main thread sends the pool for one scrape. */
export interface MetricsTaskInput {
  scrape: Scrape;
  table: SharedArrayBuffer;
  latency: boolean;
}

/** The control pool's task (src/pool/tasks.ts): the siplb families of one scrape. */
const inPool = new WeakMap<SharedArrayBuffer, SiplbMetrics>();
export function renderMetricsTask({ scrape, table, latency }: MetricsTaskInput): Promise<string> {
  let m = inPool.get(table);
  if (m === undefined) {
    const states = new DestTable(table);
    inPool.set(table, (m = new SiplbMetrics({ states: () => states, latency })));
  }
  return m.render(scrape);
}

/** prom-client's process metrics of the main thread (heap, event loop lag, GC, CPU, handles). */
function processRegistry(): Registry {
  const r = new Registry();
  collectDefaultMetrics({ register: r, prefix: 'siplb_' });
  // prom-client names these gauges `_total`, which Prometheus keeps for counters (promtool check
  // metrics says so): left out rather than served under a misleading name
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) r.removeSingleMetric(`siplb_${name}`);
  return r;
}

/**
 * GET /metrics, GET /api/latency, POST /api/latency/reset (latency-api.ts); false when `req` is
 * for none of them or the proxy gave no metrics source (an admin server started alone, in tests).
 */
export async function handleObservability(req: IncomingMessage, res: ServerResponse, src: Omit<AdminMetricsSources, 'metrics'> & { readonly metrics?: MetricsSource }): Promise<boolean> {
  const metrics = src.metrics;
  if (metrics === undefined) return false;
  const full = { ...src, metrics };
  return (await handleMetrics(req, res, full)) || (await handleLatency(req, res, full));
}

const scrapers = new WeakMap<AdminMetricsSources['metrics'], { process: Registry; queue: Promise<unknown> }>();

/** Answers GET /metrics; false when `req` is for another path. Scrapes run one at a time. */
export async function handleMetrics(req: IncomingMessage, res: ServerResponse, src: AdminMetricsSources): Promise<boolean> {
  if ((req.url ?? '/').split('?')[0] !== '/metrics') return false;
  let s = scrapers.get(src.metrics);
  if (s === undefined) scrapers.set(src.metrics, (s = { process: processRegistry(), queue: Promise.resolve() }));
  const one = s;
  const next = one.queue.then(async () => {
    const scrape: Scrape = { stats: await src.metrics.stats(), dests: destLabels(src.records(), src.states().count, src.bindings) };
    const ours = await runTask('renderMetrics', { scrape, table: src.states().buffer, latency: src.latency });
    return `${await one.process.metrics()}${ours}`;
  });
  one.queue = next.catch(() => undefined);
  const text = await next;
  res.writeHead(200, { 'content-type': one.process.contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
  return true;
}
