import { expect, test } from '@playwright/test';
import { zipSync } from 'fflate';
import { dropFile, dropFiles, featureText, openLab, pageErrors, startRun, tarOf } from './helpers';

/**
 * Issue 6 in the window: hostile or broken files dropped on the app are refused with a message
 * naming the file and what is wrong; the app keeps running, and the datasets and runs it had
 * are untouched (still listed, still usable).
 */
test('hostile drops are refused with a clear message; the app keeps running and earlier datasets and runs are untouched', async ({
  page,
}) => {
  test.setTimeout(120_000);
  await openLab(page);
  // Something to keep: a finished run.
  await page.getByTestId('set-epochs').fill('1');
  const runId = await startRun(page);
  await expect(page.getByTestId('progress')).toHaveAttribute('data-state', 'finished', { timeout: 60_000 });
  await page.getByTestId('tab-data').click();
  const datasets = page.getByTestId('dataset-item');
  const datasetIds = async (): Promise<Array<string | null>> =>
    Promise.all((await datasets.all()).map((d) => d.getAttribute('data-id')));
  await expect(datasets.filter({ hasText: 'demo' })).toHaveCount(1);
  const before = await datasetIds();

  const enc = new TextEncoder();
  const labels = enc.encode('0 train/fbc/a.txt\n');
  const feature = enc.encode(featureText(72, 0, 1));
  const hostile: Array<[string, Uint8Array, RegExp]> = [
    // zip-slip: an entry that climbs out of the archive
    [
      'slip.zip',
      zipSync({ 'train/lab/l.txt': labels, '../../evil.txt': feature }),
      /slip\.zip.*"\.\.\/\.\.\/evil\.txt".*zip-slip/,
    ],
    // an absolute path in a tar
    [
      'abs.tar',
      tarOf({ 'train/lab/l.txt': labels, '/tmp/evil.txt': feature }),
      /abs\.tar.*"\/tmp\/evil\.txt".*absolute path \(zip-slip\)/,
    ],
    // binary junk named .npz
    [
      'junk.npz',
      Uint8Array.from({ length: 300 }, (_, i) => (i * 37) & 0xff),
      /junk\.npz: expected a NumPy \.npz file \(a zip archive\), found no end-of-central-directory record/,
    ],
    // a CSV with a ragged row
    [
      'ragged.csv',
      enc.encode('example,split,label,frame,c0,c1\na,train,B,0,1,2\na,train,B,1,3\n'),
      /ragged\.csv, line 3: expected 6 fields/,
    ],
  ];
  for (const [name, bytes, message] of hostile) {
    await dropFiles(page, [dropFile(name, bytes)]);
    await expect(page.getByTestId('import-error'), name).toContainText(message);
    await expect(page.getByTestId('app')).toHaveAttribute('data-ready', 'true');
  }

  // Nothing was added or lost; the earlier run is still there, finished, and still opens.
  expect(await datasetIds()).toEqual(before);
  await page.getByTestId('tab-runs').click();
  const row = page.locator(`[data-testid="run-row"][data-id="${runId}"]`);
  await expect(row).toHaveAttribute('data-state', 'finished');
  await row.getByTestId('run-open').click();
  await expect
    .poll(async () => Number((await page.getByTestId('runs-charts').getAttribute('data-steps')) ?? '0'))
    .toBeGreaterThan(0);
  expect(pageErrors(page)).toEqual([]);
});
