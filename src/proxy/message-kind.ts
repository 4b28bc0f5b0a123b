// What kind of SIP message a datagram is, read from its first bytes: the request method or the
// response class. The per-method and per-class counters (counters.ts) use it on every datagram in
// and out, so it reads at most a dozen bytes and allocates nothing; a datagram that does not start
// like a SIP message of a known method counts as "other" (index 0).

/** The methods counted by name; every other method (and garbage) is counted as OTHER. */
export const METHODS = ['OTHER', 'INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'INFO', 'UPDATE', 'PRACK', 'MESSAGE', 'PUBLISH'] as const;

/** Response classes: index 1-6 is the first digit of the status code, 0 a status line that does not parse. */
export const CLASSES = ['other', '1xx', '2xx', '3xx', '4xx', '5xx', '6xx'] as const;

const NAMES = METHODS.map((m) => Uint8Array.from(m, (c) => c.charCodeAt(0)));
/** Candidate method indexes by name length and first byte: length * 256 + first byte. */
const BY_START = new Map<number, number[]>();
NAMES.forEach((n, i) => {
  if (i === 0) return;
  const key = n.length * 256 + n[0]!;
  BY_START.set(key, [...(BY_START.get(key) ?? []), i]);
});

const SPACE = 0x20;

/** Index into METHODS of a request's method, 0 if it is none of them. */
export function methodIndex(b: Uint8Array): number {
  let len = 0;
  while (len < 10 && len < b.length && b[len] !== SPACE) len++;
  if (len >= 10 || len >= b.length) return 0;
  const candidates = BY_START.get(len * 256 + b[0]!);
  if (candidates === undefined) return 0;
  for (const i of candidates) {
    const name = NAMES[i]!;
    let k = 1;
    while (k < len && b[k] === name[k]) k++;
    if (k === len) return i;
  }
  return 0;
}

/** Index into CLASSES of a response ("SIP/2.0 NNN ..."), 0 if its status line is not one. */
export function classIndex(b: Uint8Array): number {
  if (b.length < 12 || b[7] !== SPACE || b[0] !== 0x53 /* S */) return 0;
  const d = b[8]! - 0x30;
  return d >= 1 && d <= 6 ? d : 0;
}
