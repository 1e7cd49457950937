import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from '@playwright/test';
import { BASE_URL, PORT, TOKEN } from './e2e/env';

/**
 * End-to-end tests against the browser host: the built renderer served by
 * e2e/serve-e2e.ts (src-main/host's startBrowserHost with a fixed token) over a fresh user-data folder, driven by Debian's Chromium (no browser
 * download). One worker: the tests share one host, as a user shares one app.
 * `e2e/electron.spec.ts` runs only where an Electron binary exists.
 */
// The config is loaded by the runner and by each worker: the runner makes the temp folder (the
// workers inherit it) and removes it as it exits, after it has stopped the web server, whether
// the tests passed or not. A folder given in LOCKSTEP_E2E_USER_DATA is left alone.
if (process.env.LOCKSTEP_E2E_USER_DATA === undefined) {
  const made = mkdtempSync(join(tmpdir(), 'lockstep-e2e-'));
  process.env.LOCKSTEP_E2E_USER_DATA = made;
  process.on('exit', () => rmSync(made, { recursive: true, force: true }));
}
const userData = process.env.LOCKSTEP_E2E_USER_DATA;

/** CHROMIUM_PATH, else Debian's Chromium, else Playwright's own (scripts/test-setup.mjs installs one). */
const systemChromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const executablePath = existsSync(systemChromium) ? systemChromium : undefined;

const chromiumArgs = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results/artifacts',
  timeout: 120_000,
  expect: { timeout: 15_000 },
  workers: 1,
  fullyParallel: false,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: BASE_URL,
    viewport: { width: 1440, height: 900 },
    deviceScaleFactor: 1,
    acceptDownloads: true,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath,
      args: chromiumArgs,
    },
  },
  projects: [
    { name: 'browser-host', testIgnore: /electron\.spec\.ts/ },
    { name: 'electron', testMatch: /electron\.spec\.ts/ },
  ],
  webServer: {
    command: `npx electron-vite build && npx tsx e2e/serve-e2e.ts --port ${PORT} --user-data ${userData}`,
    url: `${BASE_URL}/?token=${TOKEN}`,
    env: { LOCKSTEP_TOKEN: TOKEN },
    timeout: 180_000,
    reuseExistingServer: false,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
