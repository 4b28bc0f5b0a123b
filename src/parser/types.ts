// The public shape of a parsed SIP message. The implementation (message.ts) reads every field
// lazily from the parser's span table: a string is made only when its field is read.

export type UriScheme = 'sip' | 'sips' | 'tel' | 'other';

export interface SipUri {
  /** The URI exactly as written. */
  readonly raw: string;
  /** Scheme as written (lower case not enforced), e.g. "sip", "tel", "soap.beep". */
  readonly scheme: string;
  readonly schemeKind: UriScheme;
  /** User part (sip/sips) or telephone-subscriber (tel), escapes kept verbatim. */
  readonly user: string | undefined;
  readonly password: string | undefined;
  /** Host; an IPv6 reference keeps its brackets. Undefined for tel: and unknown schemes. */
  readonly host: string | undefined;
  /** Port, or 0 when absent. */
  readonly port: number;
  /** Parameters after the host without the first ';' ("lr;transport=udp"), or undefined. */
  readonly params: string | undefined;
  /** URI headers after '?', or undefined. */
  readonly headers: string | undefined;
  /** True when the parameters contain `lr` (loose routing). */
  readonly lr: boolean;
}

export interface Via {
  /** The via-parm as written. */
  readonly raw: string;
  /** "UDP", "TCP", "TLS", "SCTP", "WS", "WSS" or as written. */
  readonly transport: string;
  readonly host: string;
  /** Port, or 0 when absent. */
  readonly port: number;
  readonly branch: string | undefined;
  readonly received: string | undefined;
  /** undefined: absent; null: present without a value; a number: the port. */
  readonly rport: number | null | undefined;
  readonly maddr: string | undefined;
  /** All parameters without the first ';'. */
  readonly params: string | undefined;
}

export interface NameAddr {
  /** Header value as written (folding normalised). */
  readonly raw: string;
  /** Display name as written, quotes kept, or undefined. */
  readonly displayName: string | undefined;
  readonly uri: SipUri;
  readonly tag: string | undefined;
  /** Header parameters after the URI, without the first ';'. */
  readonly params: string | undefined;
}

export interface CSeq {
  readonly number: number;
  readonly method: string;
}

export interface HeaderEntry {
  /** Name as written (compact forms stay compact). */
  readonly name: string;
  /** Canonical name of a known header ("Via" for "v"), or the name as written. */
  readonly canonicalName: string;
  /** Value, trimmed, folding replaced by one space. */
  readonly value: string;
  /** The values of a list header split at top-level commas; [value] for other headers. */
  readonly values: string[];
}

export interface ParseError {
  readonly ok: false;
  /** ERR_* code (src/parser/constants.generated.ts). */
  readonly code: number;
  /** Constant name of the code, e.g. "ERR_VIA". */
  readonly name: string;
  /** Human-readable reason, e.g. "malformed Via header". */
  readonly reason: string;
  /** The SIP status a proxy answers a request with for this error (400, 505, 513...). */
  readonly status: number;
  /** Byte offset where the problem was found. */
  readonly offset: number;
  /** Canonical name of the header involved, when there is one. */
  readonly header: string | undefined;
}
