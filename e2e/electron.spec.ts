import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { _electron as electron, expect, test } from '@playwright/test';
import { REPO } from './env';

/** The desktop app itself, where an Electron binary exists (it cannot be downloaded everywhere). */
function electronBinary(): string | null {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown;
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

test('the Electron window opens a ready lab', async () => {
  const binary = electronBinary();
  if (!binary) {
    console.log('skipped: no Electron binary on this machine (electron.spec.ts)');
    test.skip(true, 'no Electron binary');
    return;
  }
  const app = await electron.launch({
    executablePath: binary,
    args: [join(REPO, 'out/main/index.js'), '--no-sandbox'],
    cwd: REPO,
  });
  try {
    const window = await app.firstWindow();
    await expect(window.getByTestId('app')).toHaveAttribute('data-ready', 'true', { timeout: 30_000 });
    await expect(window.getByTestId('host-kind')).toHaveText('Desktop');
    await expect(window.getByTestId('dataset-select')).toHaveValue('demo');
    await expect(window.getByTestId('train-start')).toBeEnabled();
  } finally {
    await app.close();
  }
});
