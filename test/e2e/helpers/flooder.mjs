// A flooding SIP source for the flood e2e test, in a process of its own so that its send loop
// competes with siplb as an outside host would and never stalls the test's own sockets.
//   node flooder.mjs HOST PORT RATE SECONDS [BIND]
// Sends RATE datagrams a second for SECONDS to HOST:PORT from BIND (default 127.0.0.2): new
// INVITEs with a unique Call-ID each, and every fifth one garbage (random bytes, or an INVITE cut
// short). Paced by the clock in batches from setImmediate, so a slow host gets a lower rate, not a
// burst; the test checks the rate it reports. Prints one JSON line when done:
//   {"start":<epoch ms of the first send>,"end":...,"sent":N,"invites":N,"garbage":N,"errors":N,"rate":N}
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';

const [host = '127.0.0.1', portText = '5060', rateText = '25000', secondsText = '10', bind = '127.0.0.2'] = process.argv.slice(2);
const port = Number(portText);
const rate = Number(rateText);
const durationMs = Number(secondsText) * 1000;
/** Sends not yet completed; past this the loop waits (the kernel's buffer is full). */
const MAX_IN_FLIGHT = 20_000;
const MAX_BATCH = 2_000;

const noise = randomBytes(1 << 20);
const socket = dgram.createSocket({ type: 'udp4', sendBufferSize: 4 << 20 });
const stats = { start: 0, end: 0, sent: 0, invites: 0, garbage: 0, errors: 0, rate: 0 };
let inFlight = 0;
const done = (err) => {
  inFlight--;
  if (err) stats.errors++;
};

function invite(n, localPort) {
  const id = `${process.pid}-${n}`;
  return Buffer.from(
    `INVITE sip:service@${host}:${port} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${bind}:${localPort};branch=z9hG4bK-flood-${id};rport\r\n` +
      'Max-Forwards: 70\r\n' +
      `From: <sip:flood@${bind}>;tag=f${id}\r\n` +
      `To: <sip:service@${host}>\r\n` +
      `Call-ID: flood-${id}@${bind}\r\n` +
      'CSeq: 1 INVITE\r\n' +
      `Contact: <sip:flood@${bind}:${localPort}>\r\n` +
      'Content-Length: 0\r\n\r\n',
    'latin1',
  );
}

function garbage(n) {
  if (n % 2 === 0) return invite(n, 1).subarray(0, 40 + (n % 150)); // a cut-off INVITE
  const at = (n * 7919) % (noise.length - 700);
  return Buffer.from(noise.subarray(at, at + 1 + (n % 600))); // a copy: dgram reads late
}

function send(buf) {
  inFlight++;
  stats.sent++;
  socket.send(buf, done);
}

socket.bind(0, bind, () => {
  socket.connect(port, host, () => {
    const localPort = socket.address().port;
    const t0 = performance.now();
    stats.start = Date.now();
    const tick = () => {
      const elapsed = performance.now() - t0;
      if (elapsed >= durationMs) return finish(elapsed);
      const due = Math.min(Math.floor((rate * elapsed) / 1000) - stats.sent, MAX_BATCH, MAX_IN_FLIGHT - inFlight);
      for (let i = 0; i < due; i++) {
        const n = stats.sent;
        if (n % 5 === 4) {
          stats.garbage++;
          send(garbage(n));
        } else {
          stats.invites++;
          send(invite(n, localPort));
        }
      }
      setImmediate(tick);
    };
    tick();
  });
});

function finish(elapsed) {
  stats.end = Date.now();
  stats.rate = Math.round((stats.sent * 1000) / elapsed);
  const wait = () => {
    if (inFlight > 0) return setTimeout(wait, 10);
    process.stdout.write(`${JSON.stringify(stats)}\n`);
    socket.close();
  };
  wait();
}
