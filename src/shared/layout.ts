// Every slot of a datagram ring's SharedArrayBuffer, in one place (STYLE.md habit 5, after
// thread-stream's indexes.js). A ring is one SAB: a 256-byte control block, then the data area.
//
//   byte 0          64              128             192             256                 256 + capacity
//        +---------------+---------------+---------------+---------------+---------------------------+
//        | MAGIC         | WRITE_POS     | READ_POS      | SLEEPING      | data: records, 8-aligned  |
//        | CAPACITY      | DROPPED       |               |               |                           |
//        | (set once)    | NOTIFIES      |               | (both sides)  |                           |
//        +---------------+---------------+---------------+---------------+---------------------------+
//          read-only       producer        consumer        flag + CAS       bytes behind WRITE_POS
//
// Each line is 64 bytes so the producer's and the consumer's words never share a cache line: the
// producer stores WRITE_POS once per record, and a consumer polling the same line would bounce it.
//
// A record in the data area (offsets from the record's start, which is 8-byte aligned):
//
//   0        4        8      10      12  13      16                              32
//   +--------+--------+------+-------+---+-------+-------------------------------+-----------...
//   | LENGTH | TAG    | PORT |SOCKET |FAM| pad   | ADDRESS: 16 bytes (IPv4: 0-3)  | payload (LENGTH)
//   +--------+--------+------+-------+---+-------+-------------------------------+-----------...
//
// A record never wraps: when it does not fit before the end of the data area, the producer writes
// LENGTH = SKIP at the current position and places the record at data offset 0. WRITE_POS and
// READ_POS run freely over 2^32 (uint32 arithmetic); the data offset is `pos & (capacity - 1)`.

/** Int32 indexes of the control words (byte offset / 4). */
export const CTRL = Object.freeze({
  /** RING_MAGIC, written by create(): a constructor given a foreign SAB fails loudly. */
  MAGIC: 0,
  /** Data area size in bytes, a power of two. */
  CAPACITY: 1,
  /** Producer: bytes published so far (uint32, wraps). The consumer reads records up to it. */
  WRITE_POS: 16,
  /** Producer: records refused because the ring was full. Readable by anyone for stats. */
  DROPPED: 17,
  /** Producer: Atomics.notify calls made (how often the consumer had to be woken). */
  NOTIFIES: 18,
  /** Consumer: bytes consumed so far (uint32, wraps). The producer may overwrite bytes behind it. */
  READ_POS: 32,
  /** 1 while the consumer waits (or is about to); it waits on this word; the producer CASes it to 0 and notifies it. */
  SLEEPING: 48,
});

export const RING_MAGIC = 0x53_49_50_52; // "SIPR"
export const CTRL_BYTES = 256;
export const CACHE_LINE = 64;

/** Byte offsets inside one record. */
export const REC = Object.freeze({
  LENGTH: 0,
  TAG: 4,
  PORT: 8,
  SOCKET: 10,
  FAMILY: 12,
  ADDRESS: 16,
  PAYLOAD: 32,
});
export const REC_HEADER_BYTES = REC.PAYLOAD;
export const REC_ALIGN = 8;
/** LENGTH value of a skip marker: the rest of the data area up to its end is unused. */
export const SKIP = 0xffff_ffff;

export const MIN_CAPACITY = 4096;
export const MAX_CAPACITY = 1 << 30;

export interface Region {
  readonly name: string;
  /** Byte offset of the first byte. */
  readonly start: number;
  /** Size in bytes. */
  readonly size: number;
}

const word = (name: keyof typeof CTRL): Region => ({ name, start: CTRL[name] * 4, size: 4 });

/** Control-block slots, for the overlap test and for anyone printing the layout. */
export const CTRL_REGIONS: readonly Region[] = Object.freeze(
  (Object.keys(CTRL) as Array<keyof typeof CTRL>).map(word),
);

/** Record header fields. */
export const RECORD_REGIONS: readonly Region[] = Object.freeze([
  { name: 'LENGTH', start: REC.LENGTH, size: 4 },
  { name: 'TAG', start: REC.TAG, size: 4 },
  { name: 'PORT', start: REC.PORT, size: 2 },
  { name: 'SOCKET', start: REC.SOCKET, size: 2 },
  { name: 'FAMILY', start: REC.FAMILY, size: 1 },
  { name: 'ADDRESS', start: REC.ADDRESS, size: 16 },
]);

/** Which side writes each control word; the cache-line test keeps writers apart. */
export const CTRL_WRITER: Readonly<Record<keyof typeof CTRL, 'create' | 'producer' | 'consumer' | 'both'>> =
  Object.freeze({
    MAGIC: 'create',
    CAPACITY: 'create',
    WRITE_POS: 'producer',
    DROPPED: 'producer',
    NOTIFIES: 'producer',
    READ_POS: 'consumer',
    SLEEPING: 'both',
  });

/** Bytes one record of `payloadLength` takes in the data area. */
export function recordBytes(payloadLength: number): number {
  return (REC_HEADER_BYTES + payloadLength + REC_ALIGN - 1) & ~(REC_ALIGN - 1);
}
