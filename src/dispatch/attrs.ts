// The attrs column: `name=value;...`, names case-insensitive. Typed fields follow Kamailio's
// ds_set_attrs (dispatch.c): weight/rweight outside 1..100 become 0 with a complaint, the last
// occurrence of a name wins, and the oc* overload-control values are clamped the same way.
// prefix= and strip= are siplb's own; anything else is kept as written for dispatcher.list.

export interface DestinationAttrs {
  /** The column as written, without a trailing ';' (Kamailio strips it too). */
  readonly raw: string;
  readonly duid: string | undefined;
  /** Algorithm 10: most active calls, 0 = no limit. */
  readonly maxload: number;
  /** Algorithm 9 share in percent, 1..100; 0 = none (also for out-of-range values). */
  readonly weight: number;
  /** Algorithm 11 relative weight, 1..100; 0 = none. */
  readonly rweight: number;
  /** cc=1: congestion control for algorithms 11/13. */
  readonly cc: number;
  /** Initial latency estimate in ms, when given. */
  readonly latency: number | undefined;
  readonly socket: string | undefined;
  readonly sockname: string | undefined;
  readonly pingSocket: string | undefined;
  readonly pingFrom: string | undefined;
  readonly obproxy: string | undefined;
  readonly ocmin: number;
  readonly ocmax: number;
  readonly ocrate: number;
  /** siplb: text put in front of the Request-URI user, after strip. */
  readonly prefix: string | undefined;
  /** siplb: leading characters removed from the Request-URI user. */
  readonly strip: number;
  /** Every other attribute, name as written, in order of appearance. */
  readonly extra: ReadonlyMap<string, string>;
}

export type AttrsResult = { ok: true; value: DestinationAttrs; warnings: string[] } | { ok: false; reason: string };

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export const EMPTY_ATTRS: DestinationAttrs = Object.freeze({
  raw: '', duid: undefined, maxload: 0, weight: 0, rweight: 0, cc: 0, latency: undefined,
  socket: undefined, sockname: undefined, pingSocket: undefined, pingFrom: undefined, obproxy: undefined,
  ocmin: 0, ocmax: 100, ocrate: 0, prefix: undefined, strip: 0, extra: new Map<string, string>(),
});

const STRINGS = { duid: 'duid', socket: 'socket', sockname: 'sockname', ping_socket: 'pingSocket', ping_from: 'pingFrom', obproxy: 'obproxy' } as const;
const COUNTS = { maxload: 'maxload', cc: 'cc', latency: 'latency', ocmin: 'ocmin', ocmax: 'ocmax', ocrate: 'ocrate', strip: 'strip' } as const;
// A URI user is unreserved / escaped / user-unreserved characters (RFC 3261 §25.1); ';' is our separator.
const USER_CHARS = /^[A-Za-z0-9\-_.!~*'()&=+$,?/%]+$/;

/** Splits at ';' outside double quotes; a quoted value may hold ';' (Kamailio parse_params). */
function splitParams(text: string): string[] | undefined {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (c === ';' && !quoted) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (quoted) return undefined;
  out.push(text.slice(start));
  return out;
}

export function parseAttrs(text: string): AttrsResult {
  const raw = text.endsWith(';') ? text.slice(0, -1) : text;
  const a: Mutable<DestinationAttrs> = { ...EMPTY_ATTRS, raw, extra: new Map<string, string>() };
  const extra = a.extra as Map<string, string>;
  const warnings: string[] = [];
  const params = splitParams(raw);
  if (!params) return { ok: false, reason: 'attrs: unterminated quoted value' };
  for (const param of params) {
    if (param.trim() === '') continue;
    const eq = param.indexOf('=');
    const name = (eq < 0 ? param : param.slice(0, eq)).trim();
    let value = eq < 0 ? '' : param.slice(eq + 1).trim();
    if (name === '') return { ok: false, reason: `attrs: "${param}" has no name` };
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    const key = name.toLowerCase();
    if (Object.hasOwn(STRINGS, key)) {
      a[STRINGS[key as keyof typeof STRINGS]] = value;
    } else if (Object.hasOwn(COUNTS, key)) {
      if (!/^[0-9]+$/.test(value)) return { ok: false, reason: `attrs: ${key}=${value} is not a non-negative integer` };
      a[COUNTS[key as keyof typeof COUNTS]] = Number(value);
    } else if (key === 'weight' || key === 'rweight') {
      if (!/^[+-]?[0-9]+$/.test(value)) return { ok: false, reason: `attrs: ${key}=${value} is not an integer` };
      const n = Number(value);
      const inRange = n >= 1 && n <= 100;
      a[key] = inRange ? n : 0;
      if (!inRange) warnings.push(`${key} ${n} not in 1-100 range: ${key === 'weight' ? 'algorithm 9 ignores this destination' : 'no relative weight'}`);
    } else if (key === 'prefix') {
      if (!USER_CHARS.test(value)) return { ok: false, reason: `attrs: prefix=${value} is not text allowed in a SIP URI user` };
      a.prefix = value;
    } else {
      extra.set(name, value);
    }
  }
  // Overload-control clamps, in ds_set_attrs order.
  if (a.ocmax > 100 || a.ocmax === 0) a.ocmax = 100;
  if (a.ocmin > 100 || a.ocmin > a.ocmax) a.ocmin = 0;
  if (a.ocrate > 100) a.ocrate = 0;
  if (a.ocrate < a.ocmin) a.ocrate = a.ocmin;
  if (a.ocrate > a.ocmax) a.ocrate = a.ocmax;
  return { ok: true, value: Object.freeze(a), warnings };
}
