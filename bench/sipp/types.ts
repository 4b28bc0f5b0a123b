// The results of one `npm run bench:sipp` run: what the driver (run.ts) writes to
// bench/results/sipp-*.json and what the report (report.ts) renders as tables and an SVG chart.

export type Mode = 'stateful' | 'stateless';

export interface Contender {
  /** Stable key, e.g. "siplb-stateful-w0", "kamailio-stateless". */
  readonly id: string;
  readonly name: 'siplb' | 'kamailio';
  readonly mode: Mode;
  /** siplb only: SIPLB_WORKERS. */
  readonly workers?: number;
  /** siplb only: the Node.js that runs it when not the benchmark's own (--node24), and its version. */
  readonly nodeBin?: string;
  readonly nodeVersion?: string;
  /** siplb only: another checkout whose bin/siplb.js runs (--baseline), and its commit. */
  readonly root?: string;
  readonly commit?: string;
}

/** The proxy at one moment of a run: /proc for every contender, a USR2 report for siplb. */
export interface Snapshot {
  /** performance.now() of the benchmark driver, ms. */
  readonly atMs: number;
  /** Process tree CPU (user+system) since it started, s. */
  readonly cpuSeconds: number;
  /** Process tree memory: RSS summed, and PSS summed (shared pages divided among the processes). */
  readonly rssBytes: number;
  readonly pssBytes: number;
  /** siplb: V8 heap in use, main thread plus dispatch workers; null for Kamailio. */
  readonly heapBytes: number | null;
  /** siplb: GC pause time since start, all threads, ms; null for Kamailio. */
  readonly gcMs: number | null;
  /** siplb: receive-to-send latency since start, compressed HdrHistogram (latency_hdr); null for Kamailio. */
  readonly latencyHdr: string | null;
  /** siplb: overload 503s since start; null for Kamailio. */
  readonly shed: number | null;
}

export interface Conditions {
  readonly date: string;
  readonly commit: string;
  readonly node: string;
  readonly cpuModel: string;
  readonly cores: number;
  readonly kernel: string;
  readonly sipp: string;
  readonly kamailio: string;
  /** Fixed rates measured (calls/s) and calls per measurement. */
  readonly rates: readonly number[];
  readonly calls: number;
  /** A/B rounds per (contender, rate): contenders alternate within each round. */
  readonly rounds: number;
  /** Length of each fixed-rate run (s) and its first part left out of CPU, latency and GC (s); a
   *  warm-up of 0 measures the whole run. Absent in results from before steady-state runs. */
  readonly seconds?: number;
  readonly warmupSeconds?: number;
  /** How long after a siplb run's load memory was read again (s); 0: not read. */
  readonly tailSeconds?: number;
  readonly loadAverageStart: number;
  readonly loadAverageEnd: number;
}

/** One run of the caller scenario at a fixed rate against one contender. */
export interface FixedRateResult {
  readonly contender: string;
  readonly rate: number;
  readonly round: number;
  readonly calls: number;
  readonly completed: number;
  readonly failed: number;
  /** siplb's overload 503s (overload_rejected in its stop report); 0 for Kamailio. A lenient caller
   *  retransmits the INVITE after a 503, so a shed call may still complete. Absent in results
   *  written before siplb shed load. */
  readonly shed?: number;
  /** SIPp's retransmission counter of the caller. */
  readonly retransmissions: number;
  /** Kernel receive-buffer drops over the run (RcvbufErrors, /proc/net/snmp, all UDP sockets). */
  readonly rcvbufErrors: number;
  /** Proxy process tree CPU (user+system, all threads and children) over the run. */
  readonly cpuSeconds: number;
  readonly cpuMicrosPerCall: number;
  /** CPU of the SIPp caller over the run, to tell when the load generator was the limit. */
  readonly sippCpuSeconds: number;
  /** SIPp response time (INVITE to 200, -trace_rtt), ms. */
  readonly rttP50Ms: number | null;
  readonly rttP99Ms: number | null;
  /** siplb's own receive-to-send latency (µs); null for Kamailio. */
  readonly proxyP50Us: number | null;
  readonly proxyP99Us: number | null;
  readonly proxyP999Us: number | null;
  readonly seconds: number;
  /** Steady-state window the CPU, latency and GC figures cover (s), after `warmupSeconds` of the
   *  run were left out; absent (whole run) in results from before steady-state runs. */
  readonly warmupSeconds?: number;
  readonly windowSeconds?: number;
  /** Share of the window's wall time spent in GC pauses, all siplb threads together (0.05 = 5%). */
  readonly gcShare?: number | null;
  /** MiB when the load ended: RSS (summed over the process tree), PSS, V8 heap (siplb). */
  readonly rssEndMiB?: number;
  readonly pssEndMiB?: number;
  readonly heapEndMiB?: number | null;
  /** The same, `afterSeconds` after the load ended (null when not read). */
  readonly afterSeconds?: number;
  readonly rssAfterMiB?: number | null;
  readonly heapAfterMiB?: number | null;
}

export interface Step {
  readonly rate: number;
  readonly completed: number;
  readonly failed: number;
  /** Overload 503s (FixedRateResult.shed): a step with any is not clean. */
  readonly shed?: number;
  /** Share of one core used by the proxy / by the SIPp caller over the step (1.0 = one core). */
  readonly proxyCores: number;
  readonly sippCores: number;
}

/** Highest rate with zero failed calls over a fixed run, found by stepping the rate up. */
export interface StepSearch {
  readonly contender: string;
  readonly steps: readonly Step[];
  /** Highest rate of a clean step (0 when none). */
  readonly maxCleanRate: number;
  /** What stopped the search: the proxy failed calls, the caller ran out of CPU, or the top was reached. */
  readonly limitedBy: 'proxy' | 'sipp' | 'ceiling';
}

/** SIPp with its default behaviours (an out-of-order 180 after the 200 aborts the call). */
export interface StrictRun {
  readonly contender: string;
  readonly rate: number;
  readonly calls: number;
  readonly completed: number;
  readonly failed: number;
}

/** One strict SIPp caller of the overload phase: `rate` calls/s for `seconds` (calls = rate x seconds). */
export interface OverloadLoad {
  readonly rate: number;
  readonly seconds: number;
  readonly calls: number;
  readonly completed: number;
  readonly failed: number;
  readonly retransmissions: number;
}

/**
 * Load shedding: A offers 1.5R from t=0; B1 offers 0.8R once A's time is up, B2 0.8R after B1's,
 * all through one proxy, each caller finishing its calls while the next one starts. The proxy must
 * keep completing 90% of R under A and be back to zero failures by B2.
 */
export interface OverloadRun {
  readonly contender: string;
  /** Reference rate (calls/s): the contender's highest clean step rate, or --overload-rate. */
  readonly R: number;
  readonly A: OverloadLoad & { readonly completedPerSecond: number };
  readonly B1: OverloadLoad;
  readonly B2: OverloadLoad;
  /** siplb's overload 503s over the whole phase; 0 for Kamailio. */
  readonly shed: number;
  readonly rcvbufErrors: number;
  /** Proxy process tree CPU over the phase, and the CPU of caller A. */
  readonly cpuSeconds: number;
  readonly sippCpuSeconds: number;
  /** A.completedPerSecond >= 0.9 R. */
  readonly keptRate: boolean;
  /** B2 had no failed call and completed every call. */
  readonly recovered: boolean;
}

/**
 * Sustained search (--sustained): the highest rate carried for a whole fixed-rate run (60 s) with
 * no failed and no shed call, rising in steps; each step is a steady-state FixedRateResult.
 */
export interface SustainedSearch {
  readonly contender: string;
  readonly steps: readonly FixedRateResult[];
  /** Highest rate of a clean step (0 when none). */
  readonly maxCleanRate: number;
  readonly limitedBy: 'proxy' | 'sipp' | 'ceiling';
}

export interface BenchResults {
  readonly conditions: Conditions;
  readonly contenders: readonly Contender[];
  readonly fixed: readonly FixedRateResult[];
  readonly steps: readonly StepSearch[];
  readonly strict: readonly StrictRun[];
  /** Absent in results written before the overload phase. */
  readonly overload?: readonly OverloadRun[];
  /** Present in results of `--sustained` runs. */
  readonly sustained?: readonly SustainedSearch[];
}
