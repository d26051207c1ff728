/**
 * A real Chromium for the dashboard's browser test and the bench's time to first paint:
 * `playwright-core` driving the machine's own Chromium (Debian's `/usr/bin/chromium`; no browser is
 * ever downloaded), headless, in a fresh profile, with nothing that would reach the network.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Where the browser is: `HERD_CHROMIUM`, or Debian's `chromium` package. */
export const CHROMIUM_PATH = process.env.HERD_CHROMIUM ?? '/usr/bin/chromium';

/** Set (to anything but empty or 0) to make a missing Chromium a failure rather than a skip (CI sets it). */
export const REQUIRE_BROWSER_ENV = 'HERD_REQUIRE_BROWSER';

/** Chromium flags: headless, no sandbox (root in a container), and no background calls to Google. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--metrics-recording-only',
  '--mute-audio',
];

/** Why the browser cannot run here, or undefined when it can. */
export function browserMissing(): string | undefined {
  return existsSync(CHROMIUM_PATH)
    ? undefined
    : `${CHROMIUM_PATH} not found (apt-get install -y --no-install-recommends chromium, or set HERD_CHROMIUM)`;
}

/** Whether {@link REQUIRE_BROWSER_ENV} asks for the browser test to run whatever happens. */
export function browserRequired(): boolean {
  const value = process.env[REQUIRE_BROWSER_ENV];
  return value !== undefined && value !== '' && value !== '0';
}

/** A browser in a fresh profile; `close()` ends it and removes the profile. */
export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Starts Chromium with a fresh `--user-data-dir`.
 *
 * @param viewport - the page size. @default 1400 x 860
 * @throws when Chromium is missing or does not start.
 */
export async function launchBrowser(viewport = { width: 1400, height: 860 }): Promise<Browser> {
  const missing = browserMissing();
  if (missing !== undefined) throw new Error(missing);
  const profile = await mkdtemp(path.join(os.tmpdir(), 'herd-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
      viewport,
      deviceScaleFactor: 1,
      timeout: 30_000,
    });
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}
