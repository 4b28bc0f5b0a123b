import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ERROR_CODES,
  SiplbBindError,
  SiplbConfigError,
  SiplbCtlError,
  SiplbReloadError,
  SiplbDbError,
  SiplbError,
  SiplbStaleMessageError,
  SiplbUsageError,
  SiplbWasmError,
} from '../../src/errors.js';

const root = join(import.meta.dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

describe('error codes', () => {
  it('are unique and follow SIPLB_ERR_*', () => {
    const codes = ERROR_CODES.map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^SIPLB_ERR_[A-Z0-9_]+$/);
  });

  it('each have a one-line description', () => {
    for (const { code, description } of ERROR_CODES) {
      expect(description.length, code).toBeGreaterThan(10);
      expect(description, code).not.toMatch(/\n/);
    }
  });

  it.each(ERROR_CODES.map((e) => e.code))('%s is documented in the README', (code) => {
    expect(readme).toContain(`\`${code}\``);
  });

  it('every code the README documents exists', () => {
    const documented = new Set(readme.match(/SIPLB_ERR_[A-Z0-9_]+/g) ?? []);
    const known = new Set<string>(ERROR_CODES.map((e) => e.code));
    for (const code of documented) expect(known, `README mentions unknown ${code}`).toContain(code);
  });

  it('every subclass carries its code and is covered by the list', () => {
    const errors: SiplbError[] = [
      new SiplbUsageError('bad flag'),
      new SiplbConfigError('SIPLB_WORKERS', 'expected an integer from 0 to 64'),
      new SiplbBindError('SIPLB_LISTEN', 'udp:127.0.0.1:5060', 'EADDRINUSE'),
      new SiplbWasmError('could not instantiate', { cause: new Error('boom') }),
      new SiplbStaleMessageError(),
      new SiplbCtlError('no siplb control channel on 127.0.0.1:5081 (SIPLB_ADMIN): ECONNREFUSED'),
      new SiplbReloadError('reload refused: the last one was 1.0 s ago and SIPLB_RELOAD_DELTA is 5 s; try again in 4 s'),
      new SiplbDbError('SIPLB_DB_URL', 'cannot connect to postgres at 127.0.0.1:5432: connection refused (ECONNREFUSED)', 'ECONNREFUSED'),
    ];
    const codes = errors.map((e) => e.code);
    expect(new Set(codes).size).toBe(errors.length);
    expect(codes.toSorted()).toEqual(ERROR_CODES.map((e) => e.code).toSorted());
    for (const e of errors) {
      expect(e).toBeInstanceOf(SiplbError);
      expect(e).toBeInstanceOf(Error);
      expect(e.name).toBe(e.constructor.name);
    }
  });

  it('SiplbConfigError names the variable', () => {
    const e = new SiplbConfigError('SIPLB_WORKERS', 'expected an integer from 0 to 64, got "x"');
    expect(e.variable).toBe('SIPLB_WORKERS');
    expect(e.message).toContain('SIPLB_WORKERS');
  });

  it('SiplbBindError names the variable, the address and the system code, in words where it can', () => {
    const cause = Object.assign(new Error('bind EADDRINUSE 127.0.0.1:5060'), { code: 'EADDRINUSE' });
    const e = new SiplbBindError('SIPLB_LISTEN', 'udp:127.0.0.1:5060', 'EADDRINUSE', { cause });
    expect(e.message).toBe('SIPLB_LISTEN: cannot bind udp:127.0.0.1:5060: address already in use (EADDRINUSE)');
    expect([e.variable, e.address, e.errno, e.cause]).toEqual(['SIPLB_LISTEN', 'udp:127.0.0.1:5060', 'EADDRINUSE', cause]);
    expect(new SiplbBindError('SIPLB_LISTEN', 'udp:[::1]:5060', 'EADDRNOTAVAIL').message).toContain('address not available on this host (EADDRNOTAVAIL)');
    expect(new SiplbBindError('SIPLB_LISTEN', 'udp:127.0.0.1:80', 'EACCES').message).toContain('permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE) (EACCES)');
    expect(new SiplbBindError('SIPLB_LISTEN', 'udp:127.0.0.1:5060', 'EINVAL').message).toBe('SIPLB_LISTEN: cannot bind udp:127.0.0.1:5060: bind failed (EINVAL)');
  });

  it('SiplbWasmError keeps its cause', () => {
    const cause = new Error('CompileError');
    expect(new SiplbWasmError('failed', { cause }).cause).toBe(cause);
  });
});
