// SIPLB_LISTEN with an IPv4 and an IPv6 address: a call on ::1 to an IPv6 destination leaves from
// the IPv6 socket with an IPv6 Via and Record-Route, and comes back the same way.
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { freeUdpPort, startProxy, writeList, type ProxyProcess } from '../../helpers/proxy-process.js';
import { headerValues } from '../../helpers/sip-messages.js';
import { answer } from '../../helpers/udp-peer.js';

const open: Array<Socket | ProxyProcess> = [];
afterEach(async () => {
  for (const x of open.splice(0)) {
    if ('stop' in x) await x.stop();
    else x.close();
  }
});

async function bind6(): Promise<Socket> {
  const s = createSocket('udp6');
  await new Promise<void>((r) => s.bind(0, '::1', r));
  open.push(s);
  return s;
}

const until = async (pred: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('dual-stack listening (udp:127.0.0.1 and udp:[::1])', () => {
  it.each([['0'], ['2']])('SIPLB_WORKERS=%s: an IPv6 call goes out and back over IPv6', async (workers) => {
    const uas = await bind6();
    const uac = await bind6();
    const atUas: string[] = [];
    uas.on('message', (m, r) => {
      const text = m.toString('latin1');
      atUas.push(text);
      if (text.startsWith('INVITE')) uas.send(answer(text, 200, 'OK', { toTag: 'v6', contact: `<sip:ms@[::1]:${uas.address().port}>` }), r.port, r.address);
    });
    const atUac: string[] = [];
    uac.on('message', (m) => atUac.push(m.toString('latin1')));
    const port6 = await freeUdpPort();
    const proxy = await startProxy({ SIPLB_LIST_FILE: writeList(`1 sip:[::1]:${uas.address().port}\n`), SIPLB_WORKERS: workers }, [`udp:[::1]:${port6}`]);
    open.unshift(proxy);
    const invite = [
      `INVITE sip:service@[::1]:${port6} SIP/2.0`,
      `Via: SIP/2.0/UDP [::1]:${uac.address().port};branch=z9hG4bK-v6-1;rport`,
      'Max-Forwards: 70',
      'From: <sip:alice@[::1]>;tag=v6a',
      'To: <sip:service@[::1]>',
      'Call-ID: v6-call-1',
      'CSeq: 1 INVITE',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    uac.send(invite, port6, '::1');
    await until(() => atUac.some((t) => t.startsWith('SIP/2.0 200')));
    const fwd = atUas.find((t) => t.startsWith('INVITE'))!;
    expect(headerValues(fwd, 'Via')[0]).toMatch(new RegExp(`^SIP/2\\.0/UDP \\[::1\\]:${port6};branch=`));
    expect(headerValues(fwd, 'Record-Route')[0]).toMatch(new RegExp(`^<sip:\\[::1\\]:${port6};lr;slb=`));
    const ok = atUac.find((t) => t.startsWith('SIP/2.0 200'))!;
    expect(headerValues(ok, 'Via')).toEqual([`SIP/2.0/UDP [::1]:${uac.address().port};branch=z9hG4bK-v6-1;rport=${uac.address().port}`]);
  });
});
