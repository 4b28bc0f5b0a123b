// The listening UDP sockets. Only src/transport/** imports node:dgram (STYLE.md, eslint.config.js):
// the main thread owns every socket, workers hand their datagrams back through egress rings.
//
// Costs on this machine (DESIGN.md): ~4.5 µs of CPU to receive a datagram, ~6 µs to send one;
// Node reads and writes one datagram per system call, so these sockets are most of the main
// thread's work and nothing else on this path may be comparable.
import { randomBytes } from 'node:crypto';
import dgram, { type RemoteInfo } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import { DirectSender } from './direct-send.js';
import { duplicateSockets, handleOf } from './fd-dup.js';

export interface ListenAddress {
  readonly host: string;
  /** 0 picks a free port; the bound one is in `sockets` after listen(). */
  readonly port: number;
  readonly family: 4 | 6;
}

export interface UdpTransportOptions {
  /**
   * SO_RCVBUF / SO_SNDBUF requests in bytes. DESIGN.md: a burst of 2,000 datagrams lost most of
   * them to the default receive buffer (212,992 bytes here), so size it deliberately. Defaults
   * 4 MiB / 1 MiB (Kamailio's maxbuffer and SIPp's -buff_size in the reference runs are 4 MiB).
   * Linux caps the request at net.core.rmem_max / wmem_max and reports twice what it grants.
   */
  readonly recvBufferSize?: number;
  readonly sendBufferSize?: number;
  /**
   * SO_REUSEPORT (SIPLB_REUSE_PORT; Node 22.12+, which config/ checks): another socket of the same
   * user may bind the same address and port, and Linux spreads incoming datagrams over the group
   * by a hash of their source and destination, so one peer's datagrams all go to one socket.
   */
  readonly reusePort?: boolean;
  /** Control-plane log line, once per socket at listen() and on socket errors. */
  readonly log?: (level: 'info' | 'warn', msg: string, fields: Record<string, unknown>) => void;
}

export interface BoundSocket {
  readonly index: number;
  readonly host: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** Effective sizes as the kernel reports them (getsockopt). */
  readonly recvBufferSize: number;
  readonly sendBufferSize: number;
}

export type DatagramHandler = (buf: Buffer, rinfo: RemoteInfo, socketIndex: number) => void;

export interface UdpCounters {
  received: number;
  sent: number;
  /** Sends whose callback reported an error (EHOSTUNREACH, ENOBUFS, a wrong family, ...). */
  sendErrors: number;
  /** 'error' events on a socket, and sends to a socket index that does not exist. */
  socketErrors: number;
}

/** A queue probe's length and first byte: no SIP message starts with NUL. */
const PROBE_BYTES = 16;
/** An unanswered probe older than this was dropped (a full buffer): it stops counting. */
const PROBE_LOST_MS = 2000;

interface ProbeState {
  readonly bytes: Buffer;
  /** Sequence number -> send time (ms, performance.now), oldest first. */
  readonly outstanding: Map<number, number>;
  /** Queueing delay of the last probe that came back, ms. */
  lastDelay: number;
  /** When a probe last came back (performance.now, ms; 0 = never). */
  lastBack: number;
}

/**
 * dgram's options with `reusePort`, which @types/node 20 does not know. Node before 22.12 ignores
 * it silently; config/ refuses SIPLB_REUSE_PORT=true there, so it is only passed when it works.
 */
type SocketOptions = dgram.SocketOptions & { reusePort?: boolean };

/**
 * dgram resolves every destination before sending, even an IP literal: dns.lookup answers a
 * literal on process.nextTick, so each unconnected send was deferred and cost a tick and a
 * closure (15% of the busy time of a call ran in processTicksAndRejections). The proxy only sends
 * to literals: answer them at once, and leave anything else to dns.lookup.
 */
type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;
export function literalLookup(address: string, options: number | object, callback: LookupCallback): void {
  const family = isIP(address);
  if (family !== 0) callback(null, address, family);
  else dnsLookup(address, options as never, callback as never);
}

/** quiesce(): most event-loop turns spent reading before a close (libuv reads 32 datagrams a turn). */
const QUIESCE_TURNS = 1000;

const DEFAULT_RCVBUF = 4 * 1024 * 1024;
const DEFAULT_SNDBUF = 1024 * 1024;

export class UdpTransport {
  readonly counters: UdpCounters = { received: 0, sent: 0, sendErrors: 0, socketErrors: 0 };
  private readonly socks: dgram.Socket[] = [];
  private bound: BoundSocket[] = [];
  private handler: DatagramHandler = () => {};
  private probes: ProbeState[] = [];
  /** Sends on the sockets' own handles (direct-send.ts); undefined: through dgram.send. */
  private direct: DirectSender | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private probeSeq = 0;
  /** Every datagram read, probes included (quiesce() watches it). */
  private messages = 0;
  /** Sockets on which another process's queue probe arrived (SO_REUSEPORT), logged once each. */
  private readonly sharedSeen = new Set<number>();
  // One callback for every send: counting errors this way allocates no closure per datagram.
  private readonly afterSend = (err: Error | null): void => {
    if (err) this.counters.sendErrors++;
  };

  constructor(
    private readonly addresses: readonly ListenAddress[],
    private readonly opts: UdpTransportOptions = {},
  ) {}

  /** Every received datagram goes to `handler`, with the index of the socket it arrived on. */
  onDatagram(handler: DatagramHandler): void {
    this.handler = handler;
  }

  get sockets(): readonly BoundSocket[] {
    return this.bound;
  }

  /** Binds every address; rejects (and closes what was bound) if one fails. */
  async listen(): Promise<readonly BoundSocket[]> {
    const recv = this.opts.recvBufferSize ?? DEFAULT_RCVBUF;
    const send = this.opts.sendBufferSize ?? DEFAULT_SNDBUF;
    try {
      for (const [index, a] of this.addresses.entries()) {
        const options: SocketOptions = {
          type: a.family === 6 ? 'udp6' : 'udp4',
          // An IPv6 wildcard must not take the IPv4 port too: "::" and "0.0.0.0" on one port both bind.
          ipv6Only: a.family === 6,
          recvBufferSize: recv,
          sendBufferSize: send,
          lookup: literalLookup,
        };
        if (this.opts.reusePort === true) options.reusePort = true;
        const sock = dgram.createSocket(options);
        this.socks.push(sock);
        sock.on('message', (buf, rinfo) => {
          this.messages++;
          // buf[0] is never 0 in SIP: one byte compare before the probe check
          if (buf[0] === 0 && buf.length === PROBE_BYTES && this.tookProbe(buf, rinfo, index)) return;
          this.counters.received++;
          this.handler(buf, rinfo, index);
        });
        await new Promise<void>((resolve, reject) => {
          sock.once('error', reject);
          sock.bind(a.port, a.host, () => {
            sock.off('error', reject);
            resolve();
          });
        });
        sock.on('error', (err) => {
          this.counters.socketErrors++;
          this.opts.log?.('warn', 'udp socket error', { socket: index, err: err.message });
        });
        const info: BoundSocket = {
          index,
          host: a.host,
          port: sock.address().port,
          family: a.family,
          recvBufferSize: sock.getRecvBufferSize(),
          sendBufferSize: sock.getSendBufferSize(),
        };
        this.bound.push(info);
        // Linux grants min(request, rmem_max) and reports double: below the request means capped.
        const capped = info.recvBufferSize < recv || info.sendBufferSize < send;
        this.opts.log?.(capped ? 'warn' : 'info', capped ? 'udp socket buffers capped by the kernel (raise net.core.rmem_max/wmem_max)' : 'udp socket bound', {
          ...info,
          reusePort: this.opts.reusePort === true,
          requestedRecvBufferSize: recv,
          requestedSendBufferSize: send,
        });
      }
    } catch (err) {
      await this.close();
      throw err;
    }
    try {
      const handles = this.socks.map((s) => handleOf(s));
      if (handles.every((h) => h !== undefined)) this.direct = new DirectSender(handles, this.addresses.map((a) => a.family));
    } catch {
      this.direct = undefined; // dgram.send it is: slower, the same datagrams
    }
    return this.bound;
  }

  /**
   * Sends `buf` from listening socket `socketIndex`, so it leaves from the address and port that
   * our Via and Record-Route name (RFC 3581 section 4: a response MUST leave from the port its
   * request arrived on; a peer behind NAT or with an ACL drops anything else). There is no second
   * socket per peer: a connected one saved 3-7% of a send's CPU (BENCHMARKS.md, "UDP send"), and
   * sharing the listening port with it needs SO_REUSEADDR, which would let any local process bind
   * that port too, silently, and take its datagrams.
   *
   * dgram.send reads the bytes later, after its address lookup, even for an IP literal (DESIGN.md:
   * 254 of 256 datagrams sent from a reused view carried later contents): pass bytes nobody will
   * change, i.e. a copy, or release them in onSent.
   */
  send(socketIndex: number, buf: Uint8Array, port: number, address: string, onSent?: (err: Error | null) => void): void {
    const direct = this.direct;
    if (direct !== undefined && onSent === undefined && direct.send(buf, address, port, socketIndex)) {
      this.counters.sent++;
      return;
    }
    // refused by the handle (a name to resolve, an error): dgram.send resolves, reports and counts
    const sock = this.socks[socketIndex];
    if (sock === undefined) {
      this.counters.socketErrors++;
      onSent?.(new RangeError(`no socket ${socketIndex}`));
      return;
    }
    this.counters.sent++;
    try {
      sock.send(buf, port, address, onSent === undefined ? this.afterSend : (err) => (this.afterSend(err), onSent(err)));
    } catch (err) {
      // Synchronous throws: the socket is closed, or the port is out of range.
      this.counters.sendErrors++;
      onSent?.(err as Error);
    }
  }

  /**
   * New descriptors of every listening socket, in order, for a dispatch worker to send on
   * (fd-dup.ts). What a duplicate reads in the moment before it is stopped goes to the handler.
   */
  duplicate(): Promise<number[]> {
    return duplicateSockets(this.socks, (index) => (buf, rinfo) => {
      this.counters.received++;
      this.handler(buf, rinfo, index);
    });
  }

  /**
   * Measures how long datagrams wait in each listening socket's receive queue: every `intervalMs`
   * each socket sends itself a 16-byte probe (NUL, a random nonce, a sequence number) and times
   * its return. It waits behind everything queued before it, so that time is the queueing delay a
   * SIP datagram arriving then sees. Probes are recognized by nonce and source port and never
   * reach the handler or the counters. The probes cost 10 datagrams a second per socket.
   */
  startQueueProbe(intervalMs: number): void {
    if (this.probeTimer !== undefined) return;
    const nonce = randomBytes(8);
    this.probes = this.socks.map((_, i) => {
      const bytes = Buffer.alloc(PROBE_BYTES);
      nonce.copy(bytes, 4);
      bytes[0] = 0;
      bytes.writeUInt16BE(i, 2);
      return { bytes, outstanding: new Map(), lastDelay: 0, lastBack: 0 };
    });
    this.probeTimer = setInterval(() => this.sendProbes(), intervalMs);
    this.probeTimer.unref();
  }

  /**
   * The worst queueing delay of the listening sockets now, ms: the last probe's, or longer when a
   * probe sent since has not come back yet (it is still waiting in the queue).
   */
  queueDelayMs(): number {
    const now = performance.now();
    let worst = 0;
    for (const p of this.probes) {
      // SO_REUSEPORT with another siplb on the port: every process's probe is the same flow (our
      // address and port to themselves), so the kernel hands them all to one socket of the group
      // and the other process's probes never come back. A probe still out then says nothing about
      // our queue: only probes that came back count, and none back for PROBE_LOST_MS means ours
      // go elsewhere. (Alone on the port, one comes back within 2 s unless the queue holds 2 s of
      // datagrams: 20 times SIPLB_OVERLOAD_DELAY's default, where shedding began long before.)
      const reusePort = this.opts.reusePort === true;
      let d = reusePort && now - p.lastBack >= PROBE_LOST_MS ? 0 : p.lastDelay;
      for (const [seq, sentAt] of p.outstanding) {
        const age = now - sentAt;
        if (age > PROBE_LOST_MS) {
          p.outstanding.delete(seq); // lost: the queue was full (RcvbufErrors); it has said so by now
          continue;
        }
        if (age > d && !reusePort) d = age;
        break; // the oldest live one is the longest wait
      }
      if (d > worst) worst = d;
    }
    return worst;
  }

  private sendProbes(): void {
    const seq = ++this.probeSeq >>> 0;
    for (const [i, p] of this.probes.entries()) {
      const b = this.bound[i];
      const sock = this.socks[i];
      if (b === undefined || sock === undefined) continue;
      // A copy per send: dgram reads the bytes late (see send()).
      const bytes = Buffer.from(p.bytes);
      bytes.writeUInt32BE(seq, 12);
      const to = b.host === '0.0.0.0' ? '127.0.0.1' : b.host === '::' ? '::1' : b.host;
      p.outstanding.set(seq, performance.now());
      sock.send(bytes, b.port, to, this.afterSend);
    }
  }

  /**
   * SO_REUSEPORT: closing a socket drops what waits in its queue, and with another siplb on the
   * port the kernel keeps steering its share of the callers here until the close. Measured (two
   * siplb, 16 callers with an OPTIONS every 5 ms each): closing after the stop report lost 99 of
   * 3,280 OPTIONS, all that had queued in the 60 ms since the last read. So read until a whole
   * turn of the event loop finds nothing, and close right after its poll phase (setImmediate):
   * what can still be lost is what arrives in those microseconds. Bounded, for a flood.
   */
  private async quiesce(): Promise<void> {
    // Called from a callback of the current poll phase (the signal): its readiness list predates
    // the backlog, so the first turn only ends this phase.
    await new Promise((resolve) => setImmediate(resolve));
    for (let turn = 0; turn < QUIESCE_TURNS; turn++) {
      const before = this.messages;
      await new Promise((resolve) => setImmediate(resolve));
      if (this.messages === before) return;
    }
  }

  private tookProbe(buf: Buffer, rinfo: RemoteInfo, index: number): boolean {
    const p = this.probes[index];
    if (rinfo.port !== this.bound[index]?.port) return false;
    if (p === undefined || buf.compare(p.bytes, 0, 12, 0, 12) !== 0) {
      // SO_REUSEPORT: another siplb's probe, from this port to this port (see queueDelayMs). Not
      // SIP: drop it, and say once that the port is shared (a second siplb started by mistake
      // shows up here too).
      if (this.opts.reusePort !== true) return false;
      if (!this.sharedSeen.has(index)) {
        this.sharedSeen.add(index);
        this.opts.log?.('info', 'another SO_REUSEPORT socket shares this port (SIPLB_REUSE_PORT)', { socket: index, port: rinfo.port });
      }
      return true;
    }
    const seq = buf.readUInt32BE(12);
    const sentAt = p.outstanding.get(seq);
    if (sentAt !== undefined) {
      p.lastBack = performance.now();
      p.lastDelay = p.lastBack - sentAt;
      // FIFO: every probe sent before this one has come back or was dropped
      for (const s of p.outstanding.keys()) {
        p.outstanding.delete(s);
        if (s === seq) break;
      }
    }
    return true;
  }

  async close(): Promise<void> {
    this.direct = undefined;
    clearInterval(this.probeTimer);
    this.probeTimer = undefined;
    if (this.opts.reusePort === true) await this.quiesce();
    const socks = this.socks.splice(0);
    this.bound = [];
    await Promise.all(
      socks.map(
        (s) =>
          new Promise<void>((resolve) => {
            try {
              s.close(() => resolve());
            } catch {
              resolve(); // never bound, or already closed
            }
          }),
      ),
    );
  }
}
