// Before the e2e tests: find a Chromium. CHROMIUM_PATH, else Debian's /usr/bin/chromium,
// else Playwright's own build, installed here when missing (where a network allows).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium } from '@playwright/test';

const system = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (existsSync(system)) process.exit(0);
if (existsSync(chromium.executablePath())) process.exit(0);
console.error(`e2e: no Chromium at ${system}; installing Playwright's own Chromium`);
const r = spawnSync('npx', ['playwright', 'install', 'chromium'], { stdio: 'inherit' });
process.exit(r.status ?? 1);
