// Kamailio as the reference contender of the SIPp benchmark (issue 4): a generated dispatcher
// load-balancer config in two modes, and a foreground instance run as a child process.
//
// DESIGN.md ("Measured on this kind of machine"): compare only against Kamailio tuned as an expert
// runs it: the TLSF allocator (`-x tlsf`, for shm and, with no -X, for pkg memory too), 1 GiB of
// shared memory, 4 MiB socket buffers, one UDP receiver process per core. The packaged defaults
// (f_malloc, 64 MiB) are 2-3x slower and must never be what siplb is measured against.
//
// CPU accounting: Kamailio is multi-process. The main process (started here, `-DD`: it stays in the
// foreground and is not daemonised) forks the UDP receivers (`children`) and its timer processes;
// every SIP message is handled in a child. The CPU of a run is therefore the sum of utime+stime over
// the whole process tree: take `processTree(pid)` once the instance is up and sum `treeCpuSeconds`
// before and after the run (or call `treeCpuSeconds(pid)`, which walks the tree each time).
//
// Process group: the instance runs in a process group of its own (detached), so the whole tree can be
// killed at once when SIGTERM to the main process is not enough, and so that signals meant for the
// Node process or its terminal never reach it. (A daemonised Kamailio ends its children with
// kill(0, sig) on its own group; with -DD it signals them one by one from its process table.)
//
// Packet order: with children >= 2, two consecutive datagrams of one call (the backend's 180 and 200)
// can be relayed by two receivers in parallel and leave in the opposite order, which UDP allows. SIPp
// aborts a call on such a late 180 unless run with `-default_behaviors all,-abortunexp`.
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { processTree } from './proc.js';

export type KamailioMode = 'stateful' | 'stateless';

export interface KamailioConfigOptions {
  /** stateful: tm (t_relay, failover to the next destination on 5xx/408/timeout); stateless: forward(). */
  mode: KamailioMode;
  /** The one UDP socket Kamailio listens on (an IP literal: DNS is off). */
  listen: { host: string; port: number };
  /** A dispatcher list file (DISPATCHER.md); set 1 is used. */
  listFile: string;
  /** UDP receiver processes (`children`); DESIGN.md: one per core. */
  children: number;
  /** Dispatcher algorithm for ds_select_dst("1", alg). Stateless mode wants a hash (0: Call-ID) so a
   *  CANCEL and the ACK of a negative reply reach the backend that got the INVITE. */
  alg: number;
  /**
   * Health as a Kamailio operator sets it up (bench:failover): keepalives every `pingInterval` s to
   * every destination (ds_probing_mode 1), and ds_mark_dst("ip") on a failed branch, as Kamailio's
   * sample config does. Stateful only. Absent: no keepalives, no marks (the throughput runs).
   */
  health?: { pingInterval: number };
}

export interface KamailioStartOptions extends KamailioConfigOptions {
  /** A config written before (writeKamailioConfig); by default one is written from the options. */
  cfgPath?: string;
  /** Executable path; default kamailioBin(). */
  bin?: string;
  /** How long to wait for the instance to answer a keepalive OPTIONS; default 10 s. */
  readyTimeoutMs?: number;
}

export interface KamailioInstance {
  /** The main (attendant) process; its descendants do the SIP work. */
  readonly pid: number;
  /** The full command line, for reports. */
  readonly command: readonly string[];
  readonly cfgPath: string;
  /** Settles when the main process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM to the main process, then SIGKILL to whatever of its tree is left; resolves when none is. */
  stop(): Promise<void>;
  /** Kamailio's log (stderr, `-E`), the last 256 KiB. */
  stderr(): string;
}

/** Shared memory (MiB, -m) and private memory per process (MiB, -M), as DESIGN.md's reference runs. */
export { processTree, treeCpuSeconds } from './proc.js';

export const KAMAILIO_SHM_MB = 1024;
export const KAMAILIO_PKG_MB = 64;
/** Receive buffer ceiling for Kamailio's auto-probing (core `maxbuffer`), bytes. */
export const KAMAILIO_SOCKET_BUFFER = 4_194_304;

const ALGORITHMS = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 64]);
const STDERR_KEEP = 256 * 1024;

function checkOptions(o: KamailioConfigOptions): void {
  if (o.mode !== 'stateful' && o.mode !== 'stateless') throw new Error(`kamailio: unknown mode ${String(o.mode)}`);
  // Only characters of an IP literal or a plain host name: the value goes into the config verbatim.
  if (!/^[0-9A-Za-z.:-]+$/.test(o.listen.host)) throw new Error(`kamailio: bad listen host ${o.listen.host}`);
  if (!Number.isInteger(o.listen.port) || o.listen.port < 1 || o.listen.port > 65_535) {
    throw new Error(`kamailio: bad listen port ${o.listen.port}`);
  }
  if (o.listFile === '' || /["\r\n]/.test(o.listFile)) throw new Error(`kamailio: bad list file path ${o.listFile}`);
  if (!Number.isInteger(o.children) || o.children < 1 || o.children > 256) {
    throw new Error(`kamailio: children must be 1..256, got ${o.children}`);
  }
  if (!ALGORITHMS.has(o.alg)) throw new Error(`kamailio: unknown dispatcher algorithm ${o.alg}`);
}

function hostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The config text (exported for tests and for printing next to benchmark results). */
export function kamailioConfigText(o: KamailioConfigOptions): string {
  checkOptions(o);
  const stateful = o.mode === 'stateful';
  const alg = String(o.alg);
  const core = `#!KAMAILIO
# Generated by siplb bench/sipp/kamailio.ts: dispatcher load balancer, ${o.mode}, alg ${alg}.
# Tuned as DESIGN.md asks: run with -x tlsf -m ${KAMAILIO_SHM_MB} -M ${KAMAILIO_PKG_MB}.

####### Core #######
debug=0                       # warnings and worse only; nothing is logged per message
log_stderror=yes
memdbg=5
memlog=5
fork=yes
children=${o.children}
listen=udp:${hostPort(o.listen.host, o.listen.port)}
disable_tcp=yes
disable_sctp=yes
enable_tls=no
auto_aliases=no
mhomed=0
dns=no
rev_dns=no
dns_try_ipv6=no
dns_try_naptr=no
use_dns_cache=off
use_dns_failover=off
# Receive buffer ceiling for the auto-probing (5.6 has no maxsndbuffer; sends use the kernel default).
maxbuffer=${KAMAILIO_SOCKET_BUFFER}
sip_warning=0
server_signature=no
`;
  const modules = stateful
    ? `
####### Modules #######
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"       # is_method()
loadmodule "siputils.so"      # has_totag()
loadmodule "dispatcher.so"

# Timers as siplb's defaults: Timer C style INVITE wait 120 s, other final responses 5 s.
modparam("tm", "fr_timer", 5000)
modparam("tm", "fr_inv_timer", 120000)
# Serial failover: only the branches of the current destination count for the final reply.
modparam("tm", "failure_reply_mode", 3)
modparam("rr", "append_fromtag", 0)
modparam("dispatcher", "list_file", "${o.listFile}")
modparam("dispatcher", "flags", 2)
${o.health === undefined ? 'modparam("dispatcher", "ds_ping_interval", 0)' : `modparam("dispatcher", "ds_ping_interval", ${o.health.pingInterval})\nmodparam("dispatcher", "ds_probing_mode", 1)`}
`
    : `
####### Modules #######
# Stateless: no tm, so replies are relayed by the core on their Via without any transaction lookup.
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"       # is_method()
loadmodule "siputils.so"      # has_totag()
loadmodule "dispatcher.so"

modparam("rr", "append_fromtag", 0)
modparam("dispatcher", "list_file", "${o.listFile}")
# No failover list without transactions to notice a failure.
modparam("dispatcher", "flags", 0)
modparam("dispatcher", "ds_ping_interval", 0)
`;
  // Call-load balancing (alg 10) needs its call table.
  const callLoad = o.alg === 10 ? 'modparam("dispatcher", "ds_hash_size", 9)\n' : '';

  const head = `
####### Routing #######
request_route {
\tforce_rport();
\tif (!mf_process_maxfwd_header("10")) {
\t\tsl_send_reply("483", "Too Many Hops");
\t\texit;
\t}
\t# Keepalive to the proxy itself (also how the harness knows the instance is up).
\tif (is_method("OPTIONS") && uri == myself && $rU == $null) {
\t\tsl_send_reply("200", "Keepalive");
\t\texit;
\t}
`;
  const routes = stateful
    ? `\tif (has_totag()) {
\t\tif (loose_route()) {
\t\t\troute(RELAY);
\t\t}
\t\tif (is_method("ACK")) {
\t\t\t# ACK to a negative reply is absorbed by tm; an e2e ACK of a live transaction is relayed.
\t\t\tif (t_check_trans()) {
\t\t\t\tt_relay();
\t\t\t}
\t\t\texit;
\t\t}
\t\tsl_send_reply("404", "Not here");
\t\texit;
\t}
\tif (is_method("CANCEL")) {
\t\tif (t_check_trans()) {
\t\t\troute(RELAY);
\t\t}
\t\texit;
\t}
\t# Retransmissions: absorbed (or answered with the last reply) before any new transaction.
\tif (!is_method("ACK")) {
\t\tif (t_precheck_trans()) {
\t\t\tt_check_trans();
\t\t\texit;
\t\t}
\t\tt_check_trans();
\t}
\tif (is_method("INVITE|SUBSCRIBE")) {
\t\trecord_route();
\t}
\tif (!ds_select_dst("1", "${alg}")) {
\t\tsl_send_reply("503", "No destination");
\t\texit;
\t}
\tt_on_failure("DS_FAILURE");
\troute(RELAY);
}

route[RELAY] {
\tif (!t_relay()) {
\t\tsl_reply_error();
\t}
\texit;
}

failure_route[DS_FAILURE] {
\tif (t_is_canceled()) {
\t\texit;
\t}
\tif (t_check_status("5[0-9][0-9]|408") || (t_branch_timeout() && !t_branch_replied())) {
\t\tif (ds_next_dst()) {
\t\t\tt_on_failure("DS_FAILURE");
\t\t\tt_relay();
\t\t\texit;
\t\t}
\t}
}
`
    : `\tif (has_totag()) {
\t\tif (loose_route()) {
\t\t\tforward();
\t\t\texit;
\t\t}
\t\t# ACK to a negative reply carries no Route: it follows its INVITE's hash to the same backend.
\t\tif (is_method("ACK")) {
\t\t\tif (ds_select_dst("1", "${alg}")) {
\t\t\t\tforward();
\t\t\t}
\t\t\texit;
\t\t}
\t\tsl_send_reply("404", "Not here");
\t\texit;
\t}
\tif (is_method("INVITE|SUBSCRIBE")) {
\t\trecord_route();
\t}
\t# New requests, their retransmissions and CANCEL alike (a hash algorithm maps them to one backend).
\tif (!ds_select_dst("1", "${alg}")) {
\t\tsl_send_reply("503", "No destination");
\t\texit;
\t}
\t# forward() sends to $du, which ds_select_dst set.
\tforward();
\texit;
}
`;
  return core + modules + callLoad + head + routes;
}

/** Writes kamailio.cfg into a new temporary directory and returns its path. */
export function writeKamailioConfig(opts: KamailioConfigOptions): string {
  const text = kamailioConfigText(opts);
  const dir = mkdtempSync(join(tmpdir(), 'siplb-kamailio-'));
  const path = join(dir, 'kamailio.cfg');
  writeFileSync(path, text);
  return path;
}

/** Arguments after the executable: foreground main process with forked children, log to stderr. */
export function kamailioArgs(cfgPath: string, runDir: string): string[] {
  return [
    '-f', cfgPath,
    '-DD', // do not daemonise the main process; it still forks its workers
    '-E', // log to stderr
    '-x', 'tlsf', // TLSF for shm and (no -X) for pkg memory
    '-m', String(KAMAILIO_SHM_MB),
    '-M', String(KAMAILIO_PKG_MB),
    '-Y', runDir, // runtime dir (not /run/kamailio, which belongs to the packaged service)
    '-w', runDir,
  ];
}

/** The kamailio executable: on PATH, else where Debian puts it (/usr/sbin is not on every user's
 *  PATH); undefined when it is not installed. */
export function kamailioBin(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter((d) => d !== ''), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    const candidate = join(dir, 'kamailio');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** `kamailio -v`'s first line ("version: kamailio 5.6.3 (x86_64/linux)"), or undefined when missing. */
export function kamailioVersion(bin = kamailioBin()): string | undefined {
  if (bin === undefined) return undefined;
  const out = spawnSync(bin, ['-v'], { encoding: 'utf8', timeout: 5_000 });
  if (out.error !== undefined) return undefined;
  const line = `${out.stdout}${out.stderr}`.split('\n').find((l) => /kamailio \d/.test(l));
  return line?.trim();
}

function statFields(pid: number): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may contain spaces or ')': split after the last ')'.
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // [0] state, [1] ppid, [2] pgrp, ... [11] utime, [12] stime (fields 3, 4, 14, 15 of proc(5)).
  return text.slice(close + 2).split(' ');
}

function alive(pid: number): boolean {
  const fields = statFields(pid);
  return fields !== undefined && fields[0] !== 'Z' && fields[0] !== 'X';
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends OPTIONS to the instance until it answers 200 (true), `until` settles or time is up (false). */
async function answersOptions(host: string, port: number, timeoutMs: number, until: Promise<unknown>): Promise<boolean> {
  const v6 = isIPv6(host);
  const socket = createSocket(v6 ? 'udp6' : 'udp4');
  let answered = false;
  let gone = false;
  void until.then(() => (gone = true));
  socket.on('message', (msg) => {
    if (msg.subarray(0, 12).toString('latin1') === 'SIP/2.0 200 ') answered = true;
  });
  socket.on('error', () => undefined);
  try {
    await new Promise<void>((resolve) => socket.bind(0, host, resolve));
    const local = hostPort(host, socket.address().port);
    const target = hostPort(host, port);
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; !answered && !gone && Date.now() < deadline; i++) {
      const request =
        `OPTIONS sip:${target} SIP/2.0\r\n` +
        `Via: SIP/2.0/UDP ${local};branch=z9hG4bK-siplb-ready-${process.pid}-${i};rport\r\n` +
        'Max-Forwards: 70\r\n' +
        `From: <sip:ready@${local}>;tag=ready${i}\r\n` +
        `To: <sip:${target}>\r\n` +
        `Call-ID: siplb-ready-${process.pid}-${Date.now()}-${i}\r\n` +
        'CSeq: 1 OPTIONS\r\n' +
        'Content-Length: 0\r\n\r\n';
      socket.send(request, port, host);
      for (let waited = 0; waited < 100 && !answered && !gone; waited += 10) await sleep(10);
    }
    return answered;
  } finally {
    socket.close();
  }
}

/**
 * Starts Kamailio in the foreground (`-DD`) in its own process group and resolves once it answers a
 * keepalive OPTIONS on the listen socket. Rejects (with Kamailio's log) when it exits or does not
 * answer in time. Stop it with stop(); the Node process exiting kills the group as a last resort.
 */
export async function startKamailio(opts: KamailioStartOptions): Promise<KamailioInstance> {
  const ownConfig = opts.cfgPath === undefined;
  const cfgPath = opts.cfgPath ?? writeKamailioConfig(opts);
  const runDir = ownConfig ? dirname(cfgPath) : mkdtempSync(join(tmpdir(), 'siplb-kamailio-run-'));
  const bin = opts.bin ?? kamailioBin() ?? 'kamailio';
  const args = kamailioArgs(cfgPath, runDir);
  const cleanupDir = (): void => rmSync(runDir, { recursive: true, force: true });

  const child = spawn(bin, args, { cwd: runDir, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk: Buffer) => {
    log += chunk.toString('utf8');
    if (log.length > 2 * STDERR_KEEP) log = log.slice(-STDERR_KEEP);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
    child.once('error', (err) => {
      log += `spawn error: ${err.message}\n`;
    });
  });
  const pid = child.pid ?? -1;
  // Last resort if the caller never stops it: the whole group dies with this process.
  const killGroup = (): void => {
    if (pid <= 0) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.on('exit', killGroup);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const tree = pid > 0 ? processTree(pid) : [];
      if (child.exitCode === null && child.signalCode === null && pid > 0) {
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(5_000)]);
      }
      // Kamailio's main process normally ends its children itself; make sure, by group and by pid.
      if (tree.some(alive)) {
        killGroup();
        for (const p of tree) {
          try {
            process.kill(p, 'SIGKILL');
          } catch {
            // gone
          }
        }
      }
      for (let i = 0; i < 100 && tree.some(alive); i++) await sleep(20);
      await Promise.race([exited, sleep(1_000)]);
      process.off('exit', killGroup);
      cleanupDir(); // runDir is always this instance's own (the config's directory when written here)
      const left = tree.filter(alive);
      if (left.length > 0) throw new Error(`kamailio: processes still alive after stop: ${left.join(' ')}`);
    })();
    return stopping;
  };

  const instance: KamailioInstance = {
    pid,
    command: [bin, ...args],
    cfgPath,
    exited,
    stop,
    stderr: () => log.slice(-STDERR_KEEP),
  };

  const ready = pid > 0 && (await answersOptions(opts.listen.host, opts.listen.port, opts.readyTimeoutMs ?? 10_000, exited));
  if (!ready) {
    await stop().catch(() => undefined);
    const status = await Promise.race([exited, sleep(100).then(() => undefined)]);
    throw new Error(
      `kamailio did not answer on ${hostPort(opts.listen.host, opts.listen.port)}` +
        (status === undefined ? '' : ` (exit ${String(status.code)}${status.signal ? ` ${status.signal}` : ''})`) +
        `\n${[bin, ...args].join(' ')}\n${log.slice(-4_000)}`,
    );
  }
  return instance;
}
