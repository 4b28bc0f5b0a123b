// Stats snapshots crossing threads (a dispatch worker's or the probe worker's answer to a 'stats'
// control message) travel as one msgpackr buffer instead of a structured clone of a deep object:
// one copy of bytes, and per-destination arrays of thousands of numbers stay compact. Control
// plane only: a snapshot is asked for per scrape or command, never per datagram.
import { Packr } from 'msgpackr';

// Plain maps and arrays, no record extension: a snapshot is read once and thrown away.
const packr = new Packr({ useRecords: false });

export function packStats(value: unknown): Uint8Array {
  return packr.pack(value);
}

export function unpackStats<T>(bytes: Uint8Array): T {
  return packr.unpack(bytes) as T;
}
