// One clock for every thread: microseconds since the epoch from performance.timeOrigin +
// performance.now() (the same origin on every thread). The main thread stamps each datagram with
// it when it arrives; the stamp rides through the rings in a record's 32-bit tag (wraps every 71
// minutes; differences taken modulo 2^32 stay right for anything shorter) and comes back with what
// the datagram caused, so receive-to-send latency is measured where the send happens.

export function nowMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/** The 32-bit form of a timestamp carried in a ring record tag; 0 means "no origin". */
export function tagOf(micros: number): number {
  return micros >>> 0 || 1;
}
