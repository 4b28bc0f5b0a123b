// The vitest side of netns-agent.mjs: UDP sockets that live inside a network namespace, used from
// the test process as if they were local. Every datagram a socket receives is kept (with its
// source and arrival time), so a test asserts on exactly what reached each address.
import type { ChildProcess } from 'node:child_process';

export interface Datagram {
  data: Buffer;
  text: string;
  /** The start line. */
  first: string;
  from: { address: string; port: number };
  at: number;
}

type AgentEvent =
  | { op: 'ok'; req: number; port?: number; received?: number; bytes?: number }
  | { op: 'error'; req: number; message: string; code?: string }
  | { op: 'rx'; id: number; data: Uint8Array; address: string; port: number; at: number }
  | { op: 'send-error'; id: number; code: string }
  | { op: 'ready' };

export class NsAgent {
  readonly #pending = new Map<number, { resolve: (v: AgentEvent & { op: 'ok' }) => void; reject: (e: Error) => void }>();
  readonly #sockets = new Map<number, NsSocket>();
  #req = 0;
  #nextId = 0;
  #stderr = '';
  /** Send errors the kernel reported (ENETUNREACH, ECONNREFUSED...), by code. */
  readonly sendErrors = new Map<string, number>();

  private constructor(private readonly child: ChildProcess) {
    child.stderr?.on('data', (d: Buffer) => (this.#stderr += d.toString()));
    child.on('message', (m: AgentEvent) => this.#onEvent(m));
    child.once('exit', (code) => {
      for (const p of this.#pending.values()) p.reject(new Error(`netns agent exited (${code}): ${this.#stderr}`));
      this.#pending.clear();
    });
  }

  static start(child: ChildProcess): Promise<NsAgent> {
    const agent = new NsAgent(child);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`netns agent not ready within 10 s: ${agent.#stderr}`)), 10_000);
      child.once('message', (m: AgentEvent) => {
        clearTimeout(timer);
        if (m.op === 'ready') resolve(agent);
        else reject(new Error(`netns agent: unexpected first message ${JSON.stringify(m)}`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`netns agent exited (${code}) at start: ${agent.#stderr}`));
      });
    });
  }

  /** A socket bound inside the namespace. forward=false: only counted (fuzz sources, floods). */
  async bind(address: string, port = 0, forward = true): Promise<NsSocket> {
    const id = ++this.#nextId;
    const r = await this.request({ op: 'bind', id, address, port, forward });
    const s = new NsSocket(this, id, address, r.port ?? port);
    this.#sockets.set(id, s);
    return s;
  }

  request(msg: Record<string, unknown>): Promise<AgentEvent & { op: 'ok' }> {
    const req = ++this.#req;
    return new Promise((resolve, reject) => {
      this.#pending.set(req, { resolve, reject });
      this.child.send({ ...msg, req });
    });
  }

  close(): void {
    if (this.child.connected) this.child.disconnect();
  }

  #onEvent(m: AgentEvent): void {
    if (m.op === 'rx') {
      this.#sockets.get(m.id)?.deliver(m.data, m.address, m.port, m.at);
    } else if (m.op === 'send-error') {
      this.sendErrors.set(m.code, (this.sendErrors.get(m.code) ?? 0) + 1);
    } else if (m.op === 'ok' || m.op === 'error') {
      const p = this.#pending.get(m.req);
      this.#pending.delete(m.req);
      if (m.op === 'ok') p?.resolve(m);
      else p?.reject(new Error(`netns agent: ${m.message}`));
    }
  }
}

export class NsSocket {
  readonly received: Datagram[] = [];
  #waiters: Array<() => void> = [];
  /** Called for each datagram as it arrives (a peer that answers). */
  onMessage: ((d: Datagram) => void) | undefined;

  constructor(
    private readonly agent: NsAgent,
    readonly id: number,
    readonly address: string,
    readonly port: number,
  ) {}

  /** The bound address: with `port`, a HostPort for Via sent-by and the like. */
  get host(): string {
    return this.address;
  }

  deliver(bytes: Uint8Array, address: string, port: number, at: number): void {
    const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const text = data.toString('latin1');
    const d: Datagram = { data, text, first: text.slice(0, Math.max(0, text.indexOf('\r\n'))) || text.slice(0, 80), from: { address, port }, at };
    this.received.push(d);
    this.onMessage?.(d);
    for (const w of this.#waiters.splice(0)) w();
  }

  async send(data: string | Buffer, address: string, port: number): Promise<void> {
    await this.agent.request({ op: 'send', id: this.id, data: typeof data === 'string' ? Buffer.from(data, 'latin1') : data, address, port });
  }

  /** Sends `items` paced at `perSecond` (0: as fast as the agent can); resolves when all left. */
  async burst(items: Array<{ data: Buffer; address: string; port: number }>, perSecond: number): Promise<void> {
    await this.agent.request({ op: 'burst', id: this.id, items, perSecond });
  }

  /** What the agent counted (for sockets bound with forward=false). */
  async counts(): Promise<{ received: number; bytes: number }> {
    const r = await this.agent.request({ op: 'counts', id: this.id });
    return { received: r.received ?? 0, bytes: r.bytes ?? 0 };
  }

  /** The first datagram (from index `from` on) matching `pred`; rejects after `ms` with what came. */
  async waitFor(pred: (d: Datagram) => boolean, ms: number, from = 0): Promise<Datagram> {
    const until = Date.now() + ms;
    for (;;) {
      const hit = this.received.slice(from).find(pred);
      if (hit) return hit;
      const left = until - Date.now();
      if (left <= 0) {
        throw new Error(`${this.address}:${this.port}: nothing matching within ${ms} ms; received:\n${this.received.slice(from).map((d) => d.first).join('\n') || '(nothing)'}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    await this.agent.request({ op: 'close', id: this.id });
  }
}
