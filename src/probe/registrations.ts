// The registrar's side effects in the probe worker: a REGISTER decided by registrar.ts is written
// to the binding table, the binding's slot of the shared destination table gets a fresh state
// (active and probing: it registered, so it is alive, and keepalives follow it from now on), the
// prober pings it like any destination, and the answer goes back from the socket the REGISTER came
// in on. An expired or removed binding leaves its slot vacant (disabled), which dispatch workers
// see at their next selection.
import { randomBytes } from 'node:crypto';
import type { ListenAddress } from '../config/types.js';
import type { SipMessage } from '../parser/index.js';
import type { BindingTable } from '../shared/binding-table.js';
import { DS_PROBING, VACANT_SLOT } from '../shared/dest-state.js';
import type { DestTable } from '../shared/dest-table.js';
import { buildResponse } from '../sip/rewrite.js';
import type { ProbeTarget } from './keepalive.js';
import type { Prober } from './prober.js';
import { apply, contactLines, decide, expire, type RegistrarConfig } from './registrar.js';

export interface RegisterSource {
  readonly address: string;
  readonly port: number;
  readonly socket: number;
}

export interface RegistrationCounters {
  registered: number;
  refused: number;
  expired: number;
}

export class Registrations {
  readonly counters: RegistrationCounters = { registered: 0, refused: 0, expired: 0 };

  constructor(
    private readonly bindings: BindingTable,
    private readonly table: DestTable,
    private readonly prober: Prober,
    /** Table index of slot 0: the list's destination count. */
    private readonly base: number,
    private readonly cfg: RegistrarConfig,
    private readonly listen: readonly ListenAddress[],
    /** Per listening socket, its Via host:port. */
    private readonly sockets: readonly string[],
    private readonly pingFrom: string,
    private readonly server: string,
    private readonly send: (bytes: Uint8Array, address: string, port: number, socket: number) => void,
    /** Unix time, s. */
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    for (let k = 0; k < bindings.slots; k++) prober.setTarget(this.#vacant(k));
  }

  /** A REGISTER the main thread diverted here (its To is a registration address-of-record). */
  onRegister(bytes: Uint8Array, parserTable: Int32Array, m: SipMessage, src: RegisterSource): void {
    const d = decide(m, src.address, this.cfg);
    if (d.kind === 'refuse') {
      this.counters.refused++;
      return this.#answer(bytes, parserTable, src, d.status, d.reason, [...d.headers]);
    }
    const now = this.now();
    const done = apply(this.bindings, d, now);
    if (done.full) {
      this.counters.refused++;
      return this.#answer(bytes, parserTable, src, 503, 'Too Many Bindings', ['Retry-After: 60']);
    }
    for (const k of done.added) this.#occupy(k);
    for (const k of done.removed) this.#vacate(k);
    this.counters.registered++;
    this.#answer(bytes, parserTable, src, 200, 'OK', contactLines(this.bindings.all(), d.setId, now));
  }

  /** Frees expired bindings; the probe worker calls it every second. */
  expire(): void {
    for (const k of expire(this.bindings, this.now())) {
      this.counters.expired++;
      this.#vacate(k);
    }
  }

  #occupy(k: number): void {
    const b = this.bindings.read(k);
    if (b === undefined) return;
    const family = b.address.includes(':') ? 6 : 4;
    const socket = Math.max(0, this.listen.findIndex((l) => l.family === family));
    this.table.reset(this.base + k, DS_PROBING);
    this.prober.setTarget({ index: this.base + k, setId: b.setId, uri: b.uri, address: b.address, port: b.port, socket, via: this.sockets[socket]!, from: this.pingFrom, initialLatency: undefined });
  }

  #vacate(k: number): void {
    this.table.reset(this.base + k, VACANT_SLOT);
    this.prober.setTarget(this.#vacant(k));
  }

  #vacant(k: number): ProbeTarget {
    return { index: this.base + k, setId: -1, uri: '', address: '0.0.0.0', port: 0, socket: 0, via: this.sockets[0]!, from: this.pingFrom, initialLatency: undefined };
  }

  #answer(bytes: Uint8Array, parserTable: Int32Array, src: RegisterSource, status: number, reason: string, headers: string[]): void {
    const out = buildResponse(bytes, parserTable, status, reason, {
      toTag: randomBytes(4).toString('hex'),
      headers,
      ...(this.server === '' ? {} : { server: this.server }),
    });
    if (out) this.send(out, src.address, src.port, src.socket);
  }
}
