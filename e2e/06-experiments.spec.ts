import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { openLab, pageErrors, screenshot } from './helpers';

/**
 * Issue 7, experiments in the app: a grid typed as JSON (its mistakes shown as typed), queued
 * on the demo dataset; the results table fills in as runs end while the running runs' curves
 * grow; it sorts, filters and picks the best run by dev accuracy, which opens in Results; the
 * report opens in a tab of its own and saves as a file.
 */
const GRID = {
  name: 'e2e-lr',
  description: 'Two learning rates × both engines on the tanh FNN.',
  base: { model: 'fnn-10-tanh', backend: 'wasm', settings: { batch: 50 } },
  grid: { lr: [0.003, 0.03], engine: ['scratch', 'tfjs'] },
};

/** The numbers of a column, as shown ('47.0%' → 47). */
async function column(page: Page, testid: string): Promise<number[]> {
  return (await page.getByTestId(testid).allTextContents()).map((t) => Number.parseFloat(t));
}

test('an experiment grid: rows fill in, sort, filter, the best run opens, the report opens', async ({ page }) => {
  test.setTimeout(240_000);
  await openLab(page);
  await page.getByTestId('tab-experiments').click();
  // The course assignment is the built-in on offer: 16 runs.
  await expect(page.getByTestId('exp-run-count')).toHaveText('16');

  await page.getByTestId('exp-source').selectOption({ label: 'Custom grid (JSON)' });
  const editor = page.getByTestId('exp-json');
  await editor.fill('{ "name": "e2e", "grid": { "lr": [0.1,] } }');
  await expect(page.getByTestId('exp-problem')).toHaveText(
    "JSON, line 1, column 39: expected a value (an object, array, string, number, true, false or null), found ']'",
  );
  await expect(page.getByTestId('exp-start')).toBeDisabled();
  await editor.fill(JSON.stringify({ ...GRID, grid: { ...GRID.grid, 'layers.9.units': [3] } }));
  await expect(page.getByTestId('exp-problem')).toContainText('layers.9.units: the network has 4 layers');
  await editor.fill(JSON.stringify(GRID, null, 2));
  await page.getByTestId('exp-epochs').fill('2');
  await expect(page.getByTestId('exp-preview')).toContainText('4 runs');
  await expect(page.getByTestId('exp-preview')).toContainText('2 epochs');

  await page.getByTestId('exp-start').click();
  const current = page.getByTestId('exp-current');
  await expect(current).toHaveAttribute('data-state', 'running');
  await expect(page.getByTestId('exp-row')).toHaveCount(4);
  // The runs' loss curves fill in (that they grow while a run trains is checked in the Stop test, whose runs last).
  const curve = page.locator('[data-testid="exp-curve"]').first();
  await expect.poll(async () => Number(await curve.getAttribute('data-steps')), { timeout: 60_000 }).toBeGreaterThan(0);
  await screenshot(page, '20-experiment-running');

  await expect(current).toHaveAttribute('data-state', 'finished', { timeout: 180_000 });
  await expect(page.getByTestId('exp-progress')).toHaveText('4/4 runs ended');
  await expect(page.locator('[data-testid="exp-row"][data-state="finished"]')).toHaveCount(4);
  for (const acc of await column(page, 'exp-row-devAccuracy')) expect(acc).toBeGreaterThan(0);
  // Same network, weights and batches on both engines: their losses agree closely.
  for (const text of await page.getByTestId('exp-row-agreement').allTextContents())
    expect(Number(text)).toBeLessThan(1e-3);

  // Sort by dev accuracy: best first, then worst first.
  await page.getByTestId('exp-sort-devAccuracy').click();
  const down = await column(page, 'exp-row-devAccuracy');
  expect(down).toEqual([...down].sort((a, b) => b - a));
  await page.getByTestId('exp-sort-devAccuracy').click();
  const up = await column(page, 'exp-row-devAccuracy');
  expect(up).toEqual([...up].sort((a, b) => a - b));
  const bestRow = page.locator('[data-testid="exp-row"][data-best="true"]');
  await expect(bestRow).toHaveCount(1);
  expect(Number.parseFloat((await bestRow.getByTestId('exp-row-devAccuracy').textContent()) ?? '')).toBe(
    Math.max(...up),
  );

  // Filter: one engine, then words.
  await page.getByTestId('exp-filter-engine').selectOption('tfjs-wasm');
  await expect(page.getByTestId('exp-row')).toHaveCount(2);
  await expect(page.getByTestId('exp-shown')).toHaveText('2 of 4 runs');
  await page.getByTestId('exp-filter').fill('lr=0.03');
  await expect(page.getByTestId('exp-row')).toHaveCount(1);
  await page.getByTestId('exp-filter').fill('');
  await page.getByTestId('exp-filter-engine').selectOption('');
  await page.getByTestId('exp-sort-devAccuracy').click();
  await screenshot(page, '21-experiment-finished');

  // Report: opens in a tab of its own, and saves as a file.
  const [report] = await Promise.all([page.waitForEvent('popup'), page.getByTestId('exp-report-open').click()]);
  await report.waitForLoadState();
  await expect(report.locator('h1')).toContainText('e2e-lr');
  await expect(report.locator('table').first()).toBeVisible();
  await expect(report.locator('figure svg').first()).toBeVisible();
  await report.setViewportSize({ width: 1200, height: 900 });
  await screenshot(report, '22-experiment-report');
  await report.close();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('exp-report-save').click()]);
  expect(download.suggestedFilename()).toBe('e2e-lr-report.html');
  expect(readFileSync((await download.path())!, 'utf8')).toMatch(/^<!DOCTYPE html>[\s\S]*e2e-lr[\s\S]*<\/html>\s*$/);

  // The best run by dev accuracy opens in Results.
  const bestId = await page.locator('[data-testid="exp-row"][data-best="true"]').getAttribute('data-run');
  await page.getByTestId('exp-open-best').click();
  await expect(page.getByTestId('tab-results')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('results')).toHaveAttribute('data-run', bestId!);
  await expect(page.getByTestId('acc-dev-value')).toHaveText(/%$/);
  // And any row opens its run.
  await page.getByTestId('tab-experiments').click();
  const last = page.getByTestId('exp-row').last();
  const lastId = await last.getAttribute('data-run');
  await last.getByTestId('exp-row-open').click();
  await expect(page.getByTestId('results')).toHaveAttribute('data-run', lastId!);
  expect(pageErrors(page)).toEqual([]);
});

test('the course assignment, 1 epoch: 16 runs on both engines, timing, and its report', async ({ page }) => {
  test.setTimeout(600_000);
  await openLab(page);
  await page.getByTestId('tab-experiments').click();
  await page.getByTestId('exp-source').selectOption('course');
  await page.getByTestId('exp-epochs').fill('1');
  await expect(page.getByTestId('exp-preview')).toContainText('16 runs (fnn 12, tdnn 4)');
  await page.getByTestId('exp-start').click();
  const current = page.getByTestId('exp-current');
  await expect(current).toHaveAttribute('data-state', 'running');
  await expect(page.getByTestId('exp-row')).toHaveCount(16);
  await page.getByTestId('exp-filter-part').selectOption('tdnn');
  await expect(page.getByTestId('exp-row')).toHaveCount(4);
  await page.getByTestId('exp-filter-part').selectOption('');
  await expect(current).toHaveAttribute('data-state', 'timing', { timeout: 540_000 });
  await expect(page.locator('[data-testid="exp-row"][data-state="finished"]')).toHaveCount(16);
  await expect(current).toHaveAttribute('data-state', 'finished', { timeout: 120_000 });
  // The tanh FNNs (10 and 50 hidden units) on both engines, at batch sizes 1, 10, 50 and 200.
  await expect(page.getByTestId('exp-timing-row')).toHaveCount(4);
  await expect(page.getByTestId('exp-timing').locator('thead th')).toHaveText([
    'network',
    'engine',
    'batch 1',
    'batch 10',
    'batch 50',
    'batch 200',
  ]);
  await page.getByTestId('exp-sort-devAccuracy').click();
  await screenshot(page, '23-course-finished');
  await page.getByTestId('exp-timing').scrollIntoViewIfNeeded();
  await screenshot(page, '24-course-timing');
  const [report] = await Promise.all([page.waitForEvent('popup'), page.getByTestId('exp-report-open').click()]);
  await expect(report.locator('h1')).toContainText('course');
  await expect(report.locator('h2', { hasText: 'Running time vs batch size' })).toBeVisible();
  await report.close();
  expect(pageErrors(page)).toEqual([]);
});

test('Stop: the queued and running runs stop, the report covers what ended', async ({ page }) => {
  test.setTimeout(120_000);
  await openLab(page);
  await page.getByTestId('tab-experiments').click();
  await page.getByTestId('exp-source').selectOption({ label: 'Custom grid (JSON)' });
  await page.getByTestId('exp-json').fill(JSON.stringify({ ...GRID, name: 'e2e-stop' }));
  // Far more epochs than the test lasts: every run is still queued or training when Stop is pressed.
  await page.getByTestId('exp-epochs').fill('5000');
  await page.getByTestId('exp-start').click();
  const current = page.getByTestId('exp-current');
  await expect(current).toHaveAttribute('data-state', 'running');
  await expect(page.getByTestId('exp-start')).toBeDisabled();
  // While a run trains, its live loss curve grows.
  const curve = page.locator('[data-testid="exp-curve"]').first();
  await expect.poll(async () => Number(await curve.getAttribute('data-steps')), { timeout: 60_000 }).toBeGreaterThan(0);
  const first = Number(await curve.getAttribute('data-steps'));
  await expect
    .poll(async () => Number(await curve.getAttribute('data-steps')), { timeout: 60_000 })
    .toBeGreaterThan(first + 4);
  await page.getByTestId('exp-stop').click();
  await expect(current).toHaveAttribute('data-state', 'stopped', { timeout: 60_000 });
  await expect(page.getByTestId('exp-stop')).toHaveCount(0);
  await expect(page.locator('[data-testid="exp-row"][data-state="stopped"]')).not.toHaveCount(0);
  await expect(page.locator('[data-testid="exp-row"][data-state="finished"]')).toHaveCount(0);
  await expect(page.getByTestId('exp-report')).toHaveAttribute('data-ready', 'true');
  await expect(page.getByTestId('exp-start')).toBeEnabled();
  expect(pageErrors(page)).toEqual([]);
});
