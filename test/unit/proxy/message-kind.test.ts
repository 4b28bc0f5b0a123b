// The per-method and per-class counters' classifier: exact names only, garbage is OTHER / other,
// and the counters' snapshots merge across threads, per destination slot too.
import { describe, expect, it } from 'vitest';
import { CLASSES, METHODS, classIndex, methodIndex } from '../../../src/proxy/message-kind.js';
import { Counters, mergeSnapshots } from '../../../src/proxy/counters.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('methodIndex', () => {
  it('every counted method by its exact name', () => {
    for (const m of METHODS.slice(1)) expect(METHODS[methodIndex(b(`${m} sip:x SIP/2.0\r\n`))]).toBe(m);
  });
  it('lookalikes, lower case, unknown methods and garbage are OTHER', () => {
    for (const s of ['INVITX sip:x SIP/2.0', 'invite sip:x SIP/2.0', 'FOO sip:x SIP/2.0', 'INFOS sip:x', 'ACK', '', 'SUBSCRIBES sip:x', ' INVITE sip:x']) {
      expect(methodIndex(b(s))).toBe(0);
    }
  });
});

describe('classIndex', () => {
  it('the first digit of the status code', () => {
    for (let c = 1; c <= 6; c++) expect(CLASSES[classIndex(b(`SIP/2.0 ${c}00 Whatever\r\n`))]).toBe(`${c}xx`);
  });
  it('a status line that does not parse is other', () => {
    for (const s of ['SIP/2.0 700 X\r\n', 'SIP/2.0 0', 'XIP/2.0 200 OK\r\n', 'SIP/2.0200 OK\r\n']) expect(classIndex(b(s))).toBe(0);
  });
});

describe('Counters per method, class and destination', () => {
  it('snapshots of two threads add up', () => {
    const x = new Counters(3);
    const y = new Counters(3);
    x.requestIn(b('INVITE sip:a SIP/2.0\r\n'));
    y.requestIn(b('INVITE sip:a SIP/2.0\r\n'));
    x.requestOut(b('BYE sip:a SIP/2.0\r\n'), 2);
    y.requestOut(b('BYE sip:a SIP/2.0\r\n'), 2);
    y.requestOut(b('BYE sip:a SIP/2.0\r\n'), -1); // to no destination
    x.responseIn(b('SIP/2.0 486 Busy\r\n'), 1);
    y.responseOut(b('SIP/2.0 180 Ringing\r\n'));
    const m = mergeSnapshots([x.snapshot(), y.snapshot()]);
    expect(m.requestsIn.INVITE).toBe(2);
    expect(m.requestsOut.BYE).toBe(3);
    expect(m.responsesIn['4xx']).toBe(1);
    expect(m.responsesOut['1xx']).toBe(1);
    expect(m.destRequests).toEqual([0, 0, 2]);
    expect(m.destReplies[1 * CLASSES.length + 4]).toBe(1);
    expect(m.destReplies.reduce((s, v) => s + v, 0)).toBe(1);
  });
});
