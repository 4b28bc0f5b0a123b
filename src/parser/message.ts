// SipMessage: the view a parse returns. It holds no strings of its own; each getter reads the span
// table and slices the datagram on demand. A parser-backed message is valid until that parser parses
// the next datagram (then every getter throws SiplbStaleMessageError); detach() makes a copy that lives
// on its own.
import * as C from './constants.generated.js';
import { ERRORS, HEADER_COMPACT, HEADER_IS_LIST, HEADER_NAMES } from './constants.generated.js';
import { splitList } from './split.js';
import type { CSeq, HeaderEntry, ParseError } from './types.js';
import { NameAddrView, Reader, UriView, ViaView } from './views.js';

const NOTE_NAMES: ReadonlyArray<readonly [number, string]> = [
  [C.NOTE_LEADING_CRLF, 'leading-crlf'],
  [C.NOTE_BARE_LF, 'bare-lf'],
  [C.NOTE_NO_CONTENT_LENGTH, 'no-content-length'],
  [C.NOTE_TRAILING_OCTETS, 'trailing-octets'],
  [C.NOTE_URI_SPACES, 'uri-spaces'],
];

/** METHOD_* id -> its name: known methods are never decoded from the bytes. */
const METHOD_NAMES: readonly string[] = [
  '', 'INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO',
  'REFER', 'MESSAGE', 'UPDATE',
];

/** Lower-case long and compact header names -> header id. */
const HEADER_IDS = new Map<string, number>();
HEADER_NAMES.forEach((name, id) => {
  if (name) HEADER_IDS.set(name.toLowerCase(), id);
  const compact = HEADER_COMPACT[id];
  if (compact) HEADER_IDS.set(compact, id);
});

/** Header id for a name in any case or compact form; 0 (HDR_OTHER) when unknown. */
export function headerId(name: string): number {
  return HEADER_IDS.get(name.toLowerCase()) ?? C.HDR_OTHER;
}

export function makeError(table: Int32Array, code: number): ParseError {
  const [status, reason, name] = ERRORS[code] ?? [400, `parser error ${code}`, 'ERR_UNKNOWN'];
  const detail = table[C.F_ERROR_DETAIL]!;
  return {
    ok: false,
    code,
    name,
    reason,
    status,
    offset: table[C.F_ERROR_OFF]!,
    header: detail > 0 ? HEADER_NAMES[detail] : undefined,
  };
}

export class SipMessage {
  readonly ok = true as const;
  readonly #r: Reader;
  /** The caller's bytes: the body is a view of them, not a copy. */
  readonly #input: Uint8Array;
  #via: ViaView | undefined;
  #from: NameAddrView | undefined;
  #to: NameAddrView | undefined;
  #cseq: CSeq | undefined;
  #ruri: UriView | undefined;
  #route: UriView | undefined;

  constructor(reader: Reader, input: Uint8Array) {
    this.#r = reader;
    this.#input = input;
  }

  get kind(): 'request' | 'response' {
    return this.#r.int(C.F_KIND) === C.KIND_RESPONSE ? 'response' : 'request';
  }
  get isRequest(): boolean {
    return this.#r.int(C.F_KIND) === C.KIND_REQUEST;
  }
  /** Request method as written; undefined for responses (see cseq.method). */
  get method(): string | undefined {
    if (this.#r.int(C.F_METHOD_OFF) < 0) return undefined;
    return METHOD_NAMES[this.#r.int(C.F_METHOD_ID)] || this.#r.span(C.F_METHOD_OFF);
  }
  /** METHOD_* number of the request method, or of the CSeq method for responses. */
  get methodId(): number {
    return this.#r.int(C.F_METHOD_ID);
  }
  /** Status code of a response, 0 for requests. */
  get status(): number {
    return this.#r.int(C.F_STATUS);
  }
  get reason(): string {
    return this.#r.span(C.F_REASON_OFF) ?? '';
  }
  get version(): string {
    return this.#r.span(C.F_VERSION_OFF) ?? '';
  }
  get startLine(): string {
    return this.#r.span(C.F_START_OFF) ?? '';
  }
  get requestUri(): UriView | undefined {
    if (this.#r.int(C.F_RURI + C.U_OFF) < 0) return undefined;
    return (this.#ruri ??= new UriView(this.#r, C.F_RURI));
  }
  /** The top Via. */
  get via(): ViaView | undefined {
    if (this.#r.int(C.F_VIA1 + C.V_OFF) < 0) return undefined;
    return (this.#via ??= new ViaView(this.#r, C.F_VIA1));
  }
  /** The second Via: where a proxy sends a response after removing its own. */
  get via2(): ViaView | undefined {
    return this.#r.int(C.F_VIA2 + C.V_OFF) < 0 ? undefined : new ViaView(this.#r, C.F_VIA2);
  }
  get viaCount(): number {
    return this.#r.int(C.F_VIA_COUNT);
  }
  get callId(): string {
    return this.#r.span(C.F_CALL_ID_OFF) ?? '';
  }
  get cseq(): CSeq {
    if (this.#cseq === undefined) {
      const r = this.#r;
      const method = r.int(C.F_CSEQ_METHOD_OFF) < 0 ? '' : METHOD_NAMES[r.int(C.F_CSEQ_METHOD_ID)] || r.span(C.F_CSEQ_METHOD_OFF)!;
      this.#cseq = { number: r.int(C.F_CSEQ_NUM), method };
    }
    return this.#cseq;
  }
  get cseqNumber(): number {
    return this.#r.int(C.F_CSEQ_NUM);
  }
  get from(): NameAddrView {
    return (this.#from ??= new NameAddrView(this.#r, C.F_FROM));
  }
  get to(): NameAddrView {
    return (this.#to ??= new NameAddrView(this.#r, C.F_TO));
  }
  get maxForwards(): number | undefined {
    const v = this.#r.int(C.F_MAX_FORWARDS);
    return v < 0 ? undefined : v;
  }
  get contentLength(): number | undefined {
    const v = this.#r.int(C.F_CONTENT_LENGTH);
    return v < 0 ? undefined : v;
  }
  /** Top Route URI, or undefined. */
  get route(): UriView | undefined {
    if (this.#r.int(C.F_ROUTE1 + C.U_OFF) < 0) return undefined;
    return (this.#route ??= new UriView(this.#r, C.F_ROUTE1));
  }
  get routeCount(): number {
    return this.#r.int(C.F_ROUTE_COUNT);
  }
  /**
   * Offset and length of every Route value in order, as pairs in one array: [off0, len0, off1,
   * len1, ...]. Each is a route-param as written (name-addr and its header params).
   */
  routeSpans(): number[] {
    const t = this.#r.table;
    const out: number[] = [];
    const n = this.#r.int(C.F_HDR_COUNT);
    for (let i = 0; i < n; i++) {
      const b = C.HDR_BASE + i * C.HDR_STRIDE;
      if (t[b + C.H_ID] !== C.HDR_ROUTE) continue;
      const count = t[b + C.H_VAL_COUNT]!;
      if (count < 0) {
        out.push(t[b + C.H_VALUE_OFF]!, t[b + C.H_VALUE_LEN]!);
        continue;
      }
      const first = t[b + C.H_FIRST_VAL]!;
      for (let v = first; v < first + count; v++) out.push(t[C.VAL_BASE + v * 2]!, t[C.VAL_BASE + v * 2 + 1]!);
    }
    return out;
  }
  /**
   * The URI inside the name-addr at [off, off + len) (a Route or Record-Route value: the part
   * between < and >, or the whole value without them), parsed into the parser's scratch block:
   * valid until the next uriAt() or parse. Undefined when it is not a URI (or the message is detached).
   */
  uriAt(off: number, len: number): UriView | undefined {
    const r = this.#r;
    const bytes = r.bytes;
    const end = off + len;
    const lt = bytes.indexOf(0x3c, off);
    let a = off;
    let b = end;
    if (lt >= 0 && lt < end) {
      const gt = bytes.indexOf(0x3e, lt);
      if (gt < 0 || gt >= end) return undefined;
      a = lt + 1;
      b = gt;
    }
    return r.parseUri(a, b - a) ? new UriView(r, C.F_URI_SCRATCH) : undefined;
  }
  /** Top Record-Route URI, or undefined. */
  get recordRoute(): UriView | undefined {
    return this.#r.int(C.F_RR1 + C.U_OFF) < 0 ? undefined : new UriView(this.#r, C.F_RR1);
  }
  get recordRouteCount(): number {
    return this.#r.int(C.F_RR_COUNT);
  }
  /** Bytes of the message proper; trailing octets after the body (RFC 3261 18.3) excluded. */
  get length(): number {
    return this.#r.int(C.F_MSG_LEN);
  }
  get bodyOffset(): number {
    return this.#r.int(C.F_BODY_OFF);
  }
  /** The body: a view of the bytes given to parse(), not a copy. */
  get body(): Uint8Array {
    const off = this.#r.int(C.F_BODY_OFF);
    return this.#input.subarray(off, off + this.#r.int(C.F_BODY_LEN));
  }
  /** Liberal acceptances worth knowing about, e.g. "no-content-length", "trailing-octets". */
  get notes(): string[] {
    const bits = this.#r.int(C.F_NOTES);
    return NOTE_NAMES.filter(([bit]) => (bits & bit) !== 0).map(([, name]) => name);
  }
  get headerCount(): number {
    return this.#r.int(C.F_HDR_COUNT);
  }

  /** Every value of the named header (any case, long or compact), in order; list headers split. */
  headers(name: string): string[] {
    const r = this.#r;
    const id = headerId(name);
    const lower = name.toLowerCase();
    const out: string[] = [];
    const n = r.int(C.F_HDR_COUNT);
    for (let i = 0; i < n; i++) {
      const b = C.HDR_BASE + i * C.HDR_STRIDE;
      const hid = r.table[b + C.H_ID]!;
      if (hid !== id) continue;
      if (id === C.HDR_OTHER && r.text(r.table[b + C.H_NAME_OFF]!, r.table[b + C.H_NAME_LEN]!).toLowerCase() !== lower) continue;
      this.#pushValues(b, out);
    }
    return out;
  }

  /** First value of the named header, or undefined. */
  header(name: string): string | undefined {
    return this.headers(name)[0];
  }

  /** Every header line in order. */
  headerEntries(): HeaderEntry[] {
    const r = this.#r;
    const out: HeaderEntry[] = [];
    const n = r.int(C.F_HDR_COUNT);
    for (let i = 0; i < n; i++) {
      const b = C.HDR_BASE + i * C.HDR_STRIDE;
      const id = r.table[b + C.H_ID]!;
      const name = r.text(r.table[b + C.H_NAME_OFF]!, r.table[b + C.H_NAME_LEN]!);
      const values: string[] = [];
      this.#pushValues(b, values);
      out.push({
        name,
        canonicalName: id === C.HDR_OTHER ? name : HEADER_NAMES[id]!,
        value: r.text(r.table[b + C.H_VALUE_OFF]!, r.table[b + C.H_VALUE_LEN]!),
        values,
      });
    }
    return out;
  }

  #pushValues(b: number, out: string[]): void {
    const r = this.#r;
    const count = r.table[b + C.H_VAL_COUNT]!;
    if (count < 0) {
      const value = r.text(r.table[b + C.H_VALUE_OFF]!, r.table[b + C.H_VALUE_LEN]!);
      if (HEADER_IS_LIST[r.table[b + C.H_ID]!]) out.push(...splitList(value));
      else out.push(value);
      return;
    }
    const first = r.table[b + C.H_FIRST_VAL]!;
    for (let v = first; v < first + count; v++) {
      out.push(r.text(r.table[C.VAL_BASE + v * 2]!, r.table[C.VAL_BASE + v * 2 + 1]!));
    }
  }

  /** A copy of this message (bytes and table) that stays valid whatever its parser does next. */
  detach(): SipMessage {
    this.#r.check();
    const len = this.#input.length;
    const bytes = Buffer.from(this.#r.bytes.subarray(0, len));
    const table = this.#r.table.slice(0, C.VAL_BASE + this.#r.int(C.F_VAL_COUNT) * 2);
    return new SipMessage(new Reader(bytes, table), bytes);
  }

  toJSON(): Record<string, unknown> {
    const isReq = this.isRequest;
    const body = this.body;
    const bodyText = Buffer.from(body.buffer, body.byteOffset, body.length).toString('utf8');
    const textual = Buffer.byteLength(bodyText) === body.length && !bodyText.includes('\0');
    return {
      kind: this.kind,
      ...(isReq ? { method: this.method, requestUri: this.requestUri?.toJSON() } : { status: this.status, reason: this.reason }),
      version: this.version,
      via: this.via?.toJSON(),
      via2: this.via2?.toJSON(),
      viaCount: this.viaCount,
      callId: this.callId,
      cseq: this.cseq,
      from: this.from.toJSON(),
      to: this.to.toJSON(),
      maxForwards: this.maxForwards,
      contentLength: this.contentLength,
      route: this.route?.toJSON(),
      routeCount: this.routeCount,
      recordRoute: this.recordRoute?.toJSON(),
      recordRouteCount: this.recordRouteCount,
      headers: this.headerEntries().map((h) => ({ name: h.name, value: h.value, values: h.values })),
      length: this.length,
      bodyLength: body.length,
      ...(textual ? { body: bodyText } : { bodyBase64: Buffer.from(body).toString('base64') }),
      notes: this.notes,
    };
  }
}
