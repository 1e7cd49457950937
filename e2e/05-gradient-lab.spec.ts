import { readFileSync } from 'node:fs';
import { expect, test, type Download, type Page } from '@playwright/test';
import { openLab, pageErrors, screenshot, startRun } from './helpers';

/**
 * Issue 7, the gradient lab and the chart menus: the lab's derivative renders (KaTeX, its fonts
 * served by the app under its CSP), three Jacobians agree within tolerance as the layer and its
 * kernel, stride and padding change, max-pooling ties are made and marked; a trained run's
 * chart saves as PNG, SVG and CSV from its own menu.
 */

/** Waits until the lab has computed the setting on screen. */
async function settled(page: Page): Promise<void> {
  await expect(page.getByTestId('gradient-lab')).toHaveAttribute('data-busy', 'false', { timeout: 30_000 });
}

async function expectAgreement(page: Page): Promise<void> {
  for (const s of ['ours', 'tfjs', 'numeric'])
    await expect(page.getByTestId(`jacobian-${s}`).locator('svg')).toBeVisible();
  for (const pair of ['ours-numeric', 'ours-tfjs', 'tfjs-numeric'])
    await expect(page.getByTestId(`err-${pair}`)).toHaveAttribute('data-ok', 'true');
}

async function saveFromMenu(
  page: Page,
  menu: string,
  kind: 'png' | 'svg' | 'csv',
): Promise<{ download: Download; bytes: Buffer }> {
  await page.getByTestId(`${menu}-button`).click();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`${menu}-${kind}`).click()]);
  return { download, bytes: readFileSync((await download.path())!) };
}

test('the gradient lab: formulas, three Jacobians per layer, ties marked', async ({ page }) => {
  test.setTimeout(120_000);
  const cspViolations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  await openLab(page);
  await page.getByTestId('tab-gradients').click();
  await settled(page);
  await expectAgreement(page);
  // KaTeX rendered the derivative, with its own fonts.
  await expect(page.getByTestId('lab-derivative').locator('.katex-html')).toBeVisible();
  const katexFontLoaded = (): Promise<boolean> =>
    page.evaluate(async () => {
      await document.fonts.ready;
      return [...document.fonts].some((f) => f.family.replace(/"/g, '') === 'KaTeX_Main' && f.status === 'loaded');
    });
  await expect.poll(katexFontLoaded).toBe(true);

  // Max pooling L = 8, W = 3, stride 1, valid: 6 × 8. Same padding, stride 2: 4 × 8.
  await expect(page.getByTestId('jacobian-ours')).toHaveAttribute('data-rows', '6');
  await page.getByTestId('lab-strides').fill('2');
  await page.getByTestId('lab-strides').press('Enter');
  await page.getByTestId('lab-padding').selectOption('same');
  await settled(page);
  await expect(page.getByTestId('jacobian-ours')).toHaveAttribute('data-rows', '4');
  await expectAgreement(page);

  // Ties: made on request, reported, and marked in all three maps.
  await page.getByTestId('lab-strides').fill('1');
  await page.getByTestId('lab-strides').press('Enter');
  await page.getByTestId('lab-make-ties').check();
  await settled(page);
  await expect(page.getByTestId('lab-ties')).not.toHaveAttribute('data-count', '0');
  const kinked = Number(await page.getByTestId('lab-kinked').getAttribute('data-count'));
  expect(kinked).toBeGreaterThan(0);
  for (const s of ['ours', 'tfjs', 'numeric'])
    await expect(page.getByTestId(`jacobian-${s}`).locator('[data-kink]')).toHaveCount(kinked);
  await expectAgreement(page);
  await screenshot(page, '13-gradient-lab-ties');

  // A convolution: kernel, stride, padding, dilation.
  await page.getByTestId('lab-kind').selectOption('Conv1D');
  await page.getByTestId('lab-channels').fill('2');
  await page.getByTestId('lab-channels').press('Enter');
  await page.getByTestId('lab-kernel').fill('4');
  await page.getByTestId('lab-kernel').press('Enter');
  await page.getByTestId('lab-padding').selectOption('same');
  await settled(page);
  // L = 8, C = 2, F = 2, stride 1, same: 16 × 16.
  await expect(page.getByTestId('jacobian-ours')).toHaveAttribute('data-rows', '16');
  await expect(page.getByTestId('jacobian-ours')).toHaveAttribute('data-cols', '16');
  await expectAgreement(page);
  await page
    .getByTestId('jacobian-ours')
    .locator('svg')
    .hover({ position: { x: 60, y: 50 } });
  await expect(page.getByTestId('lab-readout')).toContainText('∂y[');
  await screenshot(page, '14-gradient-lab-conv');

  // Every other function the lab offers.
  for (const kind of [
    'Softmax',
    'SoftmaxNLL',
    'AveragePooling1D',
    'Dense',
    'Activation',
    'Flatten',
    'TimeSum',
    'GlobalAveragePooling1D',
    'Dropout',
    'BatchNormalization',
  ]) {
    await page.getByTestId('lab-kind').selectOption(kind);
    await expect(page.getByTestId('gradient-lab')).toHaveAttribute('data-kind', kind);
    await settled(page);
    await expectAgreement(page);
    await expect(page.getByTestId('lab-derivative').locator('.katex-html')).toBeVisible();
  }
  await page.getByTestId('lab-kind').selectOption('Softmax');
  await settled(page);
  await screenshot(page, '15-gradient-lab-softmax');

  // A heatmap saves as CSV from its own menu.
  const { download, bytes } = await saveFromMenu(page, 'jacobian-ours-menu', 'csv');
  expect(download.suggestedFilename()).toBe('our-backward-float64.csv');
  const csv = bytes.toString('utf8').trim().split('\n');
  expect(csv[0]).toBe(',z[0],z[1],z[2],z[3],z[4]');
  expect(csv).toHaveLength(6);

  expect(cspViolations).toEqual([]);
  expect(pageErrors(page)).toEqual([]);
});

test("a trained run's chart saves as PNG, SVG and CSV from its menu", async ({ page }) => {
  test.setTimeout(120_000);
  await openLab(page);
  await page.getByTestId('tab-train').click();
  await page.getByTestId('engine-select').selectOption('scratch');
  await page.getByTestId('set-epochs').fill('2');
  await startRun(page);
  await expect(page.getByTestId('progress')).toHaveAttribute('data-state', 'finished', { timeout: 90_000 });
  await expect(page.getByTestId('chart-loss')).not.toHaveAttribute('data-drawn', '0');

  const png = await saveFromMenu(page, 'chart-loss-menu', 'png');
  expect(png.download.suggestedFilename()).toBe('training-loss-per-step.png');
  expect([...png.bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(png.bytes.length).toBeGreaterThan(2000);

  const csv = await saveFromMenu(page, 'chart-loss-menu', 'csv');
  const rows = csv.bytes.toString('utf8').trim().split('\n');
  expect(rows[0]).toBe('series,step,y');
  expect(rows.length).toBeGreaterThan(10);
  expect(rows[1]).toMatch(/^scratch \((raw|smoothed)\),\d+,[\d.e-]+$/);

  const svg = await saveFromMenu(page, 'chart-epochs-menu', 'svg');
  const text = svg.bytes.toString('utf8');
  expect(svg.download.suggestedFilename()).toBe('loss-and-accuracy-per-epoch.svg');
  expect(text).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  // Two panels (loss, accuracy), each with its dev and train series.
  expect(text.match(/<svg x="0"/g)).toHaveLength(2);
  expect(text.match(/data-series="scratch (dev|train) (loss|acc)"/g)).toHaveLength(4);
  await page.getByTestId('chart-loss-menu-button').click();
  await screenshot(page, '16-chart-menu');
  await page.keyboard.press('Escape');

  // The confusion matrix has the same menu.
  await page.getByTestId('tab-results').click();
  await expect(page.getByTestId('confusion-matrix')).toBeVisible();
  const cm = await saveFromMenu(page, 'confusion-matrix-menu', 'csv');
  expect(cm.download.suggestedFilename()).toMatch(/^confusion-matrix-.*-dev\.csv$/);
  const cmRows = cm.bytes.toString('utf8').trim().split('\n');
  expect(cmRows[0]).toBe('true \\ predicted,B,C,D,E,G,P,T,V,Z,n');
  expect(cmRows).toHaveLength(10);
  const cmPng = await saveFromMenu(page, 'confusion-matrix-menu', 'png');
  expect([...cmPng.bytes.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
  await screenshot(page, '17-results-menu');
  expect(pageErrors(page)).toEqual([]);
});
