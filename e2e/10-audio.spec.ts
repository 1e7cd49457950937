import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect, test } from '@playwright/test';
import { encodeWav } from '../shared/audio/wav';
import {
  canvasColours,
  dropPaths,
  openLab,
  pageErrors,
  screenshot,
  startRun,
  tempDirsRemovedAfterAll,
} from './helpers';

/**
 * Issue 14: a folder of WAV files dropped on the page imports as an audio dataset: the report's
 * counts per split (a text file named .wav dropped as malformed, with its file), class counts,
 * and the log mel spectrogram of an example in the heatmap.
 */
const tmp = tempDirsRemovedAfterAll('lockstep-audio-e2e-');

/** A clip whose pitch tells its class: 0.6 s at 16 kHz, 16-bit. */
const tone = (k: number): Uint8Array =>
  encodeWav(
    Array.from({ length: 9600 }, (_, i) => 0.4 * Math.sin((2 * Math.PI * (300 + 400 * k) * i) / 16000)),
    16000,
  );

test('dropped WAVs import through the front end: report counts, a spectrogram, Results names it', async ({ page }) => {
  const root = join(tmp(), 'spoken');
  const files: Record<string, Uint8Array | string> = { 'train/B/not-audio.wav': 'just some text\n' };
  for (const [k, c] of ['B', 'D', 'E'].entries()) {
    for (const i of [1, 2, 3, 4]) files[`train/${c}/s${i}_${c}.wav`] = tone(k);
    files[`dev/${c}/s9_${c}.wav`] = tone(k);
  }
  for (const [rel, body] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), body);
  }
  await openLab(page);
  await dropPaths(page, [root]);
  await expect(page.getByTestId('import-done')).toContainText('Imported spoken', { timeout: 60_000 });
  await expect(page.getByTestId('dataset-audio')).toContainText('log mel, 16 filters 0–6000 Hz');
  for (const [split, listed, kept] of [
    ['train', 13, 12],
    ['dev', 3, 3],
  ] as const) {
    await expect(page.getByTestId(`split-${split}-listed`)).toHaveText(String(listed));
    await expect(page.getByTestId(`split-${split}-kept`)).toHaveText(String(kept));
  }
  const details = page.getByTestId('dropped-train');
  await expect(details).toContainText('1 dropped from train');
  await details.locator('summary').click();
  await expect(page.getByTestId('dropped-row')).toHaveCount(1);
  await expect(details).toContainText('train/B/not-audio.wav');
  await expect(details).toContainText('malformed');
  const bdeOnly = ['4', '0', '4', '4', '0', '0', '0', '0', '0'];
  await expect(page.getByTestId('counts-train').locator('td')).toHaveText(bdeOnly);
  const heat = page.getByTestId('example-heatmap');
  await expect(heat).toHaveAttribute('data-frames', '70');
  await expect(heat).toHaveAttribute('data-channels', '16');
  await expect(page.getByTestId('example-meta')).toContainText('train/B/s1_B.wav');
  expect(await canvasColours(heat)).toBeGreaterThan(5);
  await screenshot(page, '14-audio-dataset');
  // A run on it: the Results panel names the front end its inputs came through.
  await startRun(page);
  await page.getByTestId('tab-results').click();
  await expect(page.getByTestId('acc-dev-value')).toHaveText(/%$/, { timeout: 60_000 });
  await expect(page.getByTestId('run-audio')).toHaveText(
    'audio front end: log mel, 16 filters 0–6000 Hz, 25 ms Hamming window, 10 ms hop, log10 with floor 1e-7; ' +
      'short clips padded with silence (-7)',
  );
  expect(pageErrors(page)).toEqual([]);
});
