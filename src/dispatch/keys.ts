// What the hash algorithms hash, taken from a parsed message the way Kamailio's ds_hash_* functions
// take it (dispatch.c), so that the same message gives the same key and, through dsHash, the same
// destination index.
import { SiplbConfigError } from '../errors.js';
import type { SipMessage, SipUri } from '../parser/index.js';

/**
 * The selection input. `key` is what a hash algorithm hashes; undefined when the message has
 * none (then algorithm 5 falls back to round-robin and 0-3 and 7 select nothing, as Kamailio).
 * For algorithms 1-3 the key is `user@host[:port]` and select() hashes user and `host[:port]` as
 * Kamailio's two strings; with module flag 1 (user only) it is the user alone, without '@'.
 */
export interface SelectInput {
  readonly key: string | undefined;
  /** The request is an INVITE: only those are balanced by call load (algorithm 10). */
  readonly invite?: boolean;
}

export interface KeyOptions {
  /** Module flag 1: algorithms 1-3 hash only the URI user. */
  userOnly: boolean;
  /** Algorithm 7 (SIPLB_HASH_TEMPLATE), compiled once at start. */
  template?: CompiledTemplate;
  sourceIp: string;
  sourcePort: number;
}

/**
 * get_uri_hash_keys: user, then host plus ":port" only when a port is written and differs from
 * the scheme's default (5061 for sips). No host (tel: and other schemes): no key.
 */
export function uriKey(uri: SipUri | undefined, userOnly: boolean): string | undefined {
  if (uri?.host === undefined) return undefined;
  const user = uri.user ?? '';
  if (userOnly) return user;
  const defaultPort = uri.schemeKind === 'sips' ? 5061 : 5060;
  const port = uri.port !== 0 && uri.port !== defaultPort ? `:${uri.port}` : '';
  return `${user}@${uri.host}${port}`;
}

export function hashKey(alg: number, msg: SipMessage, opts: KeyOptions): string | undefined {
  switch (alg) {
    case 0:
      return msg.callId.trim();
    case 1:
      return uriKey(msg.from.uri, opts.userOnly);
    case 2:
      return uriKey(msg.to.uri, opts.userOnly);
    case 3:
      return uriKey(msg.requestUri, opts.userOnly);
    case 5:
      return digestUsername(msg);
    case 7: {
      if (!opts.template) throw new SiplbConfigError('SIPLB_HASH_TEMPLATE', 'algorithm 7 needs a template');
      // ds_hash_pvar trims the printed template and refuses an empty one.
      const text = renderTemplate(opts.template, msg, opts).trim();
      return text === '' ? undefined : text;
    }
    default:
      return undefined;
  }
}

// ---- Algorithm 5 and $au: the digest username, as ds_hash_authusername finds it: the first
// Proxy-Authorization header that parses as Digest credentials, else the first Authorization one;
// the user part of `username` (before '@', Kamailio's parse_username), trimmed.

/** Splits auth-params at commas outside double quotes (RFC 3261 §25.1 quoted-string, with \-escapes). */
function splitParams(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

/** The raw `username` of Digest credentials, or undefined when this is not a Digest value with one. */
export function digestUsernameOf(credentials: string): string | undefined {
  const m = /^\s*digest\s+/i.exec(credentials);
  if (!m) return undefined;
  for (const param of splitParams(credentials.slice(m[0].length))) {
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'username') continue;
    let value = param.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    }
    return value;
  }
  return undefined;
}

/** User part of the digest username, or undefined when the request carries no usable credentials. */
export function digestUsername(msg: SipMessage): string | undefined {
  for (const name of ['Proxy-Authorization', 'Authorization']) {
    const value = msg.header(name);
    if (value === undefined) continue;
    const username = digestUsernameOf(value);
    if (username === undefined) continue; // not Digest: Kamailio's parse fails and it looks further
    const at = username.indexOf('@');
    const user = (at < 0 ? username : username.slice(0, at)).trim();
    return user === '' ? undefined : user;
  }
  return undefined;
}

// ---- Algorithm 7 templates (Kamailio's hash_pvar) ----

type Ctx = { sourceIp: string; sourcePort: number };
type Field = (msg: SipMessage, ctx: Ctx, arg: string | undefined) => string | undefined;

const FIELDS: Readonly<Record<string, Field>> = {
  ci: (m) => m.callId,
  fu: (m) => m.from.uri.raw,
  fU: (m) => m.from.uri.user,
  fd: (m) => m.from.uri.host,
  tu: (m) => m.to.uri.raw,
  tU: (m) => m.to.uri.user,
  td: (m) => m.to.uri.host,
  ru: (m) => m.requestUri?.raw,
  rU: (m) => m.requestUri?.user,
  rd: (m) => m.requestUri?.host,
  si: (_m, c) => c.sourceIp,
  sp: (_m, c) => String(c.sourcePort),
  au: (m) => digestUsername(m),
  hdr: (m, _c, arg) => m.header(arg!),
};
/** The field names a template may use, as listed in error messages. */
export const TEMPLATE_FIELDS = ['$ci', '$fu', '$fU', '$fd', '$tu', '$tU', '$td', '$ru', '$rU', '$rd', '$si', '$sp', '$au', '$hdr(Name)'];

type Part = string | { readonly field: Field; readonly arg: string | undefined };

export interface CompiledTemplate {
  readonly source: string;
  readonly parts: readonly Part[];
}

// Same token shape as src/config/parse.ts accepts: $name or $name(arg). Names are case-sensitive,
// as in Kamailio ($fu is the From URI, $fU its user).
const TOKEN = /\$([A-Za-z][A-Za-z0-9_]*)(?:\(([^()\s$]+)\))?/g;

export function compileTemplate(t: string): CompiledTemplate {
  const parts: Part[] = [];
  const bad = (why: string): never => {
    throw new SiplbConfigError('SIPLB_HASH_TEMPLATE', `${why} in "${t}"; supported: ${TEMPLATE_FIELDS.join(' ')} and literal text`);
  };
  let last = 0;
  for (const m of t.matchAll(TOKEN)) {
    const literal = t.slice(last, m.index);
    if (literal.includes('$')) bad('a "$" that starts no field');
    if (literal !== '') parts.push(literal);
    const [, name, arg] = m as unknown as [string, string, string | undefined];
    const field = Object.hasOwn(FIELDS, name) ? FIELDS[name] : undefined;
    if (!field) bad(`unknown field $${name}`);
    if ((name === 'hdr') !== (arg !== undefined)) bad(name === 'hdr' ? '$hdr needs a header name: $hdr(X-Name)' : `$${name} takes no argument`);
    parts.push({ field: field!, arg });
    last = m.index + m[0].length;
  }
  const tail = t.slice(last);
  if (tail.includes('$')) bad('a "$" that starts no field');
  if (tail !== '') parts.push(tail);
  if (!parts.some((p) => typeof p !== 'string')) bad('no field');
  return Object.freeze({ source: t, parts: Object.freeze(parts) });
}

/** Prints a template for a message; an absent value prints as "<null>", as Kamailio's pv_printf does. */
export function renderTemplate(t: CompiledTemplate, msg: SipMessage, ctx: Ctx): string {
  let out = '';
  for (const p of t.parts) out += typeof p === 'string' ? p : (p.field(msg, ctx, p.arg) ?? '<null>');
  return out;
}
