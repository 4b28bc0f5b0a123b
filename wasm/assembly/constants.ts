// The parser's ABI: every number that crosses the wasm boundary is defined here, once.
// scripts/gen-constants.mjs turns this file into src/parser/constants.generated.ts; `npm run check`
// regenerates it and fails on a diff. Keep the `export const NAME: i32 = N; // comment` shape: the
// generator reads it line by line.

// ---- Memory map (fixed memory, 4 pages; the module's own static data starts at MEMORY_BASE) ----
//
//   0 ............ 65535   INPUT: JS copies one datagram here, then calls parse(len)
//   65536 ....... 131071   TABLE: i32 slots written by parse()
//                            [0, FIELDS)                         fixed fields (F_*)
//                            [HDR_BASE, HDR_BASE+MAX_HEADERS*8)   one entry per header line (H_*)
//                            [VAL_BASE, VAL_BASE+MAX_VALUES*2)    list-header values (off, len)
//   127000 ...             private to the module: a reset template of the fixed fields, a Via sink
//   131072 ...             static data of the module (byte-class tables), MEMORY_BASE
export const ABI_VERSION: i32 = 1; // bumped on any change to this file's numbers
export const INPUT_PTR: i32 = 0; // byte offset of the input area
export const INPUT_CAPACITY: i32 = 65535; // largest datagram accepted (UDP payload limit)
export const TABLE_PTR: i32 = 65536; // byte offset of the i32 table
export const MEMORY_BASE: i32 = 131072; // asc --memoryBase: static data lives above the table
export const MEMORY_PAGES: i32 = 4; // initial = maximum memory, 64 KiB pages
export const FIELDS: i32 = 192; // i32 slots reserved for fixed fields
export const HDR_BASE: i32 = 192; // i32 index of the first header entry
export const HDR_STRIDE: i32 = 8; // i32 slots per header entry
export const MAX_HEADERS: i32 = 1024; // header lines per message
export const VAL_BASE: i32 = 8384; // HDR_BASE + MAX_HEADERS * HDR_STRIDE
export const MAX_VALUES: i32 = 2048; // values of list headers per message
export const TABLE_SLOTS: i32 = 12480; // VAL_BASE + MAX_VALUES * 2

// ---- Header entry slots (relative to HDR_BASE + i * HDR_STRIDE) ----
export const H_ID: i32 = 0; // header id (HDR_*), HDR_OTHER for unknown names
export const H_NAME_OFF: i32 = 1; // name as written (compact forms stay compact)
export const H_NAME_LEN: i32 = 2;
export const H_VALUE_OFF: i32 = 3; // value, leading and trailing whitespace trimmed; may span folded lines
export const H_VALUE_LEN: i32 = 4;
export const H_FIRST_VAL: i32 = 5; // index of its first value in the values table (list headers)
export const H_VAL_COUNT: i32 = 6; // number of values (list headers); -1 for headers that are not split
export const H_FLAGS: i32 = 7; // HF_* bits

export const HF_FOLDED: i32 = 1; // value spans a folded line (CRLF + WSP): normalise when reading
export const HF_LIST: i32 = 2; // value was split at top-level commas into the values table

// ---- Fixed fields (i32 index into the table). Offsets are byte offsets into INPUT; an absent
// span has offset -1 and length 0. ----
export const F_KIND: i32 = 0; // KIND_REQUEST or KIND_RESPONSE
export const F_ERROR: i32 = 1; // error code (ERR_*), 0 when well-formed
export const F_ERROR_OFF: i32 = 2; // byte offset where the error was found
export const F_ERROR_DETAIL: i32 = 3; // header id the error is about, or 0
export const F_MSG_LEN: i32 = 4; // bytes of the message proper (trailing octets after the body excluded)
export const F_START_OFF: i32 = 5; // start line without its line ending
export const F_START_LEN: i32 = 6;
export const F_METHOD_ID: i32 = 7; // METHOD_* of the request method, or of the CSeq method in responses
export const F_METHOD_OFF: i32 = 8;
export const F_METHOD_LEN: i32 = 9;
export const F_STATUS: i32 = 10; // response status code, 0 for requests
export const F_REASON_OFF: i32 = 11;
export const F_REASON_LEN: i32 = 12;
export const F_VERSION_OFF: i32 = 13;
export const F_VERSION_LEN: i32 = 14;
export const F_HDR_COUNT: i32 = 15; // header entries written
export const F_VAL_COUNT: i32 = 16; // values written
export const F_HEADERS_END: i32 = 17; // offset of the empty line that ends the header section
export const F_BODY_OFF: i32 = 18;
export const F_BODY_LEN: i32 = 19;
export const F_CONTENT_LENGTH: i32 = 20; // -1 when absent (body is then the rest of the datagram)
export const F_MAX_FORWARDS: i32 = 21; // -1 when absent
export const F_CALL_ID_OFF: i32 = 22;
export const F_CALL_ID_LEN: i32 = 23;
export const F_CSEQ_NUM: i32 = 24; // 0 .. 2^31-1; -1 when CSeq is absent or unreadable
export const F_CSEQ_METHOD_OFF: i32 = 25;
export const F_CSEQ_METHOD_LEN: i32 = 26;
export const F_CSEQ_METHOD_ID: i32 = 27;
export const F_VIA_COUNT: i32 = 28; // Via values in the message
export const F_VIA1_HDR: i32 = 29; // header entry holding the top Via
export const F_VIA2_HDR: i32 = 30; // header entry holding the second Via, -1 if none
export const F_ROUTE_COUNT: i32 = 31; // Route values
export const F_RR_COUNT: i32 = 32; // Record-Route values
export const F_NOTES: i32 = 33; // NOTE_* bits: liberal acceptances worth knowing about
export const F_URI_SCRATCH_ERR: i32 = 34; // result of the last parseUri() call

// URI block: 12 slots. Used for the Request-URI, the From/To/Route/Record-Route URIs and parseUri().
export const U_OFF: i32 = 0; // whole URI
export const U_LEN: i32 = 1;
export const U_SCHEME: i32 = 2; // SCHEME_*
export const U_SCHEME_LEN: i32 = 3; // scheme span starts at U_OFF
export const U_USER_OFF: i32 = 4; // user (sip/sips), subscriber number (tel); -1 if none
export const U_USER_LEN: i32 = 5;
export const U_PASSWORD_OFF: i32 = 6; // -1 if none
export const U_PASSWORD_LEN: i32 = 7;
export const U_HOST_OFF: i32 = 8; // host; an IPv6 reference keeps its brackets
export const U_HOST_LEN: i32 = 9;
export const U_PORT: i32 = 10; // 0 when absent
export const U_PARAMS_OFF: i32 = 11; // ";a=b;c" without the first ';', -1 if none
export const U_PARAMS_LEN: i32 = 12;
export const U_HEADERS_OFF: i32 = 13; // "?a=b&c=d" without the '?', -1 if none
export const U_HEADERS_LEN: i32 = 14;
export const U_LR: i32 = 15; // 1 when the params hold `lr`
export const U_SIZE: i32 = 16;

export const F_RURI: i32 = 36; // URI block of the Request-URI (36..51)
export const F_URI_SCRATCH: i32 = 52; // URI block written by parseUri() (52..67)
export const F_ROUTE1: i32 = 68; // URI block of the top Route (68..83)
export const F_RR1: i32 = 84; // URI block of the top Record-Route (84..99)

// Name-addr block (From, To): 8 slots followed by a URI block.
export const N_OFF: i32 = 0; // whole header value
export const N_LEN: i32 = 1;
export const N_DISPLAY_OFF: i32 = 2; // display name as written (quotes kept), -1 if none
export const N_DISPLAY_LEN: i32 = 3;
export const N_TAG_OFF: i32 = 4; // tag parameter value, -1 if none
export const N_TAG_LEN: i32 = 5;
export const N_PARAMS_OFF: i32 = 6; // header params after the URI, without the first ';'
export const N_PARAMS_LEN: i32 = 7;
export const N_URI: i32 = 8; // URI block starts here
export const N_SIZE: i32 = 24;

export const F_FROM: i32 = 100; // name-addr block of From (100..123)
export const F_TO: i32 = 124; // name-addr block of To (124..147)

// Via block: 17 slots. F_VIA1 is the top Via, F_VIA2 the second (empty when there is none).
export const V_OFF: i32 = 0; // whole via-parm
export const V_LEN: i32 = 1;
export const V_TRANSPORT: i32 = 2; // TRANSPORT_*
export const V_TRANSPORT_OFF: i32 = 3;
export const V_TRANSPORT_LEN: i32 = 4;
export const V_HOST_OFF: i32 = 5; // sent-by host; an IPv6 reference keeps its brackets
export const V_HOST_LEN: i32 = 6;
export const V_PORT: i32 = 7; // 0 when absent
export const V_BRANCH_OFF: i32 = 8; // -1 if none
export const V_BRANCH_LEN: i32 = 9;
export const V_RECEIVED_OFF: i32 = 10; // -1 if none
export const V_RECEIVED_LEN: i32 = 11;
export const V_RPORT: i32 = 12; // -1 absent, 0 present without a value (or rport=0), else the port
export const V_MADDR_OFF: i32 = 13; // -1 if none
export const V_MADDR_LEN: i32 = 14;
export const V_PARAMS_OFF: i32 = 15; // all params without the first ';', -1 if none
export const V_PARAMS_LEN: i32 = 16;
export const V_SIZE: i32 = 17;

export const F_VIA1: i32 = 148; // Via block of the top Via (148..164)
export const F_VIA2: i32 = 165; // Via block of the second Via (165..181)

// ---- Enumerations ----
export const KIND_REQUEST: i32 = 1;
export const KIND_RESPONSE: i32 = 2;

export const METHOD_OTHER: i32 = 0;
export const METHOD_INVITE: i32 = 1;
export const METHOD_ACK: i32 = 2;
export const METHOD_BYE: i32 = 3;
export const METHOD_CANCEL: i32 = 4;
export const METHOD_OPTIONS: i32 = 5;
export const METHOD_REGISTER: i32 = 6;
export const METHOD_PRACK: i32 = 7;
export const METHOD_SUBSCRIBE: i32 = 8;
export const METHOD_NOTIFY: i32 = 9;
export const METHOD_PUBLISH: i32 = 10;
export const METHOD_INFO: i32 = 11;
export const METHOD_REFER: i32 = 12;
export const METHOD_MESSAGE: i32 = 13;
export const METHOD_UPDATE: i32 = 14;

export const SCHEME_NONE: i32 = 0;
export const SCHEME_SIP: i32 = 1;
export const SCHEME_SIPS: i32 = 2;
export const SCHEME_TEL: i32 = 3;
export const SCHEME_OTHER: i32 = 4;

export const TRANSPORT_OTHER: i32 = 0;
export const TRANSPORT_UDP: i32 = 1;
export const TRANSPORT_TCP: i32 = 2;
export const TRANSPORT_TLS: i32 = 3;
export const TRANSPORT_SCTP: i32 = 4;
export const TRANSPORT_WS: i32 = 5;
export const TRANSPORT_WSS: i32 = 6;

export const NOTE_LEADING_CRLF: i32 = 1; // empty lines before the start line were skipped (RFC 3261 7.5)
export const NOTE_BARE_LF: i32 = 2; // a line of the header section ended in LF without CR
export const NOTE_NO_CONTENT_LENGTH: i32 = 4; // no Content-Length: the body is the rest of the datagram
export const NOTE_TRAILING_OCTETS: i32 = 8; // bytes after the body were ignored (RFC 3261 18.3)
export const NOTE_URI_SPACES: i32 = 16; // whitespace inside <> around a URI was ignored
export const NOTE_8BIT: i32 = 32; // the header section may hold bytes >= 0x80 (UTF-8): decode spans as UTF-8
export const NOTE_FOLDED: i32 = 64; // some header value spans folded lines (CRLF + WSP)

// ---- Error codes. Comment shape: `// <SIP status a proxy answers with> <reason>` ----
export const ERR_NONE: i32 = 0; // 200 well-formed
export const ERR_TOO_LARGE: i32 = 1; // 513 message larger than 65535 bytes
export const ERR_EMPTY: i32 = 2; // 400 empty message
export const ERR_START_LINE: i32 = 3; // 400 malformed start line
export const ERR_VERSION: i32 = 4; // 505 unsupported SIP version
export const ERR_METHOD: i32 = 5; // 400 malformed method
export const ERR_REQUEST_URI: i32 = 6; // 400 malformed Request-URI
export const ERR_STATUS: i32 = 7; // 400 status code outside 100..699
export const ERR_HEADER_SYNTAX: i32 = 8; // 400 malformed header line
export const ERR_HEADERS_UNTERMINATED: i32 = 9; // 400 header section not ended by an empty line
export const ERR_TOO_MANY_HEADERS: i32 = 10; // 400 too many header lines or values
export const ERR_MISSING_VIA: i32 = 11; // 400 missing Via header
export const ERR_MISSING_FROM: i32 = 12; // 400 missing From header
export const ERR_MISSING_TO: i32 = 13; // 400 missing To header
export const ERR_MISSING_CALL_ID: i32 = 14; // 400 missing Call-ID header
export const ERR_MISSING_CSEQ: i32 = 15; // 400 missing CSeq header
export const ERR_DUPLICATE_HEADER: i32 = 16; // 400 header allowed once appears more than once
export const ERR_VIA: i32 = 17; // 400 malformed Via header
export const ERR_FROM: i32 = 18; // 400 malformed From header
export const ERR_TO: i32 = 19; // 400 malformed To header
export const ERR_CALL_ID: i32 = 20; // 400 malformed Call-ID header
export const ERR_CSEQ: i32 = 21; // 400 malformed CSeq header or number out of range
export const ERR_CSEQ_METHOD: i32 = 22; // 400 CSeq method does not match the request method
export const ERR_MAX_FORWARDS: i32 = 23; // 400 Max-Forwards not a number from 0 to 255
export const ERR_CONTENT_LENGTH: i32 = 24; // 400 malformed or conflicting Content-Length
export const ERR_BODY_SHORT: i32 = 25; // 400 body shorter than Content-Length
export const ERR_ROUTE: i32 = 26; // 400 malformed Route or Record-Route header
export const ERR_URI: i32 = 27; // 400 malformed URI

// ---- Header ids. Comment shape: `// <Canonical-Name> [compact letter] [list]`; `list` marks headers
// whose values are comma-separated lists (RFC 3261 7.3.1) and are split into the values table. ----
export const HDR_OTHER: i32 = 0; // (unknown)
export const HDR_ACCEPT: i32 = 1; // Accept list
export const HDR_ACCEPT_ENCODING: i32 = 2; // Accept-Encoding list
export const HDR_ACCEPT_LANGUAGE: i32 = 3; // Accept-Language list
export const HDR_ALERT_INFO: i32 = 4; // Alert-Info list
export const HDR_ALLOW: i32 = 5; // Allow list
export const HDR_AUTHENTICATION_INFO: i32 = 6; // Authentication-Info
export const HDR_AUTHORIZATION: i32 = 7; // Authorization
export const HDR_CALL_ID: i32 = 8; // Call-ID i
export const HDR_CALL_INFO: i32 = 9; // Call-Info list
export const HDR_CONTACT: i32 = 10; // Contact m list
export const HDR_CONTENT_DISPOSITION: i32 = 11; // Content-Disposition
export const HDR_CONTENT_ENCODING: i32 = 12; // Content-Encoding e list
export const HDR_CONTENT_LANGUAGE: i32 = 13; // Content-Language list
export const HDR_CONTENT_LENGTH: i32 = 14; // Content-Length l
export const HDR_CONTENT_TYPE: i32 = 15; // Content-Type c
export const HDR_CSEQ: i32 = 16; // CSeq
export const HDR_DATE: i32 = 17; // Date
export const HDR_ERROR_INFO: i32 = 18; // Error-Info list
export const HDR_EXPIRES: i32 = 19; // Expires
export const HDR_FROM: i32 = 20; // From f
export const HDR_IN_REPLY_TO: i32 = 21; // In-Reply-To list
export const HDR_MAX_FORWARDS: i32 = 22; // Max-Forwards
export const HDR_MIME_VERSION: i32 = 23; // MIME-Version
export const HDR_MIN_EXPIRES: i32 = 24; // Min-Expires
export const HDR_ORGANIZATION: i32 = 25; // Organization
export const HDR_PRIORITY: i32 = 26; // Priority
export const HDR_PROXY_AUTHENTICATE: i32 = 27; // Proxy-Authenticate
export const HDR_PROXY_AUTHORIZATION: i32 = 28; // Proxy-Authorization
export const HDR_PROXY_REQUIRE: i32 = 29; // Proxy-Require list
export const HDR_RECORD_ROUTE: i32 = 30; // Record-Route list
export const HDR_REPLY_TO: i32 = 31; // Reply-To
export const HDR_REQUIRE: i32 = 32; // Require list
export const HDR_RETRY_AFTER: i32 = 33; // Retry-After
export const HDR_ROUTE: i32 = 34; // Route list
export const HDR_SERVER: i32 = 35; // Server
export const HDR_SUBJECT: i32 = 36; // Subject s
export const HDR_SUPPORTED: i32 = 37; // Supported k list
export const HDR_TIMESTAMP: i32 = 38; // Timestamp
export const HDR_TO: i32 = 39; // To t
export const HDR_UNSUPPORTED: i32 = 40; // Unsupported list
export const HDR_USER_AGENT: i32 = 41; // User-Agent
export const HDR_VIA: i32 = 42; // Via v list
export const HDR_WARNING: i32 = 43; // Warning list
export const HDR_WWW_AUTHENTICATE: i32 = 44; // WWW-Authenticate
export const HDR_EVENT: i32 = 45; // Event o
export const HDR_ALLOW_EVENTS: i32 = 46; // Allow-Events u list
export const HDR_REFER_TO: i32 = 47; // Refer-To r
export const HDR_SESSION_EXPIRES: i32 = 48; // Session-Expires x
export const HDR_REFERRED_BY: i32 = 49; // Referred-By b
export const HDR_IDENTITY: i32 = 50; // Identity y
export const HDR_REQUEST_DISPOSITION: i32 = 51; // Request-Disposition d list
export const HDR_ACCEPT_CONTACT: i32 = 52; // Accept-Contact a list
export const HDR_REJECT_CONTACT: i32 = 53; // Reject-Contact j list
export const HDR_PATH: i32 = 54; // Path list
export const HDR_SERVICE_ROUTE: i32 = 55; // Service-Route list
export const HDR_MIN_SE: i32 = 56; // Min-SE
export const HDR_RSEQ: i32 = 57; // RSeq
export const HDR_RACK: i32 = 58; // RAck
export const HDR_P_ASSERTED_IDENTITY: i32 = 59; // P-Asserted-Identity list
export const HDR_PRIVACY: i32 = 60; // Privacy
export const HDR_REASON: i32 = 61; // Reason list
export const HDR_SUBSCRIPTION_STATE: i32 = 62; // Subscription-State
export const HDR_REPLACES: i32 = 63; // Replaces
export const HDR_COUNT: i32 = 64; // number of header ids
