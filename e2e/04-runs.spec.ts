import { expect, test } from '@playwright/test';
import { chartSteps, openLab, pageErrors, screenshot, startRun } from './helpers';

/** Items 5 and 7: lockstep training with its divergence chart, the runs list, reopening and overlaying runs. */
test('lockstep: both engines overlaid, a divergence chart; runs reopen and overlay', async ({ page }) => {
  test.setTimeout(180_000);
  await openLab(page);
  await page.getByTestId('engine-select').selectOption('lockstep');
  // tfjs on the cpu backend is the slow one: few, large batches.
  await page.getByTestId('set-epochs').fill('2');
  await page.getByTestId('set-batch').fill('100');
  await startRun(page);
  await expect(page.getByTestId('progress')).toHaveAttribute('data-state', 'finished', { timeout: 150_000 });
  await expect(page.getByTestId('chart-divergence')).toBeVisible();
  await expect(page.getByTestId('chart-divergence')).not.toHaveAttribute('data-drawn', '0');
  // The verdict, from the run's per-step losses: agree or diverged, against the lockstep bound.
  await expect(page.getByTestId('lockstep-verdict')).toContainText(/(✓ agree|✗ diverged at step \d+).*bound 1e-4/);
  await expect(page.getByTestId('lockstep-verdict')).toContainText('scratch vs tfjs-cpu');
  // The loss axis is logarithmic by default (the first steps' spike would flatten a linear one), and says so.
  await expect(page.getByTestId('loss-log')).toBeChecked();
  await screenshot(page, '11-lockstep');

  // A quick second run (scratch), then the runs list.
  await page.getByTestId('engine-select').selectOption('scratch');
  await page.getByTestId('set-epochs').fill('3');
  await page.getByTestId('set-batch').fill('16');
  await startRun(page);
  await expect(page.getByTestId('progress')).toHaveAttribute('data-state', 'finished', { timeout: 60_000 });

  await page.getByTestId('tab-runs').click();
  const rows = page.getByTestId('run-row');
  expect(await rows.count()).toBeGreaterThanOrEqual(2);
  const lockstepRow = page
    .locator('[data-testid="run-row"][data-state="finished"]')
    .filter({ hasText: 'lockstep' })
    .first();
  await expect(lockstepRow.getByTestId('run-row-dev')).toHaveText(/%$/);
  // Reopen the lockstep run: its charts come back from runs.get.
  await page.reload();
  await expect(page.getByTestId('app')).toHaveAttribute('data-ready', 'true');
  await page.getByTestId('tab-runs').click();
  await expect(page.getByTestId('runs-charts')).toHaveAttribute('data-steps', '0');
  const row = page.locator('[data-testid="run-row"][data-state="finished"]').filter({ hasText: 'lockstep' }).first();
  await row.getByTestId('run-open').click();
  await expect.poll(() => chartSteps(page, 'runs-charts')).toBe(2 * 9);
  await expect(page.getByTestId('chart-divergence')).toBeVisible();
  // Tick two runs: their curves overlay.
  const finished = page.locator('[data-testid="run-row"][data-state="finished"]');
  await finished.nth(0).getByTestId('run-compare').check();
  await finished.nth(1).getByTestId('run-compare').check();
  await expect(page.getByTestId('compare-note')).toContainText('Overlaying 2 runs');
  await expect.poll(() => chartSteps(page, 'runs-charts')).toBeGreaterThan(18);
  await screenshot(page, '12-runs-compare');
  // Results of a reopened run.
  await row.getByTestId('run-results').click();
  await expect(page.getByTestId('acc-dev-value')).toHaveText(/%$/);
  expect(pageErrors(page)).toEqual([]);
});
