// loadConfig() as a whole: defaults, listen and advertise addresses, unknown variables, freezing.
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SiplbConfigError } from '../../../src/errors.js';
import { deepFreeze, loadConfig, reviveConfig } from '../../../src/config/load.js';
import { CONFIG_VARS, isFailoverStatus } from '../../../src/config/schema.js';

const root = join(import.meta.dirname, '..', '..', '..');

function errorOf(env: Record<string, string | undefined>): SiplbConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof SiplbConfigError) return err;
    throw err;
  }
  throw new Error('loadConfig accepted it');
}

describe('loadConfig defaults', () => {
  const config = loadConfig({});

  it('applies every documented default', () => {
    const { rrSecret, failoverCodes, allow, trusted, pingReplyCodes, ...rest } = config;
    expect([...pingReplyCodes.classes, ...pingReplyCodes.codes]).toEqual([]);
    expect(rest).toEqual({
      listen: [{ transport: 'udp', host: '127.0.0.1', address: '127.0.0.1', port: 5060, family: 4 }],
      advertise: { host: '127.0.0.1', port: 5060 },
      listFile: join(root, 'dispatcher.list'),
      dsLoadMode: 1,
      dbUrl: '',
      dsDnsInterval: 600,
      dnsServers: [],
      dbTable: 'dispatcher',
      dbColumns: { id: 'id', setid: 'setid', destination: 'destination', flags: 'flags', priority: 'priority', attrs: 'attrs', description: 'description' },
      set: 1,
      alg: 4,
      limit: 0,
      flags: 2,
      useDefault: false,
      hashMode: 'rehash',
      hashTemplate: '$ci',
      dsHashExpire: 7200,
      dsHashInitExpire: 7200,
      mode: 'stateful',
      routes: undefined,
      workers: 0,
      workerSend: 'direct',
      recordRoute: true,
      forceRport: true,
      frTimer: 5000,
      frInvTimer: 120000,
      t1: 500,
      t2: 4000,
      markFailed: 'ip',
      pingInterval: 5,
      pingMethod: 'OPTIONS',
      pingFrom: 'sip:dispatcher@localhost',
      pingTimeout: 2000,
      probingThreshold: 1,
      inactiveThreshold: 1,
      probingMode: 3,
      pingLatencyStats: true,
      latencyEstimatorAlpha: 900,
      adminToken: undefined,
      admin: { host: '127.0.0.1', port: 5081 },
      registerSets: new Map(),
      registerAllow: { text: '', blocks: [] },
      registerMax: 64,
      registerMinExpires: 60,
      registerMaxExpires: 3600,
      noDestCode: 503,
      noDestReason: 'Service Unavailable',
      maxMessageSize: 65535,
      failoverAfterProvisional: false,
      foreignRoute: 'reject',
      floodLimit: 200,
      floodWindow: 1000,
      floodBlock: 60,
      scannerUserAgents: ['friendly-scanner', 'sipvicious', 'sipcli', 'vaxsipuseragent', 'sundayddr', 'iwar', 'sip-scan', 'sivus', 'pplsip', 'siparmyknife', 'smap'],
      maxTransactions: 250000,
      overloadDelay: 100,
      overloadRetryAfter: 0,
      warmupCalls: 2000,
      drainTimeout: 5000,
      socketBuffer: 4194304,
      reusePort: false,
      logLevel: 'info',
      serverHeader: 'siplb',
      eventWebhook: '',
      eventCommand: '',
      eventQueue: 1000,
      eventRetries: 8,
      maxDestinations: 1024,
      reloadDelta: 5,
      watchList: false,
      stateFile: '',
      stateInterval: 30,
    });
    expect([...failoverCodes.codes]).toEqual([408]);
    expect([...failoverCodes.classes]).toEqual([5]);
    expect(rrSecret.length).toBeGreaterThanOrEqual(16);
    expect(allow.blocks).toEqual([]);
    expect(trusted.blocks.map((b) => b.prefix)).toEqual([8, 128]);
  });

  it('has one field per documented variable', () => {
    expect(Object.keys(config)).toHaveLength(CONFIG_VARS.length);
  });

  it('generates a fresh RR secret per start when none is set', () => {
    expect(loadConfig({}).rrSecret).not.toBe(config.rrSecret);
  });

  it('ignores variables without a value and other programs\' variables', () => {
    expect(loadConfig({ SIPLB_ALG: undefined, PATH: '/bin', NODE_ENV: 'production' }).alg).toBe(4);
  });
});

describe('SIPLB_LISTEN and SIPLB_ADVERTISE', () => {
  it('parses bracketed IPv6 with and without the udp: prefix', () => {
    const { listen, advertise } = loadConfig({ SIPLB_LISTEN: 'udp:[::1]:5060,[FE80::1]:5062' });
    expect(listen).toEqual([
      { transport: 'udp', host: '[::1]', address: '::1', port: 5060, family: 6 },
      { transport: 'udp', host: '[fe80::1]', address: 'fe80::1', port: 5062, family: 6 },
    ]);
    expect(advertise).toEqual({ host: '[::1]', port: 5060 });
  });

  it('keeps several addresses in order, spaces and UDP: case allowed', () => {
    const { listen } = loadConfig({ SIPLB_LISTEN: 'UDP:10.0.0.1:5060, 10.0.0.2:5060 ,udp:[2001:db8::1]:5080' });
    expect(listen.map((a) => `${a.family} ${a.host} ${a.port}`)).toEqual(['4 10.0.0.1 5060', '4 10.0.0.2 5060', '6 [2001:db8::1] 5080']);
  });

  it('keeps the case of an IPv6 zone (interface names are case-sensitive)', () => {
    const [a] = loadConfig({ SIPLB_LISTEN: '[FE80::1%Eth0]:5060', SIPLB_ADVERTISE: '[fe80::1]' }).listen;
    expect(a).toMatchObject({ host: '[fe80::1%Eth0]', address: 'fe80::1%Eth0', family: 6 });
  });

  it('allows one host on two ports', () => {
    expect(loadConfig({ SIPLB_LISTEN: '127.0.0.1:5060,127.0.0.1:5061' }).listen).toHaveLength(2);
  });

  it('requires SIPLB_ADVERTISE when the first listen address is a wildcard', () => {
    for (const listen of ['0.0.0.0:5060', '[::]:5060']) {
      const err = errorOf({ SIPLB_LISTEN: listen });
      expect(err.variable).toBe('SIPLB_ADVERTISE');
      expect(err.message).toContain('required when the first SIPLB_LISTEN address is');
    }
  });

  it('takes the advertised port from the first listen address unless given', () => {
    const env = { SIPLB_LISTEN: '0.0.0.0:5080,127.0.0.1:5090' };
    expect(loadConfig({ ...env, SIPLB_ADVERTISE: 'lb.example.com' }).advertise).toEqual({ host: 'lb.example.com', port: 5080 });
    expect(loadConfig({ ...env, SIPLB_ADVERTISE: '[2001:DB8::5]:5070' }).advertise).toEqual({ host: '[2001:db8::5]', port: 5070 });
  });
});

describe('SIPLB_LIST_FILE and SIPLB_FAILOVER_CODES', () => {
  it('resolves a relative list file from the working directory', () => {
    const rel = relative(process.cwd(), join(root, 'dispatcher.list'));
    expect(loadConfig({ SIPLB_LIST_FILE: rel }).listFile).toBe(join(root, 'dispatcher.list'));
  });

  it('parses codes and classes into sets the predicate reads', () => {
    const { failoverCodes } = loadConfig({ SIPLB_FAILOVER_CODES: '5XX, 408,3xx,480' });
    expect([...failoverCodes.codes]).toEqual([408, 480]);
    expect([...failoverCodes.classes]).toEqual([5, 3]);
    expect([503, 599, 408, 480, 302].every((s) => isFailoverStatus(failoverCodes, s))).toBe(true);
    expect([200, 404, 486, 487, 603].some((s) => isFailoverStatus(failoverCodes, s))).toBe(false);
  });

  it('empty failover codes mean timeouts only', () => {
    const { failoverCodes } = loadConfig({ SIPLB_FAILOVER_CODES: '' });
    expect(failoverCodes.codes.size + failoverCodes.classes.size).toBe(0);
    expect(isFailoverStatus(failoverCodes, 503)).toBe(false);
  });
});

describe('unknown SIPLB_* variables', () => {
  it('are refused with the known names listed and the nearest one suggested', () => {
    const err = errorOf({ SIPLB_ALGO: '4' });
    expect(err.variable).toBe('SIPLB_ALGO');
    expect(err.message).toContain('SIPLB_ALGO: unknown variable (did you mean SIPLB_ALG?)');
    for (const v of CONFIG_VARS) expect(err.message).toContain(v.name);
  });

  it('catch a lower-case spelling, and report every unknown name', () => {
    const err = errorOf({ siplb_workers: '2', SIPLB_NOPE_AT_ALL_XYZ: '1' });
    expect(err.variable).toBe('siplb_workers');
    expect(err.message).toContain('did you mean SIPLB_WORKERS?');
    expect(err.message).toContain('also unknown: SIPLB_NOPE_AT_ALL_XYZ');
  });

  it('without a close match, list the known ones only', () => {
    expect(errorOf({ SIPLB_COMPLETELY_DIFFERENT: '1' }).message).not.toContain('did you mean');
  });
});

describe('freezing', () => {
  const config = loadConfig({ SIPLB_LISTEN: '127.0.0.1:5060,[::1]:5060' });

  it('freezes the whole graph, sets included', () => {
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.listen)).toBe(true);
    expect(Object.isFrozen(config.listen[1])).toBe(true);
    expect(Object.isFrozen(config.advertise)).toBe(true);
    expect(Object.isFrozen(config.failoverCodes)).toBe(true);
    expect(() => {
      (config as { workers: number }).workers = 4;
    }).toThrow(TypeError);
    expect(() => (config.listen as unknown[]).push({})).toThrow(TypeError);
    expect(() => (config.failoverCodes.codes as Set<number>).add(404)).toThrow(TypeError);
    expect(() => (config.failoverCodes.classes as Set<number>).clear()).toThrow(TypeError);
    expect(config.failoverCodes.classes.has(5)).toBe(true);
  });

  it('reviveConfig re-freezes a structured clone (what a worker receives)', () => {
    const clone = structuredClone(config);
    expect(Object.isFrozen(clone)).toBe(false);
    const revived = reviveConfig(clone);
    expect(revived).toEqual(config);
    expect(Object.isFrozen(revived.listen[0])).toBe(true);
    expect(() => (revived.failoverCodes.codes as Set<number>).add(404)).toThrow(TypeError);
    expect(isFailoverStatus(revived.failoverCodes, 502)).toBe(true);
  });

  it('deepFreeze leaves primitives alone', () => {
    expect(deepFreeze(3)).toBe(3);
    expect(deepFreeze(null)).toBe(null);
  });
});
