// The built CLI end to end: bin/siplb.js → dist/src/main.js → the wasm parser. The global setup
// builds what is stale first, so this runs current code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeResult, ROOT, runCli } from '../helpers/run-cli.js';

const fixture = (name: string): string => join(ROOT, 'test', 'fixtures', 'cli', name);

describe('siplb parse', () => {
  it('prints a valid INVITE with its headers and summary (exit 0)', async () => {
    const r = await runCli(['parse', fixture('invite.sip')]);
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('INVITE sip:bob@biloxi.example.com SIP/2.0\n');
    expect(r.stdout).toContain('Call-ID: a84b4c76e66710@pc33.atlanta.example.com\n');
    expect(r.stdout).toMatch(/call-id\s+a84b4c76e66710@pc33\.atlanta\.example\.com/);
    expect(r.stdout).toMatch(/via \(1 of 2\)\s+transport=UDP host=pc33\.atlanta\.example\.com port=5060 branch=z9hG4bK776asdhds/);
    expect(r.stdout).toMatch(/rport=\(no value\)/);
    expect(r.stdout).toMatch(/cseq\s+314159 INVITE/);
    expect(r.stdout).toMatch(/from\s+"Alice" <sip:alice@atlanta\.example\.com> tag=1928301774/);
    expect(r.stdout).toMatch(/to\s+Bob <sip:bob@biloxi\.example\.com> tag=-/);
    expect(r.stdout).toMatch(/max-forwards\s+70/);
    expect(r.stdout).toMatch(/body\s+134 bytes/);
  });

  it('prints a response given in compact forms', async () => {
    const r = await runCli(['parse', fixture('ringing.sip')]);
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toContain('SIP/2.0 180 Ringing\n');
    expect(r.stdout).toMatch(/status\s+180 Ringing/);
    expect(r.stdout).toMatch(/call-id\s+a84b4c76e66710@pc33\.atlanta\.example\.com/);
    expect(r.stdout).toMatch(/received=192\.0\.2\.10 rport=5060/);
  });

  it('--json prints message.toJSON() with the Call-ID', async () => {
    const r = await runCli(['parse', '--json', fixture('invite.sip')]);
    expect(r.code, describeResult(r)).toBe(0);
    const json = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(json.callId).toBe('a84b4c76e66710@pc33.atlanta.example.com');
  });

  it('reads stdin for "-"', async () => {
    const r = await runCli(['parse', '-'], { input: readFileSync(fixture('invite.sip')) });
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toContain('Call-ID: a84b4c76e66710@pc33.atlanta.example.com');
  });

  it('reports a bad SIP version as malformed (exit 1)', async () => {
    const r = await runCli(['parse', fixture('bad-version.sip')]);
    expect(r.code, describeResult(r)).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^malformed: .+ \(ERR_VERSION, offset \d+(, header [\w-]+)?\)\n$/);
  });

  it('--json reports the parse error as JSON on stdout (exit 1)', async () => {
    const r = await runCli(['parse', '--json', fixture('missing-via.sip')]);
    expect(r.code, describeResult(r)).toBe(1);
    const json = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ ok: false, name: 'ERR_MISSING_VIA', status: 400 });
    expect(Object.keys(json).sort()).toEqual(['code', 'header', 'name', 'offset', 'ok', 'reason', 'status']);
    expect(r.stderr).toContain('malformed: ');
  });

  it('exits 2 without an input', async () => {
    const r = await runCli(['parse']);
    expect(r.code, describeResult(r)).toBe(2);
    expect(r.stderr).toContain('usage: siplb parse');
  });

  it('exits 2 on an unknown option or an unreadable file', async () => {
    const flag = await runCli(['parse', '--yaml', fixture('invite.sip')]);
    expect(flag.code, describeResult(flag)).toBe(2);
    expect(flag.stderr).toContain("unknown option '--yaml'");
    const missing = await runCli(['parse', fixture('no-such-file.sip')]);
    expect(missing.code, describeResult(missing)).toBe(2);
    expect(missing.stderr).toContain('ENOENT');
  });
});

describe('siplb', () => {
  it('exits 2 without a command and on an unknown command', async () => {
    for (const args of [[], ['start-it']]) {
      const r = await runCli(args);
      expect(r.code, describeResult(r)).toBe(2);
      expect(r.stderr).toContain("Run 'siplb --help' for usage.");
    }
  });

  it('--help lists parse, --version prints the package version', async () => {
    const help = await runCli(['--help']);
    expect(help.code, describeResult(help)).toBe(0);
    expect(help.stdout).toContain('parse [--json] FILE|-');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const version = await runCli(['--version']);
    expect(version.stdout).toBe(`siplb ${pkg.version}\n`);
  });
});
