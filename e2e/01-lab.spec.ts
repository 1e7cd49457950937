import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { unzipSync } from 'fflate';
import * as ort from 'onnxruntime-node';
import { chartSteps, openLab, pageErrors, screenshot, startRun } from './helpers';

/**
 * Items 1, 5, 6 and 8: the lab opens ready (demo data, tdnn), Train works with no set-up,
 * the curves grow while it trains, the results show accuracies and a confusion matrix whose
 * cells list their examples, and the trained weights export in all four formats.
 */
test.describe.serial('a ready lab: train, results, export', () => {
  let page: Page;

  test.beforeAll(async ({ browser }) => {
    page = await browser.newPage();
    await openLab(page);
  });
  test.afterAll(async () => {
    expect(pageErrors(page)).toEqual([]);
    await page.close();
  });

  test('launches ready: demo dataset, tdnn preset, Train enabled', async () => {
    await expect(page.getByTestId('dataset-select')).toHaveValue('demo');
    await expect(page.getByTestId('preset-select')).toHaveValue('tdnn');
    await expect(page.getByTestId('engine-select')).toHaveValue('scratch');
    await expect(page.getByTestId('train-start')).toBeEnabled();
    await expect(page.getByTestId('status-dataset')).toHaveText('demo');
    await expect(page.getByTestId('host-kind')).toHaveText('Browser host');
    await expect(page.getByTestId('train-params')).toHaveText('551');
    await expect(page.getByTestId('charts-empty')).toBeVisible();
    await screenshot(page, '01-launch');
  });

  test('Train with zero set-up; the curves grow while it runs; Pause, Resume, Stop', async () => {
    // Enough epochs that the run is still going when Stop is pressed: the fast path trains the demo's 40 in about a second.
    await page.getByTestId('set-epochs').fill('5000');
    await page.getByTestId('train-start').click();
    const progress = page.getByTestId('progress');
    await expect(progress).toHaveAttribute('data-state', /queued|running/);
    await expect(progress).toHaveAttribute('data-state', 'running', { timeout: 30_000 });
    // The curves grow while it trains.
    await expect.poll(() => chartSteps(page), { timeout: 30_000 }).toBeGreaterThan(0);
    const first = await chartSteps(page);
    await expect.poll(() => chartSteps(page), { timeout: 30_000 }).toBeGreaterThan(first);
    await expect(page.getByTestId('throughput')).toContainText('ex/s');
    await expect(page.getByTestId('eta')).toContainText('ETA');
    await expect(page.getByTestId('chart-loss')).not.toHaveAttribute('data-drawn', '0');
    await expect(page.getByTestId('set-epochs')).toBeDisabled();
    await screenshot(page, '02-training');
    // Pause: the curves stop growing (once the events already on their way have arrived).
    await page.getByTestId('train-pause').click();
    await expect(progress).toHaveAttribute('data-state', 'paused');
    await page.waitForTimeout(400);
    const settled = await chartSteps(page);
    await page.waitForTimeout(800);
    expect(await chartSteps(page)).toBe(settled);
    await page.getByTestId('train-resume').click();
    await expect(progress).toHaveAttribute('data-state', 'running');
    await expect.poll(() => chartSteps(page)).toBeGreaterThan(settled);
    await page.getByTestId('smoothing').fill('0.9');
    await page.getByTestId('loss-log').check();
    await expect(page.getByTestId('chart-loss')).not.toHaveAttribute('data-drawn', '0');
    await page.getByTestId('train-stop').click();
    await expect(progress).toHaveAttribute('data-state', 'stopped');
    await expect(page.getByTestId('train-start')).toBeEnabled();
  });

  test('a short run trains to the end and its curves are complete', async () => {
    await page.getByTestId('set-epochs').fill('8');
    await startRun(page);
    const progress = page.getByTestId('progress');
    await expect(progress).toHaveAttribute('data-state', 'finished', { timeout: 60_000 });
    await expect(page.getByTestId('chart-epochs')).not.toHaveAttribute('data-drawn', '0');
    // 8 epochs × ceil(900 / 16) steps.
    await expect.poll(() => chartSteps(page)).toBe(8 * 57);
    await expect.poll(async () => Number(await page.getByTestId('charts').getAttribute('data-epochs'))).toBe(8);
    await screenshot(page, '03-trained');
  });

  test('results: accuracies and a confusion matrix with letters; a cell lists its examples', async () => {
    await page.getByTestId('tab-results').click();
    const dev = page.getByTestId('acc-dev-value');
    await expect(dev).toHaveText(/^\d+\.\d%$/);
    await expect(page.getByTestId('acc-train-value')).toHaveText(/^\d+\.\d%$/);
    const devAcc = parseFloat((await dev.textContent()) ?? '0');
    expect(devAcc).toBeGreaterThan(25); // well above chance (11%) on the demo data
    const cm = page.getByTestId('confusion-matrix');
    const letters = ['B', 'C', 'D', 'E', 'G', 'P', 'T', 'V', 'Z'];
    await expect(cm.locator('thead th')).toHaveText(['true ↓ · predicted →', ...letters, 'n', 'recall']);
    // Per-class recall, as the HTML report has it.
    await expect(cm.locator('[data-testid^="cm-recall-"]')).toHaveText(new Array(9).fill(/^\d+%$/));
    await expect(cm.locator('[data-testid^="cm-cell-"]')).toHaveCount(81);
    // Every dev example is in the matrix once.
    const counts = await cm
      .locator('[data-testid^="cm-cell-"]')
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-count'))));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(270);
    // Click a misclassification (or, if there is none, a diagonal cell).
    let target = -1;
    counts.forEach((n, k) => {
      if (target < 0 && n > 0 && Math.floor(k / 9) !== k % 9) target = k;
    });
    if (target < 0) target = counts.findIndex((n) => n > 0);
    const [t, p] = [Math.floor(target / 9), target % 9];
    await page.getByTestId(`cm-cell-${t}-${p}`).click();
    await expect(page.getByTestId('cell-examples')).toContainText(`${'BCDEGPTVZ'[t]} predicted as ${'BCDEGPTVZ'[p]}`);
    await expect(page.getByTestId('cell-example')).toHaveCount(counts[target]);
    await expect(page.getByTestId('cell-example').first()).toContainText('demo/dev/');
    await screenshot(page, '04-results');
  });

  test('exports the trained weights: tfjs, npz, onnx and checkpoint downloads that load', async () => {
    for (const format of ['tfjs', 'npz', 'onnx', 'checkpoint'] as const) {
      await page.getByTestId('export-format').selectOption(format);
      const download = page.waitForEvent('download');
      await page.getByTestId('export-button').click();
      const d = await download;
      const path = await d.path();
      const bytes = new Uint8Array(readFileSync(path));
      await expect(page.getByTestId('export-done')).toBeVisible();
      // The message names what the browser actually received (a folder arrives as a .zip).
      await expect(page.getByTestId('export-received')).toHaveText(d.suggestedFilename());
      await checkExport(format, d.suggestedFilename(), bytes);
    }
  });
});

/** What each export format must hold for another tool to load it. */
async function checkExport(format: 'tfjs' | 'npz' | 'onnx' | 'checkpoint', filename: string, bytes: Uint8Array) {
  const isZip = bytes[0] === 0x50 && bytes[1] === 0x4b;
  if (format === 'onnx') {
    expect(isZip).toBe(false);
    expect(filename).toMatch(/\.onnx$/);
    const session = await ort.InferenceSession.create(bytes);
    const out = await session.run({ input: new ort.Tensor('float32', new Float32Array(2 * 70 * 16), [2, 70, 16]) });
    await session.release();
    expect(out.probabilities.dims).toEqual([2, 9]);
    const p = out.probabilities.data as Float32Array;
    for (const row of [p.subarray(0, 9), p.subarray(9)]) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    return;
  }
  const entries: Record<string, Uint8Array> = isZip ? unzipSync(bytes) : { [filename]: bytes };
  const names = Object.keys(entries);
  const text = (name: string) => new TextDecoder().decode(entries[name]);
  if (format === 'npz') {
    expect(isZip).toBe(true);
    expect(names).toContain('conv1d_1.kernel.npy');
    const npy = entries['conv1d_1.kernel.npy'];
    expect(new TextDecoder().decode(npy.subarray(1, 6))).toBe('NUMPY');
    expect(new TextDecoder().decode(npy.subarray(10, 128))).toMatch(/'shape': \(3, 16, 8\)/);
    expect(names).toEqual(expect.arrayContaining(['conv1d_2.kernel.npy', 'dense_1.bias.npy', 'classes.npy']));
    return;
  }
  if (format === 'tfjs') {
    const manifestName = names.find((n) => n.endsWith('model.json'));
    expect(manifestName, `model.json in ${names.join(', ')}`).toBeTruthy();
    const model = JSON.parse(text(manifestName!));
    expect(model.modelTopology).toBeTruthy();
    const manifest = model.weightsManifest as Array<{
      paths: string[];
      weights: Array<{ name: string; shape: number[] }>;
    }>;
    const weights = manifest.flatMap((g) => g.weights);
    expect(weights.find((w) => w.name === 'conv1d_1/kernel')?.shape).toEqual([3, 16, 8]);
    const binBytes = manifest
      .flatMap((g) => g.paths)
      .reduce((s, p) => s + (entries[names.find((n) => n.endsWith(p))!]?.byteLength ?? 0), 0);
    expect(binBytes).toBe(551 * 4);
    return;
  }
  const manifestName = names.find((n) => n.endsWith('checkpoint.json'));
  expect(manifestName, `checkpoint.json in ${names.join(', ')}`).toBeTruthy();
  const checkpoint = JSON.parse(text(manifestName!));
  expect(checkpoint.spec.layers).toHaveLength(4);
  expect(checkpoint.classes).toEqual(['B', 'C', 'D', 'E', 'G', 'P', 'T', 'V', 'Z']);
  const bin = names.find((n) => n.endsWith('.bin'));
  expect(entries[bin!].byteLength).toBe(551 * 4);
}
