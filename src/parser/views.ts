// Lazy views over the span table: every getter reads a slot and slices the datagram only when it is
// read, so a proxy that needs the Call-ID and the top Via pays for those two strings and no more.
import { SiplbStaleMessageError } from '../errors.js';
import * as C from './constants.generated.js';
import type { NameAddr, SipUri, UriScheme, Via } from './types.js';

const FOLD = /[ \t]*\r?\n[ \t]+/g;

/** Node's Buffer has direct slice-to-string methods; toString(encoding, ...) dispatches to them. */
interface SliceBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

/** The parser behind a reader: its generation moves on with every parse. */
export interface ReaderSource {
  readonly generation: number;
  parseUriAt(off: number, len: number): boolean;
}

/** The source of a detached message: never stale, no URI parser behind it. */
const DETACHED: ReaderSource = { generation: 0, parseUriAt: () => false };

/**
 * What every view reads through: the table, the bytes the offsets point into, and a staleness
 * check. A parser-backed reader goes stale when its parser parses the next datagram.
 *
 * Strings: crossing into C++ to make a string costs about 50-70 ns however short it is, so the
 * first field read decodes the head once (latin1: exact when the parser saw no byte >= 0x80), up
 * to the end of the last field a proxy reads rather than the whole header section, and every field
 * is a slice of that string (V8 slices without copying).
 */
export class Reader {
  #head: string | undefined;

  /**
   * `source` is the parser whose last parse this is, at `generation`; a detached message has none
   * (DETACHED: never stale, no URI parser).
   */
  constructor(
    readonly bytes: Buffer,
    readonly table: Int32Array,
    private readonly source: ReaderSource = DETACHED,
    private readonly generation = 0,
  ) {}

  /** Throws SiplbStaleMessageError when the table no longer describes this message. */
  check(): void {
    if (this.source.generation !== this.generation) throw new SiplbStaleMessageError();
  }

  /**
   * Parses [off, off + len) of the message as a URI into the F_URI_SCRATCH block; false when it is
   * not a URI, or when this reader has no parser behind it (a detached message).
   */
  parseUri(off: number, len: number): boolean {
    this.check();
    return this.source.parseUriAt(off, len);
  }

  /** Slot value. */
  int(slot: number): number {
    this.check();
    return this.table[slot]!;
  }

  /** The string of the span whose offset is at `slot` and length at `slot + 1`, or undefined. */
  span(slot: number): string | undefined {
    this.check();
    const off = this.table[slot]!;
    if (off < 0) return undefined;
    return this.text(off, this.table[slot + 1]!);
  }

  /** Text of [off, off + len), with folded lines (CRLF + WSP) replaced by one space. */
  text(off: number, len: number): string {
    if (off < 0) return '';
    const notes = this.table[C.F_NOTES]!;
    const end = off + len;
    let s: string;
    if ((notes & C.NOTE_8BIT) !== 0) {
      s = (this.bytes as SliceBuffer).utf8Slice(off, end);
    } else {
      const head = this.#head !== undefined && end <= this.#head.length ? this.#head : this.#decodeHead(end);
      s = head !== undefined ? head.slice(off, end) : (this.bytes as SliceBuffer).latin1Slice(off, end);
    }
    return (notes & C.NOTE_FOLDED) !== 0 && s.includes('\n') ? s.replace(FOLD, ' ') : s;
  }

  /**
   * The decoded head that covers [0, end), or undefined when end lies past the header section. The
   * first decode stops at the end of the last field a proxy reads (routingEnd); a read past it
   * decodes the whole header section once more.
   */
  #decodeHead(end: number): string | undefined {
    const headersEnd = this.table[C.F_HEADERS_END]!;
    if (end > headersEnd) return undefined;
    let stop = headersEnd;
    if (this.#head === undefined) {
      const r = routingEnd(this.table);
      if (r >= end && r < headersEnd) stop = r;
    }
    return (this.#head = (this.bytes as SliceBuffer).latin1Slice(0, stop));
  }
}

/**
 * End of the last span among the fields a proxy reads per message: the start line, Call-ID, CSeq,
 * the top two Vias, the top Route and Record-Route, From and To. Absent spans are (-1, 0).
 */
function routingEnd(t: Int32Array): number {
  return Math.max(
    t[C.F_START_OFF]! + t[C.F_START_LEN]!,
    t[C.F_CALL_ID_OFF]! + t[C.F_CALL_ID_LEN]!,
    t[C.F_CSEQ_METHOD_OFF]! + t[C.F_CSEQ_METHOD_LEN]!,
    t[C.F_VIA1 + C.V_OFF]! + t[C.F_VIA1 + C.V_LEN]!,
    t[C.F_VIA2 + C.V_OFF]! + t[C.F_VIA2 + C.V_LEN]!,
    t[C.F_ROUTE1 + C.U_OFF]! + t[C.F_ROUTE1 + C.U_LEN]!,
    t[C.F_RR1 + C.U_OFF]! + t[C.F_RR1 + C.U_LEN]!,
    t[C.F_FROM + C.N_OFF]! + t[C.F_FROM + C.N_LEN]!,
    t[C.F_TO + C.N_OFF]! + t[C.F_TO + C.N_LEN]!,
  );
}

const SCHEMES: readonly UriScheme[] = ['other', 'sip', 'sips', 'tel', 'other'];

export class UriView implements SipUri {
  constructor(
    private readonly r: Reader,
    private readonly b: number,
  ) {}

  get raw(): string {
    return this.r.span(this.b + C.U_OFF) ?? '';
  }
  get scheme(): string {
    return this.r.text(this.r.int(this.b + C.U_OFF), this.r.int(this.b + C.U_SCHEME_LEN));
  }
  get schemeKind(): UriScheme {
    return SCHEMES[this.r.int(this.b + C.U_SCHEME)]!;
  }
  get user(): string | undefined {
    return this.r.span(this.b + C.U_USER_OFF);
  }
  get password(): string | undefined {
    return this.r.span(this.b + C.U_PASSWORD_OFF);
  }
  get host(): string | undefined {
    return this.r.span(this.b + C.U_HOST_OFF);
  }
  get port(): number {
    return this.r.int(this.b + C.U_PORT);
  }
  get params(): string | undefined {
    return this.r.span(this.b + C.U_PARAMS_OFF);
  }
  get headers(): string | undefined {
    return this.r.span(this.b + C.U_HEADERS_OFF);
  }
  get lr(): boolean {
    return this.r.int(this.b + C.U_LR) === 1;
  }
  toJSON(): Record<string, unknown> {
    return {
      raw: this.raw,
      scheme: this.scheme,
      user: this.user,
      password: this.password,
      host: this.host,
      port: this.port,
      params: this.params,
      headers: this.headers,
      lr: this.lr,
    };
  }
}

export class ViaView implements Via {
  constructor(
    private readonly r: Reader,
    private readonly b: number,
  ) {}

  get raw(): string {
    return this.r.span(this.b + C.V_OFF) ?? '';
  }
  get transport(): string {
    return this.r.span(this.b + C.V_TRANSPORT_OFF) ?? '';
  }
  /** TRANSPORT_* number: UDP 1, TCP 2, TLS 3, SCTP 4, WS 5, WSS 6, other 0. */
  get transportId(): number {
    return this.r.int(this.b + C.V_TRANSPORT);
  }
  get host(): string {
    return this.r.span(this.b + C.V_HOST_OFF) ?? '';
  }
  get port(): number {
    return this.r.int(this.b + C.V_PORT);
  }
  get branch(): string | undefined {
    return this.r.span(this.b + C.V_BRANCH_OFF);
  }
  get received(): string | undefined {
    return this.r.span(this.b + C.V_RECEIVED_OFF);
  }
  get rport(): number | null | undefined {
    const v = this.r.int(this.b + C.V_RPORT);
    return v < 0 ? undefined : v === 0 ? null : v;
  }
  get maddr(): string | undefined {
    return this.r.span(this.b + C.V_MADDR_OFF);
  }
  get params(): string | undefined {
    return this.r.span(this.b + C.V_PARAMS_OFF);
  }
  toJSON(): Record<string, unknown> {
    return {
      raw: this.raw,
      transport: this.transport,
      host: this.host,
      port: this.port,
      branch: this.branch,
      received: this.received,
      rport: this.rport,
      maddr: this.maddr,
      params: this.params,
    };
  }
}

export class NameAddrView implements NameAddr {
  #uri: UriView | undefined;

  constructor(
    private readonly r: Reader,
    private readonly b: number,
  ) {}

  get raw(): string {
    return this.r.span(this.b + C.N_OFF) ?? '';
  }
  get displayName(): string | undefined {
    return this.r.span(this.b + C.N_DISPLAY_OFF);
  }
  get uri(): UriView {
    return (this.#uri ??= new UriView(this.r, this.b + C.N_URI));
  }
  get tag(): string | undefined {
    return this.r.span(this.b + C.N_TAG_OFF);
  }
  get params(): string | undefined {
    return this.r.span(this.b + C.N_PARAMS_OFF);
  }
  toJSON(): Record<string, unknown> {
    return { raw: this.raw, displayName: this.displayName, uri: this.uri.toJSON(), tag: this.tag, params: this.params };
  }
}
