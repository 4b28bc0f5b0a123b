// The list in service, on the main thread, and the one way it changes: a new list is read and
// checked completely (the file's text parsed in the control pool, off the data path), given table
// entries by the roster (a destination present before and after keeps its entry, so its state,
// probing count, active calls, latency and overload report), and only then handed to every
// thread. Anything refused leaves the old list in service and says why. Reloads come from
// dispatcher.reload, SIGHUP and, with SIPLB_WATCH_LIST, a change of the file; dispatcher.add and
// dispatcher.remove change the list in service the same way (and, as in Kamailio, the next
// reload from the file replaces what they did). Host and SRV names are looked up again every
// SIPLB_DS_DNS_INTERVAL: a changed answer goes through the same path (refreshDns), not counted as
// a reload, so a destination whose address moved keeps its entry.
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { basename, dirname } from 'node:path';
import type { SiplbConfig } from '../config/types.js';
import { SiplbReloadError } from '../errors.js';
import { makeDestinationRecord, type DestinationRecord, type ParsedList } from '../dispatch/list-file.js';
import { Roster, type RosterPlan } from '../dispatch/roster.js';
import { recordIds } from '../dispatch/sets.js';
import type { DestTable } from '../shared/dest-table.js';
import { VACANT_SLOT } from '../shared/dest-state.js';
import { checkSockets, type ListCheckConfig } from './check.js';
import { HostResolver } from './resolve.js';
import { commandOrigin, fileOrigin, type SourceOrigin } from '../sources/origin.js';
import { readSqlDestinations } from '../sources/sql.js';
import { sourceOrigin } from '../sources/index.js';
import { runTask } from '../pool/control-pool.js';

export interface ListLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Where a new list goes once its entries are set: every thread that selects or probes, and the main thread's own users. */
export interface ListSinks {
  /** Dispatch workers (or the inline core) and the probe worker; resolves when they all took it. */
  threads(records: readonly DestinationRecord[]): Promise<void>;
  /** Main-thread users (events watcher, flood exemptions): before freed entries are vacated. */
  local(records: readonly DestinationRecord[]): void;
  /**
   * The other files a reload reads (the routing rules): read and checked before the list changes
   * (a throw refuses the whole reload), then put in service by the function returned.
   */
  prepare?(): Promise<() => void>;
}

export interface ReloadOutcome {
  destinations: number;
  kept: number;
  /** Kept, but their line gives other flags now: they start from those. */
  reflagged: number;
  added: number;
  removed: number;
  ms: number;
}

export type ReloadTrigger = 'rpc' | 'sighup' | 'watch' | 'add' | 'remove' | 'dns';

/** A file save often comes as several events (truncate, write, rename): one reload for them all. */
const WATCH_SETTLE_MS = 200;

export class ListService {
  readonly #roster: Roster;
  /** Operations one at a time: two reloads must not interleave their plans. */
  #queue: Promise<unknown> = Promise.resolve();
  /** performance.now() of the last reload from the source (SIPLB_RELOAD_DELTA counts from it). */
  #lastReload = -Infinity;
  #deferred: NodeJS.Timeout | undefined;
  #watcher: FSWatcher | undefined;
  readonly #resolver: HostResolver;
  /** The list in service as read (names not resolved, SRV names not expanded): what refreshDns looks up again. */
  #source: readonly DestinationRecord[] = [];
  /** Counts changes of #source: a DNS answer for an older list is not put in service. */
  #sourceGen = 0;
  #dnsTimer: NodeJS.Timeout | undefined;
  readonly counters = { reloads: 0, failed: 0, dnsUpdates: 0 };

  constructor(
    private readonly config: SiplbConfig,
    private readonly states: DestTable,
    private readonly sinks: ListSinks,
    private readonly log: ListLog,
    /** The list's part of the table (its first entries; registration slots follow). */
    listSlots: number,
  ) {
    this.#roster = new Roster(listSlots);
    this.#resolver = new HostResolver(config.dnsServers, log);
  }

  /** The list in service, every record with its table entry. */
  get records(): readonly DestinationRecord[] {
    return this.#roster.records;
  }

  /**
   * The first list, at start (read and checked by the caller, before any thread exists): names
   * resolved, then entries in table order.
   */
  async start(source: readonly DestinationRecord[], origin: Pick<SourceOrigin, 'where'>): Promise<readonly DestinationRecord[]> {
    const records = await this.#resolve(source, origin);
    const plan = this.#plan(records);
    this.#setSource(source);
    this.#roster.commit(plan);
    this.#lastReload = performance.now();
    return plan.records;
  }

  /**
   * dispatcher.reload: reads the source again and puts it in service. Refused (the old list stays)
   * when the source cannot be read or checked, or sooner than SIPLB_RELOAD_DELTA after the last.
   */
  reload(trigger: ReloadTrigger = 'rpc'): Promise<ReloadOutcome> {
    return this.#serial(async () => {
      const since = performance.now() - this.#lastReload;
      const delta = this.config.reloadDelta * 1000;
      if (since < delta) {
        const wait = Math.ceil((delta - since) / 1000);
        throw new SiplbReloadError(`reload refused: the last one was ${(since / 1000).toFixed(1)} s ago and SIPLB_RELOAD_DELTA is ${this.config.reloadDelta} s; try again in ${wait} s`);
      }
      this.#lastReload = performance.now();
      const started = performance.now();
      try {
        const { parsed, origin } = await this.#readSource();
        for (const w of parsed.warnings) this.log.warn(w);
        const records = await this.#resolve(parsed.destinations, origin);
        // the other files a reload reads (SIPLB_ROUTES), checked before anything changes
        const extra = await this.sinks.prepare?.();
        const outcome = await this.#apply(records, trigger, started);
        this.#setSource(parsed.destinations);
        extra?.();
        return outcome;
      } catch (err) {
        this.counters.failed++;
        const message = err instanceof Error ? err.message : String(err);
        this.log.error('reload failed; the list in service stays', { trigger, reason: message });
        throw err instanceof SiplbReloadError ? err : new SiplbReloadError(message, { cause: err });
      }
    });
  }

  /**
   * SIGHUP and file changes: a reload now, or when SIPLB_RELOAD_DELTA allows; several requests
   * in the meantime make one reload. Failures are logged (by reload()), never thrown.
   */
  requestReload(trigger: 'sighup' | 'watch'): void {
    if (this.#deferred !== undefined) return;
    const wait = Math.max(trigger === 'watch' ? WATCH_SETTLE_MS : 0, this.#lastReload + this.config.reloadDelta * 1000 - performance.now());
    this.#deferred = setTimeout(() => {
      this.#deferred = undefined;
      this.reload(trigger).catch(() => undefined);
    }, wait);
    this.#deferred.unref();
  }

  /** dispatcher.add: one destination more in the list in service, checked as a list line is. */
  add(cols: { setId: string; destination: string; flags?: string; priority?: string; attrs?: string }): Promise<ReloadOutcome> {
    return this.#serial(async () => {
      const started = performance.now();
      const r = makeDestinationRecord(cols, 0);
      if (!r.ok) throw new SiplbReloadError(`dispatcher.add: ${r.reason}`);
      let checked: ParsedList;
      try {
        checked = checkSockets({ destinations: [r.value], warnings: [] }, { ...this.#checkConfig(), dsLoadMode: 1 }, commandOrigin('dispatcher.add'));
      } catch (err) {
        throw new SiplbReloadError((err as Error).message.replace(/^SIPLB_LIST_FILE: /, ''), { cause: err });
      }
      const added = await this.#resolve(checked.destinations, commandOrigin('dispatcher.add'));
      const outcome = await this.#apply([...this.#roster.records, ...added], 'add', started);
      this.#setSource([...this.#source, ...checked.destinations]);
      return outcome;
    });
  }

  /**
   * dispatcher.remove: every record of `uri` in set `setId` leaves the list in service (Kamailio
   * compares the URI as text; so does this, without case).
   */
  remove(setId: number, uri: string): Promise<ReloadOutcome> {
    return this.#serial(async () => {
      const started = performance.now();
      const want = uri.toLowerCase();
      const gone = (r: DestinationRecord): boolean => r.setId === setId && r.uri.toLowerCase() === want;
      if (!this.#roster.records.some(gone)) throw new SiplbReloadError(`dispatcher.remove: no destination ${uri} in set ${setId}`);
      const outcome = await this.#apply(
        this.#roster.records.filter((r) => !gone(r)),
        'remove',
        started,
      );
      this.#setSource(this.#source.filter((r) => !gone(r)));
      return outcome;
    });
  }

  /**
   * The list's names looked up again; a changed answer (an address, an SRV set's targets) is put
   * in service as a list change (destinations that stay keep their entries), serialized with the
   * others but not a reload: SIPLB_RELOAD_DELTA does not count it. Resolves to undefined when
   * nothing changed, or when the list itself changed during the lookups (its own answers are newer).
   */
  async refreshDns(): Promise<ReloadOutcome | undefined> {
    const gen = this.#sourceGen;
    const source = this.#source;
    if (source.every((r) => isIP(r.address) !== 0)) return undefined;
    const started = performance.now();
    const records = await this.#resolve(source, sourceOrigin(this.config));
    return this.#serial(async () => {
      if (gen !== this.#sourceGen || sameAnswers(records, this.#roster.records)) return undefined;
      return this.#apply(records, 'dns', started);
    });
  }

  /** SIPLB_DS_DNS_INTERVAL > 0: refreshDns that often, the next one timed from the end of the last. */
  refreshDnsEvery(seconds: number): void {
    if (seconds <= 0) return;
    const tick = (): void => {
      this.#dnsTimer = setTimeout(() => {
        this.refreshDns()
          .catch((err: unknown) => this.log.warn('DNS refresh failed; the list in service stays', { reason: err instanceof Error ? err.message : String(err) }))
          .finally(tick);
      }, seconds * 1000);
      this.#dnsTimer.unref();
    };
    tick();
  }

  /** Watches the list file (SIPLB_WATCH_LIST): its directory, so a file replaced by a rename is seen too. */
  watch(): void {
    const name = basename(this.config.listFile);
    this.#watcher = watch(dirname(this.config.listFile), { persistent: false }, (_event, file) => {
      if (file === null || file === name) this.requestReload('watch');
    });
    this.#watcher.on('error', (err) => this.log.warn('SIPLB_WATCH_LIST: the list file cannot be watched any more; reload with SIGHUP or dispatcher.reload', { error: String(err) }));
  }

  async close(): Promise<void> {
    clearTimeout(this.#deferred);
    clearTimeout(this.#dnsTimer);
    this.#dnsTimer = undefined;
    this.#watcher?.close();
    await this.#queue.catch(() => undefined);
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(op, op);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  #resolve(records: readonly DestinationRecord[], origin: Pick<SourceOrigin, 'where'>): Promise<DestinationRecord[]> {
    return this.#resolver.resolve(records, (r) => (r.line > 0 ? origin.where(r.line) : r.uri));
  }

  #setSource(records: readonly DestinationRecord[]): void {
    this.#source = records;
    this.#sourceGen++;
  }

  #checkConfig(): ListCheckConfig {
    return { listFile: this.config.listFile, dsLoadMode: this.config.dsLoadMode, listen: this.config.listen };
  }

  /**
   * The source read and checked: the dispatcher table (SIPLB_DB_URL; its rows are checked as they
   * are read, a few per millisecond), or the list file, whose text is parsed in the control pool
   * (src/pool/), off the main thread.
   */
  async #readSource(): Promise<{ parsed: ParsedList; origin: SourceOrigin }> {
    if (this.config.dbUrl !== '') {
      const origin = sourceOrigin(this.config);
      const rows = await readSqlDestinations(this.config);
      return { parsed: checkSockets(rows, this.#checkConfig(), origin), origin };
    }
    let text: string;
    try {
      text = await readFile(this.config.listFile, 'utf8');
    } catch (err) {
      throw new SiplbReloadError(`cannot read SIPLB_LIST_FILE ${this.config.listFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
    }
    const answer = await runTask('parseList', { text, config: this.#checkConfig() });
    if (!answer.ok) throw new SiplbReloadError(answer.message);
    return { parsed: answer.list, origin: fileOrigin(this.config.listFile) };
  }

  #plan(records: readonly DestinationRecord[]): RosterPlan {
    const plan = this.#roster.plan(records);
    if ('error' in plan) throw new SiplbReloadError(plan.error);
    return plan;
  }

  /**
   * Puts `records` in service. Order matters: new entries are set before any thread can select
   * them; main-thread users take the list before freed entries are vacated (so the events
   * watcher reports no removed destination as down); the roster commits last.
   */
  async #apply(records: readonly DestinationRecord[], trigger: ReloadTrigger, started: number): Promise<ReloadOutcome> {
    const plan = this.#plan(records);
    const flagsAt = new Map(plan.records.map((r) => [r.slot!, r.flags]));
    for (const slot of plan.added) this.states.occupy(slot, flagsAt.get(slot)!);
    for (const slot of plan.reflagged) this.states.setListFlags(slot, flagsAt.get(slot)!);
    this.sinks.local(plan.records);
    await this.sinks.threads(plan.records);
    for (const slot of plan.removed) this.states.reset(slot, VACANT_SLOT);
    this.#roster.commit(plan);
    if (trigger === 'dns') this.counters.dnsUpdates++;
    else this.counters.reloads++;
    const outcome: ReloadOutcome = {
      destinations: plan.records.length,
      kept: plan.kept.length,
      reflagged: plan.reflagged.length,
      added: plan.added.length,
      removed: plan.removed.length,
      ms: Math.round((performance.now() - started) * 10) / 10,
    };
    this.log.info(trigger === 'dns' ? 'list names resolved to new addresses' : 'list reloaded', { trigger, ...outcome });
    return outcome;
  }
}

/** Same destinations with the same addresses, ports, flags, priorities and weights: nothing to put in service. */
function sameAnswers(a: readonly DestinationRecord[], b: readonly DestinationRecord[]): boolean {
  if (a.length !== b.length) return false;
  const key = (rs: readonly DestinationRecord[]): string[] => {
    const ids = recordIds(rs);
    return rs.map((r, i) => `${ids[i]}|${r.address}|${r.port}|${r.flags}|${r.priority}|${r.attrs.weight}|${r.attrs.rweight}`);
  };
  const ka = key(a);
  const kb = key(b);
  return ka.every((k, i) => k === kb[i]);
}
