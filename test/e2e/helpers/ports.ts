// Free UDP ports on loopback for e2e peers (SIPp, the proxy, the demo media server).
//
// The kernel picks each port (bind to 0), so ports come from the ephemeral range (32768-60999 on
// Linux) and never collide with SIPp's default media port 6000 (DESIGN.md) or with well-known SIP
// ports. A port is only free until someone binds it: callers bind soon after, and startSipp retries
// when SIPp still loses the race.
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';

/** SIPp's defaults: media 6000 (audio) and 6002 (video), control 8888. Never hand these out. */
const RESERVED = new Set([6000, 6001, 6002, 6003, 8888]);

function bindUdp(host: string, port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: false });
    socket.once('error', () => {
      socket.close();
      resolve(undefined);
    });
    socket.bind(port, host, () => resolve(socket));
  });
}

async function closeAll(sockets: Socket[]): Promise<void> {
  await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
}

/**
 * `count` distinct free UDP ports on `host`. All are held open until every one is chosen, so one call
 * never returns the same port twice.
 */
export async function freeUdpPorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const held: Socket[] = [];
  try {
    while (held.length < count) {
      const socket = await bindUdp(host, 0);
      if (socket === undefined) throw new Error(`cannot bind a UDP socket on ${host}`);
      if (RESERVED.has(socket.address().port)) {
        socket.close();
        continue;
      }
      held.push(socket);
    }
    return held.map((s) => s.address().port);
  } finally {
    await closeAll(held);
  }
}

/** One free UDP port on `host`. */
export async function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  const [port] = await freeUdpPorts(1, host);
  if (port === undefined) throw new Error('freeUdpPorts returned nothing');
  return port;
}

/**
 * A free even port P with P + 2 free as well: SIPp binds its audio echo socket on -mp and its video
 * socket on -mp + 2, and a bind failure on either is fatal (exit 254).
 */
export async function freeMediaPort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const held: Socket[] = [];
    try {
      const first = await bindUdp(host, 0);
      if (first === undefined) throw new Error(`cannot bind a UDP socket on ${host}`);
      held.push(first);
      const port = first.address().port;
      // Even and below 65533 so that port + 2 exists; RTP customarily uses even ports.
      if (port % 2 !== 0 || port > 65_533 || RESERVED.has(port)) continue;
      const second = await bindUdp(host, port + 2);
      if (second === undefined) continue;
      held.push(second);
      return port;
    } finally {
      await closeAll(held);
    }
  }
  throw new Error(`no free media port pair on ${host} after 50 attempts`);
}

/**
 * A free UDP port on `host` between `low` and `high` (exclusive), tried at random. For a port a test
 * binds, frees and binds again (a UA restarted on the port siplb's list names): below the ephemeral
 * range, no socket another test binds to port 0 (a wildcard one blocks every address) takes it
 * in between.
 */
export async function freeUdpPortIn(host: string, low: number, high: number): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (RESERVED.has(port)) continue;
    const socket = await bindUdp(host, port);
    if (socket === undefined) continue;
    await closeAll([socket]);
    return port;
  }
  throw new Error(`no free UDP port on ${host} in ${low}-${high - 1} after 100 attempts`);
}
