// Duplicate descriptors of the listening sockets, for dispatch workers that send on them
// themselves (worker-side.ts DirectSender). A worker cannot share the main thread's descriptor
// itself: a thread's handles are closed when it exits, and closing the shared number closed the
// main thread's listening socket (measured: a terminated worker left the main socket at EBADF). Node
// has no dup(), but a socket passed to a child process and back over an IPC channel comes back as a
// new descriptor (SCM_RIGHTS): one round trip through a short-lived helper process per worker start.
//
// What comes back is a dgram.Socket already reading; it is stopped at once (its few datagrams of the
// same turn go to the listening socket's handler) and then kept, never closed: its descriptor is
// the worker's now, and closing it here, or after the worker's exit, could close a descriptor that
// number has been given to since. Each worker start leaves one such inert handle behind.
import { spawn } from 'node:child_process';
import type dgram from 'node:dgram';

/**
 * The helper: every socket handle it is sent goes straight back, which gives the parent a second
 * descriptor of the same socket (SCM_RIGHTS makes a new one each way); its own copy is closed once
 * the message is out, and it exits when the parent disconnects. Inline, so it needs no file of its own.
 */
const HELPER = `
process.on('message', (msg, handle) => process.send(msg, handle, {}, () => handle && handle.close()));
process.on('disconnect', () => process.exit(0));
`;

/** The handles whose descriptors workers send on: kept so that nothing closes them. */
const kept: dgram.Socket[] = [];

/** The libuv handle under a dgram.Socket (Node's internal state; present in Node 20 to 24). */
export function handleOf(sock: dgram.Socket): { fd: number; recvStop(): number } | undefined {
  const state = Object.getOwnPropertySymbols(sock).find((s) => s.description === 'state symbol');
  const handle = state === undefined ? undefined : (sock as unknown as Record<symbol, { handle?: { fd: number; recvStop(): number } } | undefined>)[state]?.handle;
  return typeof handle?.fd === 'number' && handle.fd >= 0 ? handle : undefined;
}

/**
 * New descriptors of `sockets`, in their order, for one worker. `onMessage(i)` receives what a
 * duplicate reads before it is stopped. Rejects when the helper fails (the caller falls back to
 * sending through the main thread).
 */
export async function duplicateSockets(sockets: readonly dgram.Socket[], onMessage: (index: number) => (buf: Buffer, rinfo: dgram.RemoteInfo) => void): Promise<number[]> {
  const child = spawn(process.execPath, ['-e', HELPER], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    const fds: number[] = [];
    for (const [i, sock] of sockets.entries()) {
      const back = new Promise<dgram.Socket>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('fd-dup helper did not answer within 5 s')), 5000);
        child.once('message', (_m: unknown, handle: unknown) => {
          clearTimeout(timer);
          resolve(handle as dgram.Socket);
        });
        child.once('exit', (code) => reject(new Error(`fd-dup helper exited (${code})`)));
      });
      child.send({ index: i }, sock);
      const dup = await back;
      dup.on('message', onMessage(i));
      const h = handleOf(dup);
      if (h === undefined) throw new Error('a duplicated socket has no descriptor');
      h.recvStop();
      kept.push(dup);
      fds.push(h.fd);
    }
    return fds;
  } finally {
    child.disconnect();
  }
}
