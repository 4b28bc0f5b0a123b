// baresip (Debian package baresip, 1.0.0) as a real SIP user agent for e2e tests, driven without a
// terminal. Each instance gets a private config directory (-f DIR) with one account, no sound device
// (ausine as the source, aubridge as a player that goes nowhere) and the ctrl_tcp module: commands in
// and events out as JSON netstrings on a TCP socket (`{"command":"dial","params":"sip:..."}` in,
// `{"event":true,"type":"CALL_ESTABLISHED",...}` and `{"response":true,"ok":...}` out).
//
// What the Debian 1.0.0 build offers and this relies on (each tried by hand on that build):
//   - `net_interface` takes an IP address as well as an interface name: the address put into SDP.
//     Without it SDP names the host's first non-loopback address.
//   - `sip_listen ADDR:PORT` binds SIP to that address only. RTP binds the wildcard address.
//   - `;answermode=auto` (auto-answer after a 180) or `manual` (ring until `accept`) per account.
//   - menu.so registers the commands (dial, hold, resume, hangup, accept); stdio.so and cons.so are
//     not loaded: stdio needs a terminal (epoll on a /dev/null stdin fails with EPERM).
//   - ausine produces 48 kHz stereo only: ausrc_srate/ausrc_channels make baresip resample to PCMU.
// Bounded: start waits for the control socket at most 5 s, each command 3 s, each event as long as
// the caller says; `-t` makes baresip quit by itself after `lifetimeS`; stop() always kills it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BARESIP_MISSING = 'baresip not found on PATH (Debian package baresip)';
const MODULE_PATH = '/usr/lib/baresip/modules';
const MODULES = ['g711.so', 'ausine.so', 'aubridge.so', 'account.so', 'menu.so', 'ctrl_tcp.so'];

/** "baresip v1.0.0", or undefined when baresip or a module these tests load is missing. */
export function baresipVersion(): string | undefined {
  // `baresip -h` prints its banner and usage, then exits 254: read the text, not the status.
  const r = spawnSync('baresip', ['-h'], { encoding: 'utf8', timeout: 5_000 });
  if (r.error !== undefined) return undefined;
  if (MODULES.some((m) => !existsSync(join(MODULE_PATH, m)))) return undefined;
  return /baresip v\S+/.exec(`${r.stdout}${r.stderr}`)?.[0];
}

export interface BaresipOptions {
  /** For messages: "caller", "media server". */
  name: string;
  /** The account's user part (what a Request-URI must carry to reach this UA). */
  user: string;
  /** Loopback address for SIP, SDP and the control socket. */
  address: string;
  sipPort: number;
  answerMode: 'auto' | 'manual';
  /** baresip quits by itself after this long, whatever happens to the test (-t). Default 60 s. */
  lifetimeS?: number;
}

export interface BaresipEvent {
  type: string;
  /** The call's Call-ID (call events), its direction and what the event carries. */
  id?: string;
  direction?: string;
  param?: string;
  [key: string]: unknown;
}

interface Response {
  ok: boolean;
  data: string;
  token: string;
}

/** A TCP port free on `host` right now, for the control socket. */
async function freeTcpPort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error(`no TCP port on ${host}`);
  return address.port;
}

function config(o: BaresipOptions, ctrlPort: number): string {
  return [
    'poll_method\tepoll',
    `sip_listen\t${o.address}:${o.sipPort}`,
    `net_interface\t${o.address}`,
    'call_local_timeout\t30',
    'call_max_calls\t4',
    'audio_source\tausine,440',
    'ausrc_srate\t48000',
    'ausrc_channels\t2',
    `audio_player\taubridge,${o.name.replace(/\W/g, '')}`,
    `audio_alert\taubridge,${o.name.replace(/\W/g, '')}`,
    // below the kernel's ephemeral range (32768-60999): no wildcard socket of another test is there
    'rtp_ports\t20000-29999',
    `module_path\t${MODULE_PATH}`,
    ...MODULES.map((m) => `${m === 'account.so' || m === 'menu.so' ? 'module_app' : 'module'}\t${m}`),
    `ctrl_tcp_listen\t${o.address}:${ctrlPort}`,
    '',
  ].join('\n');
}

export class Baresip {
  readonly events: BaresipEvent[] = [];
  #responses = new Map<string, (r: Response) => void>();
  #wakers: Array<() => void> = [];
  #consumed = new Map<string, number>();
  #token = 0;

  private constructor(
    readonly options: BaresipOptions,
    readonly pid: number,
    private readonly ctrl: Socket,
    private readonly output: () => string,
    private readonly kill: () => Promise<void>,
    private readonly dir: string,
  ) {}

  /** The tail of baresip's stdout and stderr (with -s: every SIP message it sent and received). */
  get log(): string {
    return this.output().slice(-20_000);
  }

  static async start(o: BaresipOptions): Promise<Baresip> {
    const dir = await mkdtemp(join(tmpdir(), 'siplb-baresip-'));
    const ctrlPort = await freeTcpPort(o.address);
    writeFileSync(join(dir, 'config'), config(o, ctrlPort));
    writeFileSync(join(dir, 'accounts'), `<sip:${o.user}@${o.address}:${o.sipPort}>;regint=0;answermode=${o.answerMode}\n`);
    const child = spawn('baresip', ['-f', dir, '-s', '-t', String(o.lifetimeS ?? 60)], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const keep = (d: Buffer): void => {
      out = (out + d.toString('utf8')).slice(-200_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const kill = async (): Promise<void> => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    };
    let ctrl: Socket | undefined;
    const deadline = Date.now() + 5_000;
    while (ctrl === undefined) {
      if (child.exitCode !== null) break;
      ctrl = await new Promise<Socket | undefined>((resolve) => {
        const s = connect(ctrlPort, o.address);
        s.once('connect', () => resolve(s));
        s.once('error', () => resolve(undefined));
      });
      if (ctrl === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      else if (ctrl === undefined) break;
    }
    if (ctrl === undefined) {
      await kill();
      await rm(dir, { recursive: true, force: true });
      throw new Error(`baresip (${o.name}) did not open its control socket ${o.address}:${ctrlPort} within 5 s; exit ${child.exitCode}\n${out.slice(-3_000)}`);
    }
    const b = new Baresip(o, child.pid ?? -1, ctrl, () => out, kill, dir);
    b.#listen();
    return b;
  }

  #listen(): void {
    let buf = Buffer.alloc(0);
    this.ctrl.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      // netstring: LENGTH ":" JSON ","
      for (;;) {
        const colon = buf.indexOf(0x3a);
        if (colon < 0) break;
        const length = Number(buf.subarray(0, colon).toString('latin1'));
        if (buf.length < colon + 1 + length + 1) break;
        const msg = JSON.parse(buf.subarray(colon + 1, colon + 1 + length).toString('utf8')) as Record<string, unknown>;
        buf = buf.subarray(colon + 2 + length);
        if (msg.event === true) this.events.push(msg as BaresipEvent);
        else if (msg.response === true) this.#responses.get(String(msg.token))?.(msg as unknown as Response);
        for (const wake of this.#wakers.splice(0)) wake();
      }
    });
    this.ctrl.on('error', () => undefined); // baresip killed: stop() reports nothing more
  }

  /** Runs a command (menu's long names: dial, hold, resume, hangup, accept); rejects unless ok. */
  async command(command: string, params = ''): Promise<string> {
    const token = `t${++this.#token}`;
    const json = JSON.stringify({ command, params, token });
    const reply = new Promise<Response | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 3_000);
      this.#responses.set(token, (r) => (clearTimeout(timer), resolve(r)));
    });
    this.ctrl.write(`${Buffer.byteLength(json)}:${json},`);
    const r = await reply;
    this.#responses.delete(token);
    if (r === undefined) throw new Error(`baresip (${this.options.name}): no answer to "${command} ${params}" within 3 s`);
    if (!r.ok) throw new Error(`baresip (${this.options.name}): "${command} ${params}" failed: ${r.data}`);
    return r.data;
  }

  /**
   * The next event of `type` not returned before (each call moves past the one it returns), waiting
   * at most `timeoutMs`. Rejects with every event seen so far and the end of baresip's log.
   */
  async next(type: string, timeoutMs: number): Promise<BaresipEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const from = this.#consumed.get(type) ?? 0;
      const at = this.events.findIndex((e, i) => i >= from && e.type === type);
      if (at >= 0) {
        this.#consumed.set(type, at + 1);
        return this.events[at]!;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        const seen = this.events.map((e) => `${e.type}${e.param ? `(${e.param})` : ''}`).join(', ');
        throw new Error(`baresip (${this.options.name}): no ${type} within ${timeoutMs} ms; events: ${seen || 'none'}\n--- log tail ---\n${this.log.slice(-4_000)}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wakers.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  /** Kills baresip (SIGKILL: nothing of a failed test may linger) and removes its directory. */
  async stop(): Promise<void> {
    this.ctrl.destroy();
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}
