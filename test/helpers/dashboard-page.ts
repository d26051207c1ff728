/**
 * A dashboard page in the browser test (test/integration/dashboard-browser.test.ts): opened in a new
 * tab with its dialogs, errors, requested URLs and token prompts recorded, given tokens when it asks,
 * and where its screenshots go.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { Browser } from './browser.js';

export interface PageWatch {
  readonly dialogs: string[];
  readonly errors: string[];
  /** Every URL the page requested. */
  readonly urls: string[];
  /** The token panel's message each time it was shown. */
  readonly asked: string[];
}

/**
 * The longest wait for a page to paint or to ask for a token, ms: an upper bound on a positive
 * signal, never a sleep. Chromium on a 2-core box running three test files at once took over 20 s
 * to paint twice (load average 15-20); a quiet box paints in well under a second.
 */
const PAGE_READY_TIMEOUT_MS = 60_000;

/** Waits until the page is painted (returns true) or shows the token panel (returns false). */
async function paintedOrAsking(page: Page): Promise<boolean> {
  const handle = await page.waitForFunction(
    () => {
      if ((window as unknown as { herdDashboardReady?: boolean }).herdDashboardReady === true) return 'ready';
      return document.documentElement.dataset.auth === 'needed' ? 'asking' : false;
    },
    null,
    { timeout: PAGE_READY_TIMEOUT_MS },
  );
  return (await handle.jsonValue()) === 'ready';
}

/**
 * Opens `url` in a new tab, records dialogs (dismissed), page errors, console errors and requested
 * URLs; gives the page `tokens`, one each time it asks; waits for ready.
 */
export async function openDashboard(
  browser: Browser,
  url: string,
  tokens: readonly string[] = [],
): Promise<{ page: Page; watch: PageWatch }> {
  const page = await browser.context.newPage();
  const watch: PageWatch = { dialogs: [], errors: [], urls: [], asked: [] };
  page.on('request', (request) => watch.urls.push(request.url()));
  page.on('dialog', (dialog) => {
    watch.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => watch.errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') watch.errors.push(`console: ${message.text()}`);
  });
  await page.addInitScript(() => {
    const violations: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = violations;
    document.addEventListener('securitypolicyviolation', (event) =>
      violations.push(`${event.violatedDirective} ${event.blockedURI}`),
    );
  });
  await page.goto(url);
  for (const token of tokens) {
    if (await paintedOrAsking(page)) break;
    watch.asked.push((await page.textContent('#token-message')) ?? '');
    await page.fill('#token', token);
    // The panel empties its field once it took the token. Wait for that, not for the panel to hide:
    // a request refused just before may show it again at once for the next token, and a poll that
    // comes late (a loaded box) would never see it hidden.
    await page.click('#token-submit');
    await page.waitForFunction(() => (document.getElementById('token') as HTMLInputElement).value === '', null, {
      timeout: PAGE_READY_TIMEOUT_MS,
    });
  }
  assert.ok(await paintedOrAsking(page), `the page still asks for a token after ${tokens.length}`);
  return { page, watch };
}

/**
 * The folder of the screenshots: HERD_DASHBOARD_SCREENSHOT (`1`: docs/images), else a temporary one,
 * which `remove` deletes (a folder that was asked for is kept).
 */
export async function screenshotDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const wanted = process.env.HERD_DASHBOARD_SCREENSHOT;
  if (wanted !== undefined && wanted !== '' && wanted !== '0') {
    const dir = path.resolve(wanted === '1' ? path.join('docs', 'images') : wanted);
    await mkdir(dir, { recursive: true });
    return { dir, remove: async () => undefined };
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'herd-dashboard-shots-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
