// The probe worker's logic on a fake clock, with a real shared table and the real parser: pacing
// over the interval, RFC 3261 Timer E retransmissions, the timeout, reply matching by branch and
// nonce, reply codes, and the state and latency a result writes.
import { describe, expect, it } from 'vitest';
import { frozenSet, type ReplyCodes } from '../../../src/config/parse.js';
import { createParser } from '../../../src/parser/index.js';
import type { ProbeTarget } from '../../../src/probe/keepalive.js';
import { Prober, type ProberOptions } from '../../../src/probe/prober.js';
import { DS_DISABLED, DS_INACTIVE, DS_PROBING, stateLetters } from '../../../src/shared/dest-state.js';
import { DestTable } from '../../../src/shared/dest-table.js';
import { answer } from '../../helpers/udp-peer.js';

const parser = createParser();
const codes = (c: number[] = [], k: number[] = []): ReplyCodes => ({ codes: frozenSet(c), classes: frozenSet(k) });
const OPTS: ProberOptions = {
  intervalMs: 10_000,
  timeoutMs: 3000,
  t1: 500,
  t2: 4000,
  method: 'OPTIONS',
  probingMode: 3,
  replyCodes: codes(),
  latencyStats: true,
  alpha: 0.9,
  userAgent: 'siplb',
};

function targets(n: number): ProbeTarget[] {
  return Array.from({ length: n }, (_, i) => ({
    index: i,
    setId: 1,
    uri: `sip:10.0.0.${i + 1}:5060`,
    address: `10.0.0.${i + 1}`,
    port: 5060,
    socket: 0,
    via: '192.0.2.1:5060',
    from: 'sip:dispatcher@localhost',
    initialLatency: undefined,
  }));
}

interface Sent {
  text: string;
  address: string;
  at: number;
}

function rig(flags: number[], opts: Partial<ProberOptions> = {}, th = { probing: 1, inactive: 1 }) {
  const table = new DestTable(DestTable.create(flags, th));
  const sent: Sent[] = [];
  let now = 0;
  let started = false;
  const prober = new Prober(targets(flags.length), table, { ...OPTS, ...opts }, {
    send: (bytes, address) => sent.push({ text: Buffer.from(bytes).toString('latin1'), address, at: now }),
  });
  return {
    table,
    sent,
    prober,
    /** Advances the clock in 1 ms steps to `t`, ticking whenever something is due. */
    runTo(t: number) {
      if (!started) {
        started = true;
        prober.tick(now);
      }
      while (now < t) {
        now = Math.min(t, Math.max(now + 1, Math.ceil(prober.nextDue(now))));
        prober.tick(now);
      }
    },
    reply(req: Sent, status: number, at: number, reason = 'OK') {
      this.runTo(at);
      const m = parser.parse(Buffer.from(answer(req.text, status, reason), 'latin1'));
      if (!m.ok) throw new Error(m.reason);
      prober.onReply(m, now);
    },
    letters: (i: number) => stateLetters(table.flags(i)),
  };
}

describe('pacing', () => {
  it('spreads a round of 100 destinations over the interval, the first round over 1 s', () => {
    const r = rig(Array<number>(100).fill(DS_PROBING));
    const firsts = (): Sent[] => r.sent.filter((s, i) => r.sent.findIndex((o) => o.text === s.text) === i);
    r.runTo(999);
    expect(firsts()).toHaveLength(100); // all of the first round within a second
    firsts().forEach((s, i) => expect(s.at).toBe(i * 10)); // 10 ms apart
    // they are all answered, then the steady rounds: 10 per second, each destination once per round
    for (const s of firsts()) r.reply(s, 200, 999);
    r.sent.length = 0;
    r.runTo(1000 + 10_000 - 1);
    expect(firsts()).toHaveLength(100);
    for (let sec = 1; sec < 11; sec++) expect(firsts().filter((s) => s.at >= sec * 1000 && s.at < (sec + 1) * 1000)).toHaveLength(10);
    expect(new Set(firsts().map((s) => s.address)).size).toBe(100);
  });

  it('sends nothing while pinging is switched off, and pings none but those its mode names', () => {
    const r = rig([DS_PROBING, 0, DS_DISABLED | DS_PROBING, 32 | DS_PROBING]);
    r.prober.active = false;
    r.runTo(1500);
    expect(r.sent).toHaveLength(0);
    r.prober.active = true;
    r.runTo(11_000);
    expect(r.sent.map((s) => `${s.address}@${s.at}`)).toEqual(['10.0.0.1@11000']); // its slot of the first round after the switch
  });
});

describe('one keepalive', () => {
  it('is an OPTIONS with our Via, branch marker, rport, ping From and no Route', () => {
    const r = rig([DS_PROBING]);
    r.runTo(0);
    const text = r.sent[0]!.text;
    expect(text).toMatch(/^OPTIONS sip:10\.0\.0\.1:5060 SIP\/2\.0\r\n/);
    expect(text).toMatch(/\r\nVia: SIP\/2\.0\/UDP 192\.0\.2\.1:5060;branch=z9hG4bK-siplb-ka\.0\.1\.[0-9a-f]{16};rport\r\n/);
    expect(text).toMatch(/\r\nFrom: <sip:dispatcher@localhost>;tag=[0-9a-f]+\r\n/);
    expect(text).toMatch(/\r\nTo: <sip:10\.0\.0\.1:5060>\r\n/);
    expect(text).toMatch(/\r\nCall-ID: siplb-ka\.[0-9a-f]{32}\r\n/);
    expect(text).toMatch(/\r\nCSeq: 10 OPTIONS\r\n/);
    expect(text).not.toMatch(/\r\nRoute:/i);
    expect(parser.parse(Buffer.from(text, 'latin1')).ok).toBe(true);
  });

  it('unanswered: retransmitted at T1 doubling, then a failure at the timeout (trying, then inactive at the threshold)', () => {
    const r = rig([DS_PROBING], {}, { probing: 2, inactive: 1 });
    r.runTo(2999);
    expect(r.sent.map((s) => s.at)).toEqual([0, 500, 1500]);
    expect(r.letters(0)).toBe('AP');
    r.runTo(3000);
    expect(r.letters(0)).toBe('TP');
    expect(r.prober.counters.timeouts).toBe(1);
    r.runTo(1000 + 10_000 + 3000); // the next round's keepalive times out too
    expect(r.letters(0)).toBe('IP');
    expect(r.prober.latency(0)!.TIMEOUTS).toBe(2);
  });

  it('a 200 makes an inactive destination active (inactive threshold 1) and is a latency sample', () => {
    const r = rig([DS_PROBING | DS_INACTIVE]);
    r.runTo(1);
    r.reply(r.sent[0]!, 200, 43);
    expect(r.letters(0)).toBe('AP');
    expect(r.prober.latency(0)).toMatchObject({ COUNT: 1, AVERAGE: 43, ESTIMATE: 43, MIN: 43, MAX: 43 });
    expect(r.table.latency(0)).toMatchObject({ COUNT: 1, AVERAGE: 43 });
    r.runTo(999);
    expect(r.sent).toHaveLength(1); // answered: no retransmission before the next round
  });

  it('a provisional reply stops nothing: retransmissions continue at T2 until a final one', () => {
    const r = rig([DS_PROBING]);
    r.runTo(1);
    r.reply(r.sent[0]!, 100, 100, 'Trying');
    r.runTo(2999);
    expect(r.letters(0)).toBe('AP');
    r.runTo(3000);
    expect(r.letters(0)).toBe('IP');
  });

  it('a reply with a forged or stale branch is counted and ignored', () => {
    const r = rig([DS_PROBING | DS_INACTIVE]);
    r.runTo(1);
    const forged = { ...r.sent[0]!, text: r.sent[0]!.text.replace(/(branch=z9hG4bK-siplb-ka\.0\.1\.)[0-9a-f]{16}/, '$10123456789abcdef') };
    r.reply(forged, 200, 10);
    const other = { ...r.sent[0]!, text: r.sent[0]!.text.replace('siplb-ka.0.1.', 'siplb-ka.1.1.') };
    r.reply(other, 200, 11);
    expect(r.prober.counters.unmatched).toBe(2);
    expect(r.letters(0)).toBe('IP');
    r.reply(r.sent[0]!, 200, 12);
    r.reply(r.sent[0]!, 200, 13); // a retransmitted reply: its keepalive is finished
    expect(r.letters(0)).toBe('AP');
    expect(r.prober.counters.unmatched).toBe(3);
  });

  it.each([
    [480, codes(), 'IP'],
    [480, codes([480]), 'AP'],
    [404, codes([480], [4]), 'AP'],
    [503, codes([480], [4]), 'IP'],
    [299, codes(), 'AP'],
  ])('a %i reply with codes %o leaves the destination %s', (status, rc, letters) => {
    const r = rig([DS_PROBING], { replyCodes: rc });
    r.runTo(1);
    r.reply(r.sent[0]!, status, 5, 'X');
    expect(r.letters(0)).toBe(letters);
  });
});
