#!/usr/bin/env node
// The test's hands inside a private network namespace (test/helpers/netns.ts starts it with
// `ip netns exec NAME node netns-agent.mjs`): it binds UDP sockets on the namespace's addresses and
// sends and receives datagrams for the vitest process, which stays outside. Driven over Node's IPC
// channel (stdio 'ipc', advanced serialization so Buffers cross as bytes): the channel is an
// inherited file descriptor, and `ip netns exec` keeps descriptors across its exec.
// Plain JavaScript so it runs without a build step.
//
// Requests (parent -> agent), each with a number `req` answered by { op: 'ok' | 'error', req, ... }:
//   { op: 'bind', req, id, address, port, forward }  forward=false: count datagrams, do not send them up
//   { op: 'send', req, id, data, address, port }     one datagram (answered once the kernel took it)
//   { op: 'burst', req, id, items: [{ data, address, port }], perSecond }  paced; answered when all left
//   { op: 'counts', req, id }                        { received, bytes } of a socket
//   { op: 'close', req, id }
// Events (agent -> parent): { op: 'rx', id, data, address, port, at }, { op: 'send-error', id, code }.
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';

if (typeof process.send !== 'function') {
  console.error('netns-agent: start me with an IPC channel (test/helpers/netns.ts)');
  process.exit(2);
}

/** id -> { socket, forward, received, bytes } */
const sockets = new Map();

const reply = (req, body = {}) => process.send({ op: 'ok', req, ...body });
const fail = (req, err) => process.send({ op: 'error', req, message: String(err?.message ?? err), code: err?.code });

function bind(msg) {
  const socket = createSocket({ type: isIPv6(msg.address) ? 'udp6' : 'udp4' });
  const entry = { socket, forward: msg.forward !== false, received: 0, bytes: 0 };
  socket.on('message', (data, r) => {
    entry.received++;
    entry.bytes += data.length;
    if (entry.forward) process.send({ op: 'rx', id: msg.id, data, address: r.address, port: r.port, at: Date.now() });
  });
  socket.once('error', (err) => fail(msg.req, err));
  socket.bind(msg.port, msg.address, () => {
    socket.removeAllListeners('error');
    // a send to a host that is not there (ICMP) must not end the agent
    socket.on('error', (err) => process.send({ op: 'send-error', id: msg.id, code: err.code ?? String(err) }));
    // generous buffers: a sink that drops under a burst would hide a relayed packet
    socket.setRecvBufferSize(4 * 1024 * 1024);
    socket.setSendBufferSize(4 * 1024 * 1024);
    sockets.set(msg.id, entry);
    reply(msg.req, { port: socket.address().port });
  });
}

function send(entry, data, address, port) {
  return new Promise((resolve) =>
    entry.socket.send(data, port, address, (err) => {
      if (err) process.send({ op: 'send-error', id: -1, code: err.code ?? String(err) });
      resolve();
    }),
  );
}

async function burst(msg, entry) {
  const gapMs = msg.perSecond > 0 ? 1000 / msg.perSecond : 0;
  const start = Date.now();
  for (let i = 0; i < msg.items.length; i++) {
    const it = msg.items[i];
    await send(entry, it.data, it.address, it.port);
    // pace against the clock, not per datagram: timers are coarse
    const due = start + (i + 1) * gapMs;
    const wait = due - Date.now();
    if (wait >= 4) await new Promise((r) => setTimeout(r, wait));
  }
  reply(msg.req, { sent: msg.items.length });
}

process.on('message', (msg) => {
  const entry = sockets.get(msg.id);
  switch (msg.op) {
    case 'bind':
      return bind(msg);
    case 'send':
      if (!entry) return fail(msg.req, `no socket ${msg.id}`);
      return void send(entry, msg.data, msg.address, msg.port).then(() => reply(msg.req));
    case 'burst':
      if (!entry) return fail(msg.req, `no socket ${msg.id}`);
      return void burst(msg, entry);
    case 'counts':
      if (!entry) return fail(msg.req, `no socket ${msg.id}`);
      return reply(msg.req, { received: entry.received, bytes: entry.bytes });
    case 'close':
      if (entry) {
        sockets.delete(msg.id);
        entry.socket.close();
      }
      return reply(msg.req);
    default:
      return fail(msg.req, `unknown op ${msg.op}`);
  }
});

// The parent went away (test ended or crashed): nothing may stay behind in the namespace.
process.on('disconnect', () => process.exit(0));
process.send({ op: 'ready' });
