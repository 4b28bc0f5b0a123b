// Sends on a UDP handle, below dgram: a dispatch worker's own, on duplicate descriptors of the
// listening sockets (fd-dup.ts), so the main thread only receives and shards; and the main thread's,
// on its sockets' own handles (measured 1.9-2.2 µs per 600-byte send against 2.2-2.6 through
// dgram.send with a callback: no argument checks, no lookup, no request callback). Node offers no public way to send on a descriptor
// another thread owns; this goes through the UDP handle class behind dgram (process.binding
// 'udp_wrap', present and the same in Node 20 to 24) with no callback: the send is tried at once
// (uv_udp_try_send), and only a full socket buffer leaves it queued in this thread's loop, holding
// the buffer until it is out. Anything missing makes open() throw, and the worker falls back to the
// egress ring (the main thread sends). The handle of a descriptor is never closed by this code:
// the thread's exit closes it, and the descriptor is a duplicate of this worker's own.

interface UdpHandle {
  open(fd: number): number;
  send(req: object, list: Uint8Array[], count: number, port: number, address: string, hasCallback: boolean): number;
  send6(req: object, list: Uint8Array[], count: number, port: number, address: string, hasCallback: boolean): number;
}

interface UdpBinding {
  UDP: new () => UdpHandle;
  SendWrap: new () => { list?: Uint8Array[]; address?: string; port?: number };
}

export class DirectSender {
  /** Datagrams sent (or queued by libuv for a full socket buffer). */
  sent = 0;
  /** Sends refused at once by the kernel (EHOSTUNREACH, ENOBUFS, EPERM, ...). */
  errors = 0;
  readonly #binding: UdpBinding;
  readonly #handles: { handle: UdpHandle; v6: boolean }[];

  /**
   * Opens a handle on each descriptor (`families[i]` of socket i), or takes the handles given (the
   * main thread's own, under its dgram sockets); throws what stops it.
   */
  constructor(fds: readonly number[] | readonly object[], families: readonly (4 | 6)[]) {
    const binding = (process as unknown as { binding(name: string): unknown }).binding('udp_wrap') as UdpBinding;
    if (typeof binding.UDP !== 'function' || typeof binding.SendWrap !== 'function') throw new Error("process.binding('udp_wrap') has no UDP or SendWrap");
    this.#binding = binding;
    this.#handles = fds.map((fd, i) => {
      if (typeof fd === 'object') {
        const handle = fd as UdpHandle;
        if (typeof handle.send !== 'function' || typeof handle.send6 !== 'function') throw new Error(`the handle of socket ${i} cannot send`);
        return { handle, v6: families[i] === 6 };
      }
      const handle = new binding.UDP();
      const err = handle.open(fd);
      if (err !== 0) throw new Error(`cannot open descriptor ${fd} of socket ${i} (error ${err})`);
      return { handle, v6: families[i] === 6 };
    });
  }

  /** Sends `buf` from socket `socket`; false when it could not be sent. `buf` must not change after. */
  send(buf: Uint8Array, address: string, port: number, socket: number): boolean {
    const h = this.#handles[socket];
    if (h === undefined) {
      this.errors++;
      return false;
    }
    const req = new this.#binding.SendWrap();
    const list = [buf];
    // the request keeps the buffer alive should the send have to wait for room in the socket buffer
    req.list = list;
    req.address = address;
    req.port = port;
    const err = h.v6 ? h.handle.send6(req, list, 1, port, address, false) : h.handle.send(req, list, 1, port, address, false);
    if (err < 0) {
      this.errors++;
      return false;
    }
    this.sent++;
    return true;
  }
}
