// Main thread: destination events from the watcher to their consumers. Every event gets one
// structured log line and a counter; with SIPLB_EVENT_WEBHOOK it is queued for the webhook, with
// SIPLB_EVENT_COMMAND for the command. server.ts starts this in startServer (inline and worker
// mode alike: the table is the same SharedArrayBuffer) and stops it in close().
import type { SiplbConfig } from '../config/types.js';
import type { DestinationRecord } from '../dispatch/list-file.js';
import type { Log } from '../server.js';
import type { DestTable } from '../shared/dest-table.js';
import type { BindingTable } from '../shared/binding-table.js';
import { CommandRunner } from './command.js';
import type { DestEvent } from './event.js';
import { DestWatcher, EVENT_POLL_MS } from './watch.js';
import { WebhookQueue } from './webhook.js';

/** What Server.stats() reports under `events`; all 0 until something goes down or up. */
export interface EventStats {
  dstDown: number;
  dstUp: number;
  webhookDelivered: number;
  webhookFailed: number;
  webhookDropped: number;
  /** Waiting or in delivery now: bounded by SIPLB_EVENT_QUEUE + 1. */
  webhookQueued: number;
  commandRun: number;
  commandFailed: number;
  commandDropped: number;
  /** Waiting or running now. */
  commandPending: number;
}

export interface DestEvents {
  stats(): EventStats;
  /** A reloaded list (see DestWatcher.reload for when to call it). */
  reload(records: readonly DestinationRecord[]): void;
  /** The last RECENT_EVENTS events, oldest first: the live page's timeline. */
  recent(): readonly DestEvent[];
  /** Stops the watcher; drops undelivered events, aborts a webhook request, kills running commands. */
  stop(): void;
}

export type EventsConfig = Pick<SiplbConfig, 'advertise' | 'eventWebhook' | 'eventCommand' | 'eventQueue' | 'eventRetries'>;

export interface EventsOptions {
  /** Test seams; production uses the defaults. */
  readonly pollMs?: number;
  readonly commandEnv?: NodeJS.ProcessEnv;
  /** Registration-based destinations, when there are any (watch.ts). */
  readonly bindings?: BindingTable;
}

/** Events kept for the timeline of the live page and the admin API (a few KB). */
export const RECENT_EVENTS = 200;

export function startEvents(config: EventsConfig, records: readonly DestinationRecord[], table: DestTable, log: Log, opts: EventsOptions = {}): DestEvents {
  const counts = { dstDown: 0, dstUp: 0 };
  const webhook = config.eventWebhook === '' ? undefined : new WebhookQueue({ url: config.eventWebhook, capacity: config.eventQueue, retries: config.eventRetries, log });
  const command =
    config.eventCommand === ''
      ? undefined
      : new CommandRunner({ command: config.eventCommand, capacity: config.eventQueue, log, ...(opts.commandEnv ? { env: opts.commandEnv } : {}) });

  const recent: DestEvent[] = [];
  const onEvent = (e: DestEvent): void => {
    recent.push(e);
    if (recent.length > RECENT_EVENTS) recent.shift();
    if (e.event === 'dst-down') {
      counts.dstDown++;
      log.warn('destination down', { ...e });
    } else {
      counts.dstUp++;
      log.info('destination up', { ...e });
    }
    webhook?.push(e);
    command?.push(e);
  };
  const watcher = new DestWatcher({
    records,
    table,
    node: `${config.advertise.host}:${config.advertise.port}`,
    onEvent,
    onError: (err, e) => log.error('destination event not handled', { error: String(err), event: e.event, id: e.id }),
    pollMs: opts.pollMs ?? EVENT_POLL_MS,
    ...(opts.bindings ? { bindings: opts.bindings } : {}),
  }).start();

  if (webhook || command) {
    // The webhook's origin only: a path or user:password in the URL may be a secret.
    log.info('destination events', { ...(webhook ? { webhook: new URL(config.eventWebhook).origin } : {}), command: command !== undefined, queue: config.eventQueue });
  }

  return {
    stats: () => ({
      ...counts,
      webhookDelivered: webhook?.counters.delivered ?? 0,
      webhookFailed: webhook?.counters.failed ?? 0,
      webhookDropped: webhook?.counters.dropped ?? 0,
      webhookQueued: webhook?.queued ?? 0,
      commandRun: command?.counters.run ?? 0,
      commandFailed: command?.counters.failed ?? 0,
      commandDropped: command?.counters.dropped ?? 0,
      commandPending: command?.pending ?? 0,
    }),
    reload: (next) => watcher.reload(next),
    recent: () => recent.slice(),
    stop() {
      watcher.stop();
      webhook?.stop();
      command?.stop();
    },
  };
}
