/**
 * A real browser for the UI tests: Debian's chromium (`apt-get install chromium`) driven by
 * playwright-core, which never downloads a browser of its own. One browser per test file.
 * Screenshots go to test-output/ui/ (gitignored) for a person to look at.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT } from './cluster-harness';

/**
 * The browser's globals as the callbacks below use them (this project type-checks without the DOM
 * library; the callbacks run in the page).
 */
interface PageElement {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
  querySelectorAll(selector: string): Iterable<PageElement>;
}
interface PageGlobals {
  squallUi?: { refreshes: number; pageRefreshes: number; route: string };
  document: { querySelectorAll(selector: string): Iterable<PageElement> };
}

/** Bound of every browser wait (Playwright's default for a page's waits, clicks and navigations). */
export const BROWSER_WAIT_MS = 15_000;
/** Bound of chromium's start. */
export const BROWSER_LAUNCH_MS = 60_000;

export const CHROMIUM = process.env.SQUALL_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.join(ROOT, 'test-output', 'ui');

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];

export function chromiumAvailable(): boolean {
  return fs.existsSync(CHROMIUM);
}

/** `describe`, or `describe.skip` with the reason printed once when chromium is missing. */
export function describeWithBrowser(name: string, body: () => void): void {
  if (chromiumAvailable()) {
    describe(name, body);
    return;
  }
  process.stderr.write(`${name}: SKIPPED: no chromium at ${CHROMIUM} (install Debian's package: apt-get install -y chromium, or set SQUALL_CHROMIUM)\n`);
  describe.skip(name, body);
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: BROWSER_LAUNCH_MS });
}

/** A fresh page (its own storage) at 1280×900, failing the test on any page error. */
export async function newPage(browser: Browser, errors: string[]): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(BROWSER_WAIT_MS);
  const page = await context.newPage();
  page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    // a refused request (401, 404) is the browser's own note; the UI shows the coded error itself
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) errors.push(`console error: ${msg.text()}`);
  });
  return page;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * Opens a page of the UI (`hash`, e.g. `#/topology/x`) and waits until it has refreshed `n` times.
 * Going to another hash of the same document is no reload, so this waits on the UI's own count of
 * the page shown, not on the navigation.
 */
export async function openPage(page: Page, base: string, hash: string, n = 1, timeoutMs = BROWSER_WAIT_MS): Promise<void> {
  await page.goto(`${base}${hash}`);
  // a function, not a string: Playwright evaluates a string predicate with eval, which the page's CSP refuses
  await page.waitForFunction(
    ([route, k]) => {
      const ui = (globalThis as unknown as PageGlobals).squallUi;
      return ui !== undefined && ui.route === route && ui.pageRefreshes >= k;
    },
    [hash, n] as const,
    { timeout: timeoutMs, polling: 50 },
  );
}

/** Waits until the UI has finished `n` more refreshes than `since` (a named, bounded wait). */
export async function waitForRefreshes(page: Page, since: number, n = 1, timeoutMs = BROWSER_WAIT_MS): Promise<number> {
  const handle = await page.waitForFunction(
    ([s, k]) => {
      const ui = (globalThis as unknown as PageGlobals).squallUi;
      return ui && ui.refreshes >= s + k ? ui.refreshes : false;
    },
    [since, n] as const,
    { timeout: timeoutMs, polling: 50 },
  );
  return (await handle.jsonValue()) as number;
}

export async function refreshCount(page: Page): Promise<number> {
  return page.evaluate(() => (globalThis as unknown as PageGlobals).squallUi?.refreshes ?? 0);
}

/** How long the UI's last refresh took, fetch and render (ms). */
export async function lastRefreshMs(page: Page): Promise<number> {
  return Math.round((await page.evaluate('window.squallUi.lastRefreshMs')) as number);
}

/** The text of every cell of a table row, by column id. */
export async function rowCells(page: Page, table: string, key: string): Promise<Record<string, string>> {
  return page.evaluate(
    ([t, k]) => {
      const doc = (globalThis as unknown as PageGlobals).document;
      const row = [...doc.querySelectorAll(`table[data-table="${t}"] tbody tr`)].find((r) => r.dataset.key === k);
      if (!row) return {};
      const out: Record<string, string> = {};
      for (const td of row.querySelectorAll('td')) out[td.dataset.col ?? ''] = (td.textContent ?? '').trim();
      return out;
    },
    [table, key] as const,
  );
}

/** Waits until a table shows `n` rows (a named, bounded wait). */
export async function waitForRowCount(page: Page, table: string, n: number, timeoutMs = BROWSER_WAIT_MS): Promise<void> {
  await page.waitForFunction(
    ([t, k]) => [...(globalThis as unknown as PageGlobals).document.querySelectorAll(`table[data-table="${t}"] tbody tr[data-key]`)].length === k,
    [table, n] as const,
    { timeout: timeoutMs, polling: 50 },
  );
}

/** Keys of the rows a table shows now. */
export async function rowKeys(page: Page, table: string): Promise<string[]> {
  return page.$$eval(`table[data-table="${table}"] tbody tr[data-key]`, (rows) => rows.map((r) => (r as unknown as PageElement).dataset.key ?? ''));
}

/** `12,345` → 12345. */
export function figure(text: string | undefined): number {
  return Number((text ?? '').replace(/,/g, ''));
}
