// What the main thread's WorkerPool (src/transport/pool.ts) and a ring worker's worker.ts agree on:
// the workerData shape and the one message a worker must send before it gets traffic.

/** workerData of every worker the pool starts. */
export interface RingWorkerData {
  /** Shard index: the worker receives the datagrams whose Call-ID hashes to it. */
  readonly index: number;
  /** Main thread -> worker datagrams (a DatagramRing buffer). */
  readonly ingress: SharedArrayBuffer;
  /** Worker -> main thread datagrams to send; each record names socket, address and port. */
  readonly egress: SharedArrayBuffer;
  /** Whatever the pool's owner passes (the frozen config, for the proxy). */
  readonly init: unknown;
  /**
   * Descriptors of this worker's own duplicates of the listening sockets, in socket order, to send
   * on (transport/direct-send.ts); absent: it sends through its egress ring.
   */
  readonly sendFds?: readonly number[];
}

/**
 * Posted by a worker once it is attached to its rings and can handle traffic (STYLE.md habit 4:
 * a worker joins the rotation only after it says READY, as in piscina and thread-stream).
 */
export interface WorkerReadyMessage {
  readonly type: 'ready';
}

export const READY: WorkerReadyMessage = Object.freeze({ type: 'ready' });

export function isReadyMessage(msg: unknown): msg is WorkerReadyMessage {
  return typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === 'ready';
}

/** Checks workerData in a worker.ts before it attaches (workerData is `any` in @types/node). */
export function isRingWorkerData(data: unknown): data is RingWorkerData {
  if (typeof data !== 'object' || data === null) return false;
  const d = data as Record<string, unknown>;
  return (
    typeof d.index === 'number' &&
    d.ingress instanceof SharedArrayBuffer &&
    d.egress instanceof SharedArrayBuffer &&
    'init' in d
  );
}
