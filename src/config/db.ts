// Parsers of the destination source variables (SIPLB_DB_URL, SIPLB_DB_TABLE, SIPLB_DB_COLUMNS, and
// SIPLB_DNS_SERVERS for the list's names). Pure like parse.ts: the URL is only checked for its form here; whether the server answers is
// found out when the table is read (src/sources/sql.ts).
import { isIP, isIPv4 } from 'node:net';
import { fail } from './parse.js';

/** The columns of Kamailio's dispatcher table (schema version 4) that siplb reads or writes. */
export const DB_COLUMN_KEYS = ['id', 'setid', 'destination', 'flags', 'priority', 'attrs', 'description'] as const;
export type DbColumnKey = (typeof DB_COLUMN_KEYS)[number];
export type DbColumns = Readonly<Record<DbColumnKey, string>>;

/** Kamailio's names: the module's setid_col, destination_col, ... defaults and kamctl's. */
export const KAMAILIO_COLUMNS: DbColumns = Object.freeze({
  id: 'id',
  setid: 'setid',
  destination: 'destination',
  flags: 'flags',
  priority: 'priority',
  attrs: 'attrs',
  description: 'description',
});

const URL_FORMS = 'postgres://user:password@host[:port]/database, postgresql://..., mysql://user:password@host[:port]/database, or empty (read SIPLB_LIST_FILE)';

/** SIPLB_DB_URL: empty (the list file is the source) or a PostgreSQL or MySQL/MariaDB URL with a host. */
export function dbUrl(raw: string, name: string): string {
  if (raw === '') return '';
  let url: URL | undefined;
  try {
    url = /\s/.test(raw) ? undefined : new URL(raw);
  } catch {
    // refused below, with the one message every variable uses
  }
  const ok = url !== undefined && ['postgres:', 'postgresql:', 'mysql:'].includes(url.protocol) && url.hostname !== '' && url.pathname.length > 1;
  // The password must not reach a log line or the README's error text: show the form only.
  if (!ok) fail(name, URL_FORMS, url === undefined ? raw.replace(/:[^:@/]*@/, ':***@') : redactUrl(raw));
  return raw;
}

/** The URL with its password replaced by ***, for every message that names the database. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password !== '') url.password = '***';
    return url.href;
  } catch {
    return raw.replace(/:[^:@/]*@/, ':***@');
  }
}

/** An SQL identifier siplb puts into queries, quoted: letters, digits, _ and $, not starting with a digit. */
const IDENT = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/** SIPLB_DB_TABLE: a table name, or schema.table. */
export function dbTable(raw: string, name: string): string {
  const parts = raw.split('.');
  if (parts.length > 2 || !parts.every((p) => IDENT.test(p))) fail(name, 'a table name or schema.table (letters, digits, _ and $, not starting with a digit)', raw);
  return raw;
}

/** SIPLB_DB_COLUMNS: `key=column,...` over DB_COLUMN_KEYS; keys not given keep Kamailio's name. */
export function dbColumns(raw: string, name: string): DbColumns {
  const accepts = `comma-separated key=column pairs with keys ${DB_COLUMN_KEYS.join(', ')} (e.g. setid=grp,destination=uri), or empty (Kamailio's names)`;
  const out: Record<DbColumnKey, string> = { ...KAMAILIO_COLUMNS };
  if (raw.trim() === '') return Object.freeze(out);
  const seen = new Set<string>();
  for (const pair of raw.split(',')) {
    const m = /^\s*([a-z]+)\s*=\s*(\S+)\s*$/.exec(pair);
    const key = m?.[1] as DbColumnKey | undefined;
    if (m === null || key === undefined || !DB_COLUMN_KEYS.includes(key) || !IDENT.test(m[2]!) || seen.has(key)) fail(name, accepts, raw);
    seen.add(key);
    out[key] = m[2]!;
  }
  return Object.freeze(out);
}

/**
 * SIPLB_DNS_SERVERS: comma-separated `ip`, `ip:port` or `[ipv6]:port` (the forms Node's
 * Resolver.setServers takes); empty = the system resolver.
 */
export function dnsServers(raw: string, name: string): readonly string[] {
  if (raw.trim() === '') return Object.freeze([]);
  const accepts = 'comma-separated DNS server addresses: ip, ip:port or [ipv6]:port';
  const out = raw.split(',').map((part) => {
    const s = part.trim();
    const m = /^\[([^\]]+)\](?::([0-9]{1,5}))?$/.exec(s) ?? /^([0-9.]+)(?::([0-9]{1,5}))?$/.exec(s);
    const plain = m === null && isIP(s) === 6 ? s : undefined;
    const host = plain ?? m?.[1];
    const port = m?.[2] === undefined ? 53 : Number(m[2]);
    const ok = host !== undefined && (m?.[0].startsWith('[') || plain !== undefined ? isIP(host) === 6 : isIPv4(host)) && port >= 1 && port <= 65535;
    if (!ok) fail(name, accepts, s);
    return s;
  });
  return Object.freeze(out);
}
