import { describe, expect, it } from 'vitest';
import { SiplbConfigError } from '../../../src/errors.js';
import { parseDispatcherList, MAX_LINE } from '../../../src/dispatch/list-file.js';

const FILE = '/etc/siplb/dispatcher.list';
const parse = (text: string, loadMode: 0 | 1 = 1) => parseDispatcherList(text, { file: FILE, loadMode });
const one = (line: string) => {
  const { destinations, warnings } = parse(line);
  expect(destinations).toHaveLength(1);
  return { d: destinations[0]!, warnings };
};

describe('parseDispatcherList: good lines', () => {
  it('reads the DISPATCHER.md example, comments and blank lines included', () => {
    const text = [
      '# media servers',
      '',
      '1 sip:10.0.1.10:5060 0 10 weight=50;maxload=200;duid=ms1',
      '   1\tsip:10.0.1.11:5060   0 5  weight=25   # second one',
      '2 sip:trunk-a.example.com:5060 8 0 rweight=50;socket=udp:10.0.0.1:5060',
      '\t  # indented comment',
    ].join('\r\n');
    const { destinations, warnings } = parse(text);
    expect(warnings).toEqual([]);
    expect(destinations.map((d) => [d.setId, d.uri, d.flags, d.priority, d.line])).toEqual([
      [1, 'sip:10.0.1.10:5060', 0, 10, 3],
      [1, 'sip:10.0.1.11:5060', 0, 5, 4],
      [2, 'sip:trunk-a.example.com:5060', 8, 0, 5],
    ]);
    const [a, b, c] = destinations as [(typeof destinations)[0], (typeof destinations)[0], (typeof destinations)[0]];
    expect([a.attrs.weight, a.attrs.maxload, a.attrs.duid]).toEqual([50, 200, 'ms1']);
    expect(b.attrs.weight).toBe(25);
    expect([c.attrs.rweight, c.attrs.socket]).toEqual([50, 'udp:10.0.0.1:5060']);
  });

  it('fills defaults: flags 0, priority 0, empty attrs, port and transport from the scheme', () => {
    const { d } = one('3 sip:media.example.com');
    expect(d).toMatchObject({ setId: 3, scheme: 'sip', host: 'media.example.com', address: 'media.example.com', port: 5060, transport: 'udp', flags: 0, priority: 0 });
    expect(d.attrs.raw).toBe('');
    expect(one('3 sips:media.example.com').d).toMatchObject({ scheme: 'sips', port: 5061, transport: 'tls' });
  });

  it('puts sip: in front of a URI without scheme', () => {
    expect(one('1 10.0.0.7:5070').d).toMatchObject({ uri: 'sip:10.0.0.7:5070', host: '10.0.0.7', port: 5070 });
    expect(one('1 media-1.example.com').d.uri).toBe('sip:media-1.example.com');
  });

  it('reads flags in decimal and 0x hex, and negative priorities (database rows may have them)', () => {
    expect(one('1 sip:a.test 0x1A 7').d).toMatchObject({ flags: 26, priority: 7 });
    expect(one('1 sip:a.test 0X8 -3').d).toMatchObject({ flags: 8, priority: -3 });
  });

  it('parses IPv6 references, keeping brackets in host and not in address', () => {
    expect(one('1 sip:[2001:db8::10]:5080').d).toMatchObject({ host: '[2001:db8::10]', address: '2001:db8::10', port: 5080 });
    expect(one('1 [::1]').d).toMatchObject({ uri: 'sip:[::1]', host: '[::1]', address: '::1', port: 5060 });
  });

  it('reads transport, user and other URI parameters', () => {
    expect(one('1 sip:gw@10.0.0.1:5070;transport=TCP;lr').d).toMatchObject({ user: 'gw', transport: 'tcp', port: 5070 });
    expect(one('1 sips:10.0.0.1;transport=tls').d.transport).toBe('tls');
  });

  it('types every known attr, names in any case, and keeps unknown ones in order', () => {
    const attrs =
      'DUID=ms1;maxload=20;Weight=40;rweight=30;cc=1;latency=120;socket=udp:10.0.0.1:5060;sockname=s1;ping_socket=udp:10.0.0.1:5070;' +
      'ping_from=sip:probe@lb.example.com;obproxy=sip:10.0.0.254;ocmin=10;ocmax=90;ocrate=50;prefix=99;strip=2;zone=eu;Rack="r1;r2";flag;';
    const { d, warnings } = one(`1 sip:a.test 0 0 ${attrs}`);
    expect(warnings).toEqual([]);
    const { extra, ...typed } = d.attrs;
    expect(typed).toEqual({
      raw: attrs.slice(0, -1), duid: 'ms1', maxload: 20, weight: 40, rweight: 30, cc: 1, latency: 120,
      socket: 'udp:10.0.0.1:5060', sockname: 's1', pingSocket: 'udp:10.0.0.1:5070', pingFrom: 'sip:probe@lb.example.com',
      obproxy: 'sip:10.0.0.254', ocmin: 10, ocmax: 90, ocrate: 50, prefix: '99', strip: 2,
    });
    expect([...extra]).toEqual([['zone', 'eu'], ['Rack', 'r1;r2'], ['flag', '']]);
  });

  it('clamps weight/rweight outside 1..100 to 0 with a warning naming the line, and oc* as Kamailio', () => {
    const { d, warnings } = one('1 sip:a.test 0 0 weight=150;rweight=0;ocmax=0;ocmin=120;ocrate=200');
    expect([d.attrs.weight, d.attrs.rweight]).toEqual([0, 0]);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(`${FILE}:1: weight 150 not in 1-100 range: algorithm 9 ignores this destination`);
    expect([d.attrs.ocmax, d.attrs.ocmin, d.attrs.ocrate]).toEqual([100, 0, 0]);
    expect(one('1 sip:a.test 0 0 ocmin=20;ocmax=60;ocrate=80').d.attrs.ocrate).toBe(60);
  });

  it(`accepts a line of exactly ${MAX_LINE} characters`, () => {
    const head = '1 sip:a.test 0 0 note=';
    const line = head + 'x'.repeat(MAX_LINE - head.length);
    expect(line).toHaveLength(MAX_LINE);
    expect(one(line).d.attrs.extra.get('note')).toHaveLength(MAX_LINE - head.length);
  });
});

// Each bad line with the reason it must report.
const BAD: [string, string, RegExp][] = [
  ['set id not a number', 'x sip:a.test', /set id "x" is not a non-negative integer/],
  ['negative set id', '-1 sip:a.test', /set id "-1"/],
  ['no destination', '1', /missing destination after set id "1"/],
  ['foreign scheme', '1 tel:+15551234', /unsupported scheme "tel:"/],
  ['bad port', '1 sip:a.test:99999', /port "99999" is not a number from 1 to 65535/],
  ['empty port', '1 sip:a.test:', /port ""/],
  ['bad IPv4', '1 sip:10.0.0.300', /"10.0.0.300" is not a valid host name or IPv4 address/],
  ['bad host', '1 sip:bad!host', /not a valid host name/],
  ['IPv6 without brackets', '1 sip:2001:db8::1', /IPv6 address must be written in brackets/],
  ['unterminated IPv6', '1 sip:[2001:db8::1', /unterminated IPv6 reference/],
  ['not IPv6', '1 sip:[zz::1]', /"\[zz::1\]" is not an IPv6 address/],
  ['unknown transport', '1 sip:a.test;transport=quic', /unsupported transport "quic"/],
  ['sips over udp', '1 sips:a.test;transport=udp', /sips: destination cannot use transport=udp/],
  ['flags not a number', '1 sip:a.test 1x', /flags "1x" is not a decimal or 0x hex integer/],
  ['flags too large', '1 sip:a.test 0xFFFFFFFF', /flags "0xFFFFFFFF"/],
  ['priority not a number', '1 sip:a.test 0 high', /priority "high" is not an integer/],
  ['numeric attr not a number', '1 sip:a.test 0 0 maxload=lots', /maxload=lots is not a non-negative integer/],
  ['negative strip', '1 sip:a.test 0 0 strip=-1', /strip=-1 is not a non-negative integer/],
  ['weight not a number', '1 sip:a.test 0 0 weight=half', /weight=half is not an integer/],
  ['prefix with @', '1 sip:a.test 0 0 prefix=9@x', /prefix=9@x is not text allowed in a SIP URI user/],
  ['attr without name', '1 sip:a.test 0 0 =5', /"=5" has no name/],
  ['unterminated quote', '1 sip:a.test 0 0 note="abc', /unterminated quoted value/],
  ['text after attrs', '1 sip:a.test 0 0 weight=5 extra words', /unexpected "extra words" after attrs/],
  ['line too long', `1 sip:a.test 0 0 n=${'x'.repeat(MAX_LINE)}`, /line longer than 1024 characters/],
];

describe('parseDispatcherList: bad lines', () => {
  it.each(BAD)('%s: names file, line and reason', (_name, line, reason) => {
    const text = `# header\n1 sip:ok.test\n${line}\n`;
    let err: unknown;
    try {
      parse(text, 1);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SiplbConfigError);
    const e = err as SiplbConfigError;
    expect(e.variable).toBe('SIPLB_LIST_FILE');
    expect(e.message).toContain(`${FILE}:3: `);
    expect(e.message).toMatch(reason);
  });

  it('load mode 1 lists every bad line in one error and loads nothing', () => {
    const text = '1 sip:a.test\nbad\n2 sip:b.test 0 x\n3 sip:c.test\n';
    expect(() => parse(text, 1)).toThrow(/2 bad lines in \/etc\/siplb\/dispatcher.list, list not loaded:\n {2}\S+:2: .*\n {2}\S+:3: priority "x"/);
  });

  it('load mode 0 skips each bad line with one warning and keeps the good ones', () => {
    const text = '1 sip:a.test\nbad\n2 sip:b.test 0 x\n3 sip:c.test 0 0 weight=0\n';
    const { destinations, warnings } = parse(text, 0);
    expect(destinations.map((d) => d.host)).toEqual(['a.test', 'c.test']);
    expect(warnings).toEqual([
      `${FILE}:2: missing destination after set id "bad" (line skipped)`,
      `${FILE}:3: priority "x" is not an integer up to 2147483647 (line skipped)`,
      `${FILE}:4: weight 0 not in 1-100 range: algorithm 9 ignores this destination`,
    ]);
  });

  it('counts lines the same with LF, CRLF and a missing final newline', () => {
    for (const eol of ['\n', '\r\n']) {
      const { warnings } = parse(['1 sip:a.test', '', 'oops sip:b.test'].join(eol), 0);
      expect(warnings[0]).toMatch(`${FILE}:3: set id "oops"`);
    }
  });
});
