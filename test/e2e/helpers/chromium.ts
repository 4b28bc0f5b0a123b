// Debian's Chromium (package `chromium`) driven by playwright-core, for the live page's tests. The
// browser is the system's, not one playwright downloads: tests need no network. Missing Chromium
// fails under CI=true (DESIGN.md: no skips in CI) and is a visible skip elsewhere, as SIPp is.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_MISSING = `${CHROMIUM} not found (Debian package chromium: apt-get install chromium)`;

/** The version line of the installed Chromium, or undefined when there is none that runs. */
export function chromiumVersion(): string | undefined {
  if (!existsSync(CHROMIUM)) return undefined;
  const out = spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return /Chromium [0-9.]+/.exec(out.stdout ?? '')?.[0];
}

/** True when Chromium is there; throws under CI=true when it is not, else prints why and returns false. */
export function requireChromium(): boolean {
  if (chromiumVersion() !== undefined) return true;
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM_MISSING}; required under CI=true`);
  console.warn(`SKIP browser tests: ${CHROMIUM_MISSING}`);
  return false;
}

export function launchChromium(): Promise<Browser> {
  // --no-sandbox: the tests run as root, where Chromium refuses its sandbox
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: 20_000 });
}

/** Errors the page logs (console.error, failed loads) and throws (uncaught), as text, in order. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  return errors;
}
