// A string that keeps nothing else alive. The parser binding hands out fields as slices of the
// datagram's header text (V8 sliced strings, cheap to make), and a slice holds its whole parent: a
// Call-ID or branch kept 32 s in a transaction key kept the ~600-byte header text of its request
// with it (a heap snapshot at 2,000 calls/s: 72 MB of strings for 125,000 held transactions).
// Copying the few strings that outlive the datagram costs a round trip through a Buffer, once per
// transaction, never per lookup.

/** A flat copy of `s` (UTF-16 round trip: exact for every string). */
export function ownString(s: string): string {
  return Buffer.from(s, 'utf16le').toString('utf16le');
}
