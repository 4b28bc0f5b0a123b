// The probe worker (DESIGN.md, "Threads and data flow"): sends the keepalives through its egress
// ring, so they leave from the proxy's listening sockets, and gets their replies through its
// ingress ring, where the main thread puts every response whose Call-ID carries the keepalive
// prefix (shared/keepalive-marker.ts). It is the one writer of keepalive results and latency in
// the shared destination table; dispatch workers see a change at their next selection.
// Control messages (postMessage, never per datagram): stats (with the round-trip histograms when
// asked), ping-active, latency-reset.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { reviveConfig } from '../config/load.js';
import type { SiplbConfig } from '../config/types.js';
import { parseDestinationUri } from '../dispatch/dest-uri.js';
import type { DestinationRecord } from '../dispatch/list-file.js';
import { buildSets } from '../dispatch/sets.js';
import { createParser } from '../parser/index.js';
import { DestTable } from '../shared/dest-table.js';
import { READY, isRingWorkerData } from '../shared/worker-protocol.js';
import { attachRings } from '../transport/worker-side.js';
import { flatten } from '../proxy/targets.js';
import { probeTargets, type ProbeTarget } from './keepalive.js';
import { Registrations, type RegistrationCounters } from './registrations.js';
import { BindingTable } from '../shared/binding-table.js';
import { cidrMatcher } from '../shared/cidr.js';
import { METHOD_REGISTER } from '../parser/constants.generated.js';
import { Prober, type ProbeCounters } from './prober.js';

/** workerData.init of the probe worker. */
export interface ProbeWorkerInit {
  config: SiplbConfig;
  records: DestinationRecord[];
  states: SharedArrayBuffer;
  /** Per listening socket, the host:port written in our Via (core-config.ts sockets). */
  sockets: string[];
  /** The registration sets' bindings (SIPLB_REGISTER_SETS); this worker is their registrar. */
  bindings?: SharedArrayBuffer;
  /** The data path is up: ping from the start (a replacement of a dead probe worker). Else wait for 'go'. */
  go?: boolean;
  /** dispatcher.ping_active as the operator left it (a replacement worker keeps it); absent = on. */
  active?: boolean;
}

export type ProbeRequest =
  | { type: 'stats'; id: number; rtt?: boolean }
  | { type: 'latency-reset' }
  | { type: 'ping-active'; active: boolean }
  | { type: 'go' }
  /** A reloaded list (records with their slots); answered with ProbeReloaded. */
  | { type: 'reload'; id: number; records: DestinationRecord[] };

export interface ProbeReloaded {
  type: 'probe-reloaded';
  id: number;
}

export interface ProbeStats {
  type: 'probe-stats';
  id: number;
  counters: ProbeCounters;
  registrations: RegistrationCounters | undefined;
  pending: number;
  active: boolean;
  /** Keepalive round trips per destination slot (encoded HdrHistograms, µs), when the request asked for them. */
  rtt?: Array<{ slot: number; hdr: string }>;
}

export interface ProbeWarning {
  type: 'probe-warning';
  message: string;
}

if (!parentPort || !isRingWorkerData(workerData)) throw new Error('src/probe/worker.ts runs as the probe worker thread');
const port = parentPort;
const data = workerData;
const init = data.init as ProbeWorkerInit;
const config = reviveConfig(init.config);
const table = new DestTable(init.states);
const bindings = init.bindings === undefined ? undefined : new BindingTable(init.bindings);
// The list's entries come first in the table, the registration slots after them.
const listSlots = table.count - (bindings?.slots ?? 0);
const warn = (message: string): void => port.postMessage({ type: 'probe-warning', message } satisfies ProbeWarning);
const vacant = (index: number): ProbeTarget => ({ index, setId: -1, uri: '', address: '0.0.0.0', port: 0, socket: 0, via: init.sockets[0]!, from: config.pingFrom, initialLatency: undefined });

/**
 * The list's keepalive targets by table entry (vacant where an entry is free). obproxy attrs are
 * resolved here, off the data path; a name that does not resolve is reported.
 */
async function listTargets(records: readonly DestinationRecord[]): Promise<ProbeTarget[]> {
  const dests = flatten(buildSets(records));
  const hops = new Map<string, { address: string; port: number }>();
  for (const uri of new Set(dests.flatMap((d) => (d.attrs.obproxy === undefined ? [] : [d.attrs.obproxy])))) {
    const parsed = parseDestinationUri(uri);
    if (!parsed.ok) continue;
    const { address, port: hopPort } = parsed.value;
    try {
      hops.set(uri, { address: isIP(address) ? address : (await lookup(address)).address, port: hopPort });
    } catch {
      // left out: probeTargets warns and pings the destination itself
    }
  }
  const out = Array.from({ length: listSlots }, (_, i) => vacant(i));
  for (const t of probeTargets(dests, config.listen, init.sockets, config.pingFrom, (uri) => hops.get(uri), warn)) out[t.index] = t;
  return out;
}

const targets = [...(await listTargets(init.records)), ...Array.from({ length: bindings?.slots ?? 0 }, (_, k) => vacant(listSlots + k))];

const parser = createParser();
// Drained from the event loop, never during attach: `prober` exists by the first reply.
const rings = attachRings(data.ingress, data.egress, (payload, meta) => {
  const m = parser.parse(payload);
  if (m.ok && m.isRequest && m.methodId === METHOD_REGISTER && registrations !== undefined) {
    registrations.onRegister(payload, parser.table, m, { address: meta.address, port: meta.port, socket: meta.socket });
    return;
  }
  if (!m.ok || m.isRequest) {
    prober.counters.malformed++;
    return;
  }
  prober.onReply(m, performance.now());
});
const prober = new Prober(
  targets,
  table,
  {
    intervalMs: config.pingInterval * 1000,
    timeoutMs: config.pingTimeout,
    t1: config.t1,
    t2: config.t2,
    method: config.pingMethod,
    probingMode: config.probingMode,
    replyCodes: config.pingReplyCodes,
    latencyStats: config.pingLatencyStats,
    alpha: config.latencyEstimatorAlpha / 1000,
    userAgent: config.serverHeader,
  },
  { send: (bytes, address, sendPort, socket) => void rings.send(bytes, address, sendPort, socket) },
);
prober.active = init.active !== false;

const registrations =
  bindings === undefined
    ? undefined
    : new Registrations(
        bindings,
        table,
        prober,
        listSlots,
        {
          sets: config.registerSets,
          allow: cidrMatcher(config.registerAllow),
          minExpires: config.registerMinExpires,
          maxExpires: config.registerMaxExpires,
          defaultExpires: config.registerMaxExpires,
        },
        config.listen,
        init.sockets,
        config.pingFrom,
        config.serverHeader,
        (bytes, address, sendPort, socket) => void rings.send(bytes, address, sendPort, socket),
      );
if (registrations) setInterval(() => registrations.expire(), 1000);

let going = false;
// One timer, armed for whatever is due next: a slot of the round, a retransmission, a timeout.
let timer: NodeJS.Timeout | undefined;
const run = (): void => {
  const now = performance.now();
  prober.tick(now);
  arm(now);
};
function arm(now: number): void {
  clearTimeout(timer);
  const due = prober.nextDue(now);
  if (due !== Infinity) timer = setTimeout(run, Math.min(Math.max(1, due - now), 60_000));
}


port.on('message', (msg: ProbeRequest) => {
  if (msg.type === 'go') {
    if (!going) run(); // the data path is ready: the first round of keepalives starts now
    going = true;
  } else if (msg.type === 'reload') {
    void reload(msg.records).then(() => port.postMessage({ type: 'probe-reloaded', id: msg.id } satisfies ProbeReloaded));
  } else if (msg.type === 'ping-active') {
    prober.active = msg.active;
  } else if (msg.type === 'latency-reset') {
    prober.rtt.reset();
  } else if (msg.type === 'stats') {
    const rtt = msg.rtt === true ? { rtt: prober.rtt.encode() } : {};
    port.postMessage({ type: 'probe-stats', id: msg.id, counters: { ...prober.counters }, registrations: registrations && { ...registrations.counters }, pending: prober.pending, active: prober.active, ...rtt } satisfies ProbeStats);
  }
});

/**
 * A reloaded list: an entry whose destination is new (or gone) starts afresh; one that kept its
 * destination keeps its latency record, taking a new address, socket or From if the line changed.
 */
async function reload(records: readonly DestinationRecord[]): Promise<void> {
  const next = await listTargets(records);
  next.forEach((t, i) => {
    const was = prober.targets[i]!;
    if (was.uri === t.uri && was.setId === t.setId) {
      if (was.address !== t.address || was.port !== t.port || was.socket !== t.socket || was.from !== t.from || was.via !== t.via) prober.updateTarget(t);
    } else prober.setTarget(t);
  });
}

port.postMessage(READY);
if (init.go === true) {
  going = true;
  run();
}
