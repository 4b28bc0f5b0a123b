// A small demo media server (a UAS) for `siplb demo`: something for the balancer to send calls to
// without installing Asterisk or FreeSWITCH. It answers OPTIONS (keepalives) with 200; INVITE with
// 100, 180 and, after ringMs, 200 with SDP; ACK, BYE and CANCEL as RFC 3261 asks. No media flows.
//
// Responses go to the datagram's source address, not to the Via sent-by (RFC 3581 behaviour): behind
// the balancer that is the proxy, and it works through NAT. Timers are one setTimeout per call: a demo
// sees a few calls per second, unlike the proxy (STYLE.md 10).
// It owns its UDP socket: it is a stand-alone peer, not one of the proxy's threads.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { createParser, type SipParser } from '../parser/index.js';
import { buildResponse, contactUri, minimalSdp, newTag, requestInfo, type RequestInfo } from './responses.js';

export interface MediaServerOptions {
  /** Delay between 180 and 200; a long one leaves time to CANCEL. Default 0. */
  ringMs?: number;
  /** RFC 3261 T1 and T2: 2xx/487 retransmission starts at T1 and doubles up to T2. */
  t1Ms?: number;
  t2Ms?: number;
  /** Retransmissions of a final response without ACK before giving up. Default 7 (RFC 17.2.1: 64*T1). */
  maxRetransmits?: number;
  /** Port in the SDP answer. Default: the SIP port + 2. */
  mediaPort?: number;
  /** One line per call event; null silences. Default console.log. */
  log?: ((line: string) => void) | null;
}

export interface MediaServerStats {
  invites: number;
  answered: number;
  confirmed: number;
  completed: number;
  cancelled: number;
  /** Final responses never acknowledged after every retransmission. */
  noAck: number;
  options: number;
  malformed: number;
  active: number;
}

/** ended: by BYE (a retransmitted BYE gets 200 again); gone: cancelled and ACKed, or never ACKed. */
type State = 'ringing' | 'answered' | 'confirmed' | 'cancelled' | 'ended' | 'gone';

interface Call {
  readonly invite: RequestInfo;
  readonly peer: RemoteInfo;
  readonly toTag: string;
  readonly started: number;
  state: State;
  /** Last response to the INVITE: resent when the INVITE is retransmitted. */
  last: Buffer | undefined;
  timer: NodeJS.Timeout | undefined;
}

export class MediaServer {
  readonly #opts: Required<Omit<MediaServerOptions, 'mediaPort' | 'log'>>;
  readonly #mediaPort: number | undefined;
  readonly #log: (line: string) => void;
  readonly #parser: SipParser = createParser();
  readonly #calls = new Map<string, Call>();
  #socket: Socket | undefined;
  #host = '127.0.0.1';
  #port = 0;
  #sdpSession = Math.floor(Date.now() / 1000);
  readonly stats: MediaServerStats = {
    invites: 0, answered: 0, confirmed: 0, completed: 0, cancelled: 0, noAck: 0, options: 0, malformed: 0, active: 0,
  };

  constructor(options: MediaServerOptions = {}) {
    this.#opts = {
      ringMs: options.ringMs ?? 0,
      t1Ms: options.t1Ms ?? 500,
      t2Ms: options.t2Ms ?? 4_000,
      maxRetransmits: options.maxRetransmits ?? 7,
    };
    this.#mediaPort = options.mediaPort;
    const log = options.log === undefined ? (line: string) => console.log(line) : options.log;
    this.#log = log ?? (() => {});
  }

  /** Listens on host:port (port 0: any free port) and resolves with the bound address. */
  async start(port: number, host = '127.0.0.1'): Promise<{ host: string; port: number }> {
    if (this.#socket !== undefined) throw new Error('media server already started');
    const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    socket.on('message', (msg, rinfo) => this.#onDatagram(msg, rinfo));
    // A send error (e.g. ICMP unreachable reported on a later send) must not end the demo.
    socket.on('error', (err) => this.#log(`demo: socket error: ${err.message}`));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    this.#socket = socket;
    // An unspecified bind address cannot go into Contact or SDP: advertise loopback instead.
    this.#host = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
    this.#port = socket.address().port;
    this.#log(`demo: media server listening on ${host}:${this.#port}`);
    return { host: this.#host, port: this.#port };
  }

  async stop(): Promise<void> {
    for (const call of this.#calls.values()) clearTimeout(call.timer);
    this.#calls.clear();
    this.stats.active = 0;
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket !== undefined) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  #onDatagram(bytes: Buffer, peer: RemoteInfo): void {
    const msg = this.#parser.parse(bytes);
    // Malformed SIP is data: count it and move on (STYLE.md 8). Responses are not ours to handle.
    if (!msg.ok) {
      this.stats.malformed++;
      return;
    }
    if (!msg.isRequest) return;
    const req = requestInfo(msg);
    switch (req.method) {
      case 'OPTIONS':
        this.stats.options++;
        return this.#send(peer, buildResponse(req, 200, 'OK', { toTag: newTag(), contact: this.#contact(), allow: true }));
      case 'INVITE':
        return this.#onInvite(req, peer);
      case 'ACK':
        return this.#onAck(req);
      case 'BYE':
        return this.#onBye(req, peer);
      case 'CANCEL':
        return this.#onCancel(req, peer);
      default:
        return this.#send(peer, buildResponse(req, 501, 'Not Implemented', { toTag: newTag(), allow: true }));
    }
  }

  #onInvite(req: RequestInfo, peer: RemoteInfo): void {
    const known = this.#calls.get(req.callId);
    if (known !== undefined && known.invite.branch === req.branch) {
      // A retransmission (RFC 17.2.1): repeat the last response, start nothing new.
      if (known.last !== undefined) this.#send(peer, known.last);
      return;
    }
    if (known !== undefined || req.toTag !== undefined) {
      // Re-INVITEs are out of scope for the demo; 488 keeps the session as it was (RFC 14.2).
      this.#send(peer, buildResponse(req, known ? 488 : 481, known ? 'Not Acceptable Here' : 'Call/Transaction Does Not Exist'));
      return;
    }
    const call: Call = { invite: req, peer, toTag: newTag(), started: Date.now(), state: 'ringing', last: undefined, timer: undefined };
    this.#calls.set(req.callId, call);
    this.stats.invites++;
    this.stats.active++;
    this.#send(peer, buildResponse(req, 100, 'Trying'));
    call.last = buildResponse(req, 180, 'Ringing', { toTag: call.toTag, contact: this.#contact(), recordRoute: true });
    this.#send(peer, call.last);
    if (this.#opts.ringMs > 0) call.timer = setTimeout(() => this.#answer(call), this.#opts.ringMs);
    else this.#answer(call);
  }

  #answer(call: Call): void {
    if (call.state !== 'ringing') return;
    call.state = 'answered';
    this.stats.answered++;
    const sdp = minimalSdp(this.#host, this.#mediaPort ?? this.#port + 2, this.#sdpSession++);
    const ok = buildResponse(call.invite, 200, 'OK', { toTag: call.toTag, contact: this.#contact(), recordRoute: true, allow: true, body: sdp });
    this.#log(`demo: call ${call.invite.callId} from ${call.peer.address}:${call.peer.port} answered`);
    this.#sendFinal(call, ok);
  }

  /** Sends a final response to the INVITE and retransmits it until ACK (RFC 13.3.1.4, 17.2.1 Timer G). */
  #sendFinal(call: Call, response: Buffer): void {
    call.last = response;
    this.#send(call.peer, response);
    let interval = this.#opts.t1Ms;
    let sent = 0;
    const again = (): void => {
      if (sent === this.#opts.maxRetransmits) {
        this.stats.noAck++;
        this.#log(`demo: call ${call.invite.callId}: no ACK after ${sent} retransmissions, dropped`);
        return this.#end(call, 'gone');
      }
      sent++;
      this.#send(call.peer, response);
      interval = Math.min(interval * 2, this.#opts.t2Ms);
      call.timer = setTimeout(again, interval);
    };
    clearTimeout(call.timer);
    call.timer = setTimeout(again, interval);
  }

  #onAck(req: RequestInfo): void {
    const call = this.#calls.get(req.callId);
    if (call === undefined) return;
    if (call.state === 'answered') {
      clearTimeout(call.timer);
      call.state = 'confirmed';
      this.stats.confirmed++;
    } else if (call.state === 'cancelled') {
      this.#end(call, 'gone');
    }
  }

  #onBye(req: RequestInfo, peer: RemoteInfo): void {
    const call = this.#calls.get(req.callId);
    if (call === undefined || call.state === 'ringing' || call.state === 'cancelled' || call.state === 'gone') {
      this.#send(peer, buildResponse(req, 481, 'Call/Transaction Does Not Exist'));
      return;
    }
    this.#send(peer, buildResponse(req, 200, 'OK'));
    if (call.state === 'ended') return; // a retransmitted BYE: its 200 was lost
    this.stats.completed++;
    this.#log(`demo: call ${req.callId} ended by BYE after ${Date.now() - call.started} ms`);
    this.#end(call, 'ended');
  }

  #onCancel(req: RequestInfo, peer: RemoteInfo): void {
    const call = this.#calls.get(req.callId);
    // RFC 9.2: a CANCEL matches the INVITE's transaction (same top Via branch).
    if (call === undefined || call.invite.branch !== req.branch) {
      this.#send(peer, buildResponse(req, 481, 'Call/Transaction Does Not Exist'));
      return;
    }
    this.#send(peer, buildResponse(req, 200, 'OK', { toTag: call.toTag }));
    if (call.state !== 'ringing') return; // already answered: the CANCEL has no effect (RFC 9.2)
    clearTimeout(call.timer);
    call.state = 'cancelled';
    this.stats.cancelled++;
    this.#log(`demo: call ${req.callId} cancelled while ringing`);
    this.#sendFinal(call, buildResponse(call.invite, 487, 'Request Terminated', { toTag: call.toTag }));
  }

  /** Ends a call but remembers it for 64*T1, so retransmitted BYEs and INVITEs still get their answer. */
  #end(call: Call, state: 'ended' | 'gone'): void {
    clearTimeout(call.timer);
    if (call.state !== 'ended' && call.state !== 'gone') this.stats.active--;
    call.state = state;
    call.timer = setTimeout(() => this.#calls.delete(call.invite.callId), 64 * this.#opts.t1Ms);
  }

  #contact(): string {
    return contactUri(this.#host, this.#port);
  }

  #send(peer: RemoteInfo, bytes: Buffer): void {
    this.#socket?.send(bytes, peer.port, peer.address);
  }
}
