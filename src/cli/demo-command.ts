// `siplb demo`: the proxy on its embedded defaults plus the two demo media servers the shipped
// dispatcher.list points at (127.0.0.1:5070 and :5072), so a first-time user sees calls balanced
// with one command and the SIPp scenario in the repo. Stops like `siplb start` and prints how many
// calls each media server took.
import { MediaServer } from '../demo/media-server.js';
import { loadConfig } from '../config/load.js';
import { startServer } from '../server.js';
import type { CliIo } from './io.js';
import { makeLog, runUntilSignal } from './start-command.js';

export const DEMO_USAGE = 'demo';

/** The media servers of the shipped list; a custom SIPLB_LIST_FILE brings its own destinations. */
const DEMO_PORTS = [5070, 5072];

export async function demoCommand(io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const config = loadConfig(env);
  const log = makeLog(config);
  const media = DEMO_PORTS.map(() => new MediaServer({ log: null }));
  for (const [i, m] of media.entries()) await m.start(DEMO_PORTS[i]!, '127.0.0.1');
  const server = await startServer(config, log);
  const listen = server.sockets[0]!;
  const at = `${listen.family === 6 ? `[${listen.host}]` : listen.host}:${listen.port}`;
  io.stdout(
    [
      `siplb demo: proxy on udp:${at}, media servers on 127.0.0.1:${DEMO_PORTS.join(' and 127.0.0.1:')}`,
      `Place calls with SIPp (Debian package sip-tester), in another terminal:`,
      `  sipp -sf test/e2e/scenarios/uac.xml -s service ${at} -i 127.0.0.1 -p 5090 -m 20 -r 5 -d 1000 -mp 16000`,
      `Ctrl-C stops the demo and prints the counters and how the calls were split.`,
      '',
    ].join('\n'),
  );
  return runUntilSignal(server, config, io, log, async () => {
    for (const [i, m] of media.entries()) {
      io.stdout(`media server 127.0.0.1:${DEMO_PORTS[i]}: ${m.stats.invites} INVITEs, ${m.stats.completed} calls completed\n`);
      await m.stop();
    }
  });
}
