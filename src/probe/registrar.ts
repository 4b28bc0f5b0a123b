// Registration-based destinations: media servers that come and go REGISTER with siplb under an
// address-of-record mapped to a set (SIPLB_REGISTER_SETS, e.g. 10=media@lb.example.com), and each
// unexpired binding is a destination of that set, probed and balanced like any other. A registrar
// in the sense of RFC 3261 §10.3, reduced to what a destination needs: the source must be allowed
// (SIPLB_REGISTER_ALLOW, 403 otherwise: there is no digest authentication), a Contact's host must
// be an IP address (it is where calls go), its q gives the priority (q * 1000; no q is 1.0), an
// expiry below the minimum is refused with 423 and Min-Expires, and the 200 lists every binding.
// It runs in the probe worker, the one writer of the binding table; expiry is its timer's job.
import { isIP } from 'node:net';
import { parseDestinationUri } from '../dispatch/dest-uri.js';
import type { SipMessage } from '../parser/index.js';
import type { Binding, BindingTable } from '../shared/binding-table.js';
import { ADDRESS_BYTES, URI_BYTES } from '../shared/binding-table.js';
import { aorOf } from '../sip/aor.js';

export interface RegistrarConfig {
  /** Lower-case `user@host` of each address-of-record, to its set id. */
  readonly sets: ReadonlyMap<string, number>;
  readonly allow: (address: string) => boolean;
  readonly minExpires: number;
  readonly maxExpires: number;
  readonly defaultExpires: number;
}

/** What a REGISTER asks for, or the response that refuses it. */
export type RegisterDecision =
  | { readonly kind: 'refuse'; readonly status: number; readonly reason: string; readonly headers: readonly string[] }
  | { readonly kind: 'apply'; readonly setId: number; readonly changes: readonly ContactChange[]; readonly removeAll: boolean };

export interface ContactChange {
  readonly uri: string;
  readonly address: string;
  readonly port: number;
  /** 0 removes the binding. */
  readonly expires: number;
  readonly priority: number;
}

const refuse = (status: number, reason: string, headers: string[] = []): RegisterDecision => ({ kind: 'refuse', status, reason, headers });

/** One Contact value: `<uri>;params` or `uri;params`, or `*`. */
function parseContact(value: string): { uri: string; params: Map<string, string> } | '*' | undefined {
  const v = value.trim();
  if (v === '*') return '*';
  const m = /^(?:"(?:[^"\\]|\\.)*"\s*|[^<"]*)<([^>]+)>(.*)$/.exec(v) ?? /^([^;<>\s]+)(.*)$/.exec(v);
  if (!m) return undefined;
  const params = new Map<string, string>();
  for (const p of m[2]!.split(';')) {
    const [k, val] = p.split('=', 2).map((s) => s.trim());
    if (k) params.set(k.toLowerCase(), val ?? '');
  }
  return { uri: m[1]!.trim(), params };
}

/** Decides what a REGISTER for one of our addresses-of-record does (RFC 3261 §10.3 steps 2-7). */
export function decide(m: SipMessage, source: string, cfg: RegistrarConfig): RegisterDecision {
  const aor = aorOf(m);
  const setId = aor === undefined ? undefined : cfg.sets.get(aor);
  if (setId === undefined) return refuse(404, 'Not Found');
  if (!cfg.allow(source)) return refuse(403, 'Forbidden');
  const header = m.header('Expires');
  const headerExpires = header !== undefined && /^\s*[0-9]+\s*$/.test(header) ? Number(header) : undefined;
  const contacts = m.headers('Contact').map(parseContact);
  if (contacts.some((c) => c === undefined)) return refuse(400, 'Bad Contact');
  if (contacts.includes('*')) {
    // RFC 3261 §10.3 step 6: "*" only alone, and only with Expires: 0
    if (contacts.length !== 1 || headerExpires !== 0) return refuse(400, 'Invalid Wildcard Contact');
    return { kind: 'apply', setId, changes: [], removeAll: true };
  }
  const changes: ContactChange[] = [];
  for (const c of contacts as Array<{ uri: string; params: Map<string, string> }>) {
    const parsed = parseDestinationUri(c.uri);
    if (!parsed.ok || !isIP(parsed.value.address)) return refuse(400, 'Contact Host Must Be An IP Address');
    if (parsed.value.transport !== 'udp') return refuse(400, 'Contact Transport Must Be UDP');
    if (c.uri.length > URI_BYTES || parsed.value.address.length > ADDRESS_BYTES) return refuse(400, 'Contact Too Long');
    const raw = c.params.get('expires');
    const asked = raw !== undefined && /^[0-9]+$/.test(raw) ? Number(raw) : (headerExpires ?? cfg.defaultExpires);
    if (asked > 0 && asked < cfg.minExpires) return refuse(423, 'Interval Too Brief', [`Min-Expires: ${cfg.minExpires}`]);
    const q = c.params.get('q');
    const qv = q === undefined ? 1 : Number(q);
    if (!Number.isFinite(qv) || qv < 0 || qv > 1) return refuse(400, 'Bad q Value');
    changes.push({ uri: c.uri, address: parsed.value.address, port: parsed.value.port, expires: Math.min(asked, cfg.maxExpires), priority: Math.round(qv * 1000) });
  }
  return { kind: 'apply', setId, changes, removeAll: false };
}

/** What applying a decision did to the table: slots that got a binding, slots freed. */
export interface Applied {
  readonly added: number[];
  readonly updated: number[];
  readonly removed: number[];
  /** Bindings that found no free slot (the caller answers 503). */
  readonly full: boolean;
}

/**
 * Writes a decision into the binding table at unix time `now` (s). Checked for room first, so a
 * REGISTER is applied whole or not at all (RFC 3261 §10.3: the changes of one request are atomic).
 */
export function apply(table: BindingTable, d: Extract<RegisterDecision, { kind: 'apply' }>, now: number): Applied {
  const live = table.all().filter((b) => b.setId === d.setId);
  const added: number[] = [];
  const updated: number[] = [];
  const removed: number[] = [];
  if (d.removeAll) {
    for (const b of live) {
      table.write(b.slot, undefined);
      removed.push(b.slot);
    }
    return { added, updated, removed, full: false };
  }
  const free = Array.from({ length: table.slots }, (_, k) => k).filter((k) => table.read(k) === undefined);
  const needed = d.changes.filter((c) => c.expires > 0 && !live.some((b) => b.uri === c.uri)).length;
  if (needed > free.length) return { added, updated, removed, full: true };
  for (const c of d.changes) {
    const existing = live.find((b) => b.uri === c.uri);
    if (c.expires === 0) {
      if (existing) {
        table.write(existing.slot, undefined);
        removed.push(existing.slot);
      }
      continue;
    }
    const binding = { setId: d.setId, uri: c.uri, address: c.address, port: c.port, priority: c.priority, expires: now + c.expires };
    if (existing) {
      table.write(existing.slot, binding);
      updated.push(existing.slot);
    } else {
      const k = free.shift()!;
      table.write(k, binding);
      added.push(k);
    }
  }
  return { added, updated, removed, full: false };
}

/** Frees every binding expired at `now` (s); returns their slots. */
export function expire(table: BindingTable, now: number): number[] {
  const gone: number[] = [];
  for (const b of table.all()) {
    if (b.expires <= now) {
      table.write(b.slot, undefined);
      gone.push(b.slot);
    }
  }
  return gone;
}

/** The Contact lines of a 200 to a REGISTER: every binding of the set, with its time left. */
export function contactLines(bindings: readonly Binding[], setId: number, now: number): string[] {
  return bindings
    .filter((b) => b.setId === setId)
    .map((b) => `Contact: <${b.uri}>;expires=${Math.max(0, b.expires - now)};q=${(b.priority / 1000).toFixed(3).replace(/\.?0+$/, '') || '0'}`);
}
