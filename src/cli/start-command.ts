// `siplb start`: the proxy on the configuration in the environment. Runs until SIGTERM/SIGINT,
// which drain it: new INVITEs get 503, transactions in flight get SIPLB_DRAIN_TIMEOUT to finish,
// then the counters and the latency distribution are printed and the process exits 0.
// `kill -USR2` prints the same report without stopping; SIGHUP reloads the destination list.
import { pino } from 'pino';
import { loadConfig } from '../config/load.js';
import type { SiplbConfig } from '../config/types.js';
import { startServer, type Log, type Server } from '../server.js';
import { formatStats } from './format-stats.js';

export { formatStats };
import { EXIT_OK, type CliIo } from './io.js';
import { installTestHooks } from './test-hooks.js';

export const START_USAGE = 'start';

/** A pino logger on stderr, as the control-plane log (never on the datagram path). */
export function makeLog(config: SiplbConfig): Log {
  const logger = pino({ level: config.logLevel, base: { name: 'siplb' } }, pino.destination(2));
  return {
    info: (msg, fields) => logger.info(fields ?? {}, msg),
    warn: (msg, fields) => logger.warn(fields ?? {}, msg),
    error: (msg, fields) => logger.error(fields ?? {}, msg),
  };
}

/** Starts the proxy and wires the signals; resolves with the exit code once it has stopped. */
export async function startCommand(io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const config = loadConfig(env);
  const log = makeLog(config);
  const server = await startServer(config, log);
  const removeHooks = installTestHooks(env, server, log);
  return runUntilSignal(server, config, io, log, () => Promise.resolve(removeHooks()));
}

export function runUntilSignal(server: Server, config: SiplbConfig, io: CliIo, log: Log, extra: () => Promise<void> = async () => {}): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const report = (): void => {
      void server.stats().then((s) => io.stdout(formatStats(s)));
    };
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log.info('draining', { signal, timeoutMs: config.drainTimeout });
      void (async () => {
        await server.drain(config.drainTimeout);
        io.stdout(formatStats(await server.stats()));
        await server.close();
        await extra();
        process.off('SIGUSR2', report);
        process.off('SIGHUP', onHup);
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
        resolve(EXIT_OK);
      })();
    };
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    // Node's default for SIGHUP is to exit; operators send it expecting a reload (Kamailio, nginx):
    // the destination list is read again (src/list/service.ts), or kept when it is refused.
    const onHup = (): void => {
      log.info('SIGHUP: reloading the destination list', { signal: 'SIGHUP' });
      server.list.requestReload('sighup');
    };
    process.on('SIGHUP', onHup);
    process.on('SIGUSR2', report);
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
}
