#!/usr/bin/env node
// Replays every RFC 4475 torture message at a running siplb and reports what became of each:
// forwarded (the destination got it), answered (the sender got a final status), or dropped.
// Run it ONLY inside a private network namespace (scripts/netns-run.sh): the messages name hosts
// such as 192.0.2.x and example.com, and nothing may ever reach them (DESIGN.md, Tests). Plain
// JavaScript so it runs without a build step inside the namespace.
//
// usage: node test/e2e/torture-replay.mjs MODE WORKERS  -> JSON on stdout
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Refuse to run anywhere but a private namespace with loopback alone: below, addresses from the
// messages are added to lo so that responses routed to them can be seen.
// (getifaddrs sees the current namespace; /sys/class/net may still show the host's)
const interfaces = Object.keys(networkInterfaces());
if (interfaces.length !== 1 || interfaces[0] !== 'lo') {
  console.error(`torture-replay: run inside scripts/netns-run.sh (interfaces here: ${interfaces.join(', ')})`);
  process.exit(2);
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const corpus = join(root, 'test', 'fixtures', 'rfc4475');
const [mode = 'stateful', workers = '0'] = process.argv.slice(2);
const PROXY = 25160;

const bind = (port) =>
  new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(port, '127.0.0.1', () => resolve(s));
  });

const uac = await bind(0);
const uas = await bind(0);
const byCallId = new Map(); // Call-ID -> what happened
const callIdOf = (text) => /^(?:call-id|i)[ \t]*:[ \t]*(\S+)/im.exec(text)?.[1] ?? '';
const note = (text, what) => {
  const id = callIdOf(text);
  const list = byCallId.get(id) ?? [];
  list.push(what);
  byCallId.set(id, list);
};
uac.on('message', (m) => {
  const text = m.toString('latin1');
  const status = /^SIP\/2\.0 (\d{3})/.exec(text)?.[1];
  if (status && status !== '100') note(text, Number(status));
});
// Responses are checked through a real transaction (see the loop below): a carrier request with
// the response's Call-ID and CSeq goes through the proxy first, and the response is sent back with
// the Vias the proxy put on it. carrierSeen holds the carrier as the destination received it.
const carriers = new Set();
const carrierSeen = new Map();
uas.on('message', (m, r) => {
  const text = m.toString('latin1');
  if (carriers.has(callIdOf(text)) && !text.startsWith('SIP/')) {
    carrierSeen.set(callIdOf(text), text);
    return;
  }
  note(text, 'forward');
  // answer requests so stateful transactions end (the ACK needs no answer)
  const first = text.split('\r\n')[0];
  if (first.startsWith('SIP/2.0') || /^ACK /.test(first)) return;
  const head = text.split(/\r?\n\r?\n/)[0].split(/\r?\n/);
  const keep = head.filter((l) => /^(via|v|from|f|to|t|call-id|i|cseq)[ \t]*:/i.test(l));
  const resp = ['SIP/2.0 200 OK', ...keep, 'Content-Length: 0', '', ''].join('\r\n');
  uas.send(resp, r.port, r.address);
});

const hops = [];
const hopAddresses = new Set();
const dir = mkdtempSync(join(tmpdir(), 'siplb-torture-'));
const list = join(dir, 'dispatcher.list');
writeFileSync(list, `1 sip:127.0.0.1:${uas.address().port}\n`);
const proxy = spawn(process.execPath, [join(root, 'bin', 'siplb.js'), 'start'], {
  env: { PATH: process.env.PATH, SIPLB_LISTEN: `udp:127.0.0.1:${PROXY}`, SIPLB_LIST_FILE: list, SIPLB_MODE: mode, SIPLB_WORKERS: workers, SIPLB_FR_TIMER: '1000', SIPLB_DRAIN_TIMEOUT: '300', SIPLB_LOG_LEVEL: 'warn', SIPLB_ADMIN: '', SIPLB_DS_PING_INTERVAL: '0' },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let out = '';
let err = '';
proxy.stdout.on('data', (d) => (out += d));
proxy.stderr.on('data', (d) => (err += d));
// Ready when it answers an OPTIONS addressed to itself (a fixed wait lost the first messages when
// a loaded machine took longer to start two workers), or after 20 s.
{
  const probe = await bind(0);
  let ready = false;
  probe.on('message', (m) => (ready ||= m.toString('latin1').startsWith('SIP/2.0 200')));
  for (let i = 0; i < 200 && !ready && proxy.exitCode === null; i++) {
    const ping = `OPTIONS sip:127.0.0.1:${PROXY} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${probe.address().port};branch=z9hG4bKready${i}\r\nMax-Forwards: 70\r\nFrom: <sip:ready@127.0.0.1>;tag=r\r\nTo: <sip:127.0.0.1>\r\nCall-ID: ready-${i}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
    probe.send(ping, PROXY, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 100));
  }
  probe.close();
}

const rows = readFileSync(join(corpus, 'index.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
// Several corpus messages share a branch, sent-by and method: by RFC 3261 17.2.3 a stateful proxy
// must take the later ones for retransmissions of the first. Their torture is elsewhere (Contact
// params), so a later duplicate gets a suffix on its branch.
const seenTx = new Set();
for (const [file] of rows) {
  let bytes = readFileSync(join(corpus, file.replace(/^rfc4475\//, '')));
  const text0 = bytes.toString('latin1');
  const via = /^(?:via|v)[ \t]*:[^\r\n]*?(\S+);[^\r\n]*?branch=([^;,\s]+)/im.exec(text0);
  const method = /^(?:cseq)[ \t]*:[ \t]*\d+[ \t]+(\S+)/im.exec(text0)?.[1];
  if (via && method && !text0.startsWith('SIP/')) {
    const key = `${via[2]}|${via[1]}|${method}`;
    if (seenTx.has(key)) bytes = Buffer.from(text0.replace(`branch=${via[2]}`, `branch=${via[2]}.r${seenTx.size}`), 'latin1');
    seenTx.add(key);
  }
  // A response is forwarded only down a branch the proxy made (never an open relay). A response
  // with one Via gets a real one: a carrier INVITE with its Call-ID and CSeq is sent through the
  // proxy from a socket of its own, the response goes back to the proxy with the two Vias the
  // carrier arrived with, as a real UAS copies them, and the carrier socket notes it if it arrives
  // with its start line intact. One with two Vias (bcast) keeps the old way: our address written
  // into its top Via with a branch the proxy never made, so it is dropped whatever its next hop.
  if (bytes.subarray(0, 4).toString() === 'SIP/' && (bytes.toString('latin1').match(/^(?:via|v)[ \t]*:/gim) ?? []).length === 1) {
    const text = bytes.toString('latin1');
    const head = text.slice(0, text.indexOf('\r\n\r\n'));
    const lines = head.split('\r\n');
    const callId = callIdOf(text);
    const hdr = (name) => lines.find((l) => new RegExp(`^${name}[ \\t]*:`, 'i').test(l))?.replace(/^[^:]*:[ \t]*/, '') ?? '';
    carriers.add(callId);
    const carrier = await bind(0);
    const start = lines[0];
    carrier.on('message', (m2) => {
      if (m2.toString('latin1').split('\r\n')[0] === start) note(text, 'forward');
    });
    hops.push(carrier);
    const invite = [
      `INVITE sip:carrier@127.0.0.1:${PROXY} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${carrier.address().port};branch=z9hG4bKcarrier${file.length};rport`,
      'Max-Forwards: 70',
      `From: ${hdr('from')}`,
      'To: <sip:carrier@127.0.0.1>',
      `Call-ID: ${callId}`,
      `CSeq: ${hdr('cseq')}`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    carrier.send(invite, PROXY, '127.0.0.1');
    for (let i = 0; i < 50 && !carrierSeen.has(callId); i++) await new Promise((r) => setTimeout(r, 20));
    const seen = carrierSeen.get(callId) ?? '';
    const vias = seen.split('\r\n').filter((l) => /^(?:via|v)[ \t]*:/i.test(l));
    const rest = lines.slice(1).filter((l) => !/^(?:via|v)[ \t]*:/i.test(l));
    const body = bytes.subarray(Buffer.byteLength(head, 'latin1') + 4);
    uas.send(Buffer.concat([Buffer.from([start, ...vias, ...rest, '', ''].join('\r\n'), 'latin1'), body]), PROXY, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 40));
    continue;
  }
  // A Route in a captured message named the proxy of that capture (mpart01: 127.0.0.1:5080): it
  // names this proxy here, as a UA using it as outbound proxy would (a foreign Route is refused).
  if (!bytes.subarray(0, 4).toString().startsWith('SIP/')) {
    bytes = Buffer.from(bytes.toString('latin1').replace(/^(Route[ \t]*:[ \t]*<sip:)127\.0\.0\.1:5080>/im, `$1127.0.0.1:${PROXY};lr>`), 'latin1');
  }
  if (bytes.subarray(0, 4).toString() === 'SIP/') {
    const text = bytes.toString('latin1');
    const vias = text.match(/^(?:via|v)[ \t]*:/gim) ?? [];
    // where the proxy will send it: give that 192.0.2.x address to our loopback and listen there
    const next = vias.length >= 2 ? null : /^(?:via|v)[ \t]*:[ \t]*SIP\/2\.0\/UDP[ \t]+(192\.0\.2\.\d+)(?::(\d+))?/im.exec(text);
    if (next && !hopAddresses.has(`${next[1]}:${next[2] ?? 5060}`)) {
      hopAddresses.add(`${next[1]}:${next[2] ?? 5060}`);
      if (!execFileSync('ip', ['-4', 'addr', 'show', 'dev', 'lo']).toString().includes(`${next[1]}/32`)) {
        execFileSync('ip', ['addr', 'add', `${next[1]}/32`, 'dev', 'lo']);
      }
      const hop = createSocket('udp4');
      await new Promise((r) => hop.bind(Number(next[2] ?? 5060), next[1], r));
      hop.on('message', (m) => note(m.toString('latin1'), 'forward'));
      hops.push(hop);
    }
    if (vias.length >= 2) {
      // the top Via names the element the response was sent to (bcast: RFC 4475 3.3.10): that is us
      bytes = Buffer.from(text.replace(/^((?:via|v)[ \t]*:[ \t]*SIP\/2\.0\/UDP[ \t]+)[^;\s]+/im, `$1127.0.0.1:${PROXY}`), 'latin1');
    } else {
      const eol = text.indexOf('\r\n');
      bytes = Buffer.concat([bytes.subarray(0, eol + 2), Buffer.from(`Via: SIP/2.0/UDP 127.0.0.1:${PROXY};branch=z9hG4bKreplay${file.length}\r\n`), bytes.subarray(eol + 2)]);
    }
  }
  uac.send(bytes, PROXY, '127.0.0.1');
  await new Promise((r) => setTimeout(r, 40));
}
// a plain request after the torture: the proxy must still be serving
const probe = `OPTIONS sip:probe@127.0.0.1:${PROXY} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${uac.address().port};branch=z9hG4bKprobe;rport\r\nMax-Forwards: 70\r\nFrom: <sip:p@127.0.0.1>;tag=p\r\nTo: <sip:probe@127.0.0.1>\r\nCall-ID: healthy-after-torture\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
uac.send(probe, PROXY, '127.0.0.1');
await new Promise((r) => setTimeout(r, 800));

const outcomes = {};
for (const [file] of rows) {
  const bytes = readFileSync(join(corpus, file.replace(/^rfc4475\//, ''))).toString('latin1');
  outcomes[file.replace(/^rfc4475\//, '')] = byCallId.get(callIdOf(bytes)) ?? [];
}
proxy.kill('SIGTERM');
const code = await new Promise((r) => proxy.on('exit', r));
process.stdout.write(JSON.stringify({ outcomes, healthy: byCallId.get('healthy-after-torture') ?? [], exitCode: code, report: out, stderr: err }));
uac.close();
uas.close();
for (const h of hops) h.close();
