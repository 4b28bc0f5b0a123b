// A seqlock over Float64 records in a SharedArrayBuffer: how the destination table
// (dest-table.ts) keeps a latency record or an overload report whole while another thread
// rewrites it. Float64 accesses are not tear-free in JavaScript's memory model, and Atomics does
// not take a Float64Array, so each record has an Int32 sequence word beside it:
//
//   writer: compareExchange the word from even to odd (waiting while another writer holds it
//           odd), write the record, store the word + 2 (even again: published);
//   reader: load the word, copy the record, load the word again; the copy stands when the word
//           was even and did not change, else it copies again.
//
// The Atomics on the word order the plain Float64 accesses between them (a seq-cst store
// publishes everything written before it to a thread whose seq-cst load sees it). The
// compareExchange makes two writers safe; most records have one writer anyway (the probe worker).

/** How long a read waits on a word that stays odd and unchanged: a writer that died mid-record. */
export const STUCK_WRITER_MS = 50;

/** Takes the record's word: returns the even value it had, for endWrite(). */
export function beginWrite(words: Int32Array, seq: number): number {
  for (;;) {
    const s = Atomics.load(words, seq);
    if ((s & 1) === 0 && Atomics.compareExchange(words, seq, s, s + 1) === s) return s;
  }
}

/** Publishes the record written since beginWrite() returned `held`. */
export function endWrite(words: Int32Array, seq: number, held: number): void {
  Atomics.store(words, seq, held + 2);
}

/**
 * Copies `n` Float64 of `src` from `base` into `copy` (reused by the caller: nothing is allocated)
 * as one consistent record. A writer terminated in the middle of a record leaves the word odd for
 * good, and a reader must not spin on it forever: when it stays odd and unchanged for
 * STUCK_WRITER_MS, the record is taken as it is. A live writer, however busy, keeps changing the
 * word and is simply waited for (a bound on retries instead returned torn records under a writer
 * that never paused, in the two-thread test).
 */
export function readRecord(words: Int32Array, seq: number, src: Float64Array, base: number, n: number, copy: Float64Array): Float64Array {
  let stuck = -1;
  let since = 0;
  for (;;) {
    const before = Atomics.load(words, seq);
    for (let k = 0; k < n; k++) copy[k] = src[base + k]!;
    if ((before & 1) === 0 && Atomics.load(words, seq) === before) return copy;
    if (before !== stuck) {
      stuck = before;
      since = performance.now();
    } else if (performance.now() - since > STUCK_WRITER_MS) {
      return copy;
    }
  }
}
