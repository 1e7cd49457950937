import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { openLab, pageErrors, screenshot, tempDirsRemovedAfterAll } from './helpers';

const tmp = tempDirsRemovedAfterAll('lockstep-spec-');

/** Item 3: the network editor, its live shape/parameter table, inline errors, presets, spec files. */
test('edit a network: add, edit, reorder, remove; live shapes; invalid networks block Train', async ({ page }) => {
  await openLab(page);
  await page.getByTestId('tab-network').click();
  const out = (i: number) => page.getByTestId(`shape-out-${i}`);
  const params = (i: number) => page.getByTestId(`shape-params-${i}`);
  // The tdnn preset, as resolveSpec sees it.
  await expect(page.getByTestId('shape-input')).toHaveText('[70, 16]');
  await expect(out(0)).toHaveText('[68, 8]');
  await expect(out(1)).toHaveText('[64, 3]');
  await expect(out(2)).toHaveText('[3]');
  await expect(out(3)).toHaveText('[9]');
  await expect(params(0)).toHaveText('392');
  await expect(page.getByTestId('param-total')).toHaveText('551');
  await expect(page.getByTestId('spec-ok')).toBeVisible();

  // Add a MaxPooling1D: it goes where the network stays valid (before TimeSum, not after it); move it up, after conv 1.
  await page.getByTestId('add-layer-type').selectOption('MaxPooling1D');
  await page.getByTestId('add-layer').click();
  await expect(page.getByTestId('layer-type-2')).toHaveValue('MaxPooling1D');
  await expect(page.getByTestId('spec-ok')).toBeVisible();
  await expect(page.getByTestId('preset-select')).toHaveValue('');
  await page.getByTestId('layer-up-2').click();
  await expect(page.getByTestId('layer-type-1')).toHaveValue('MaxPooling1D');
  await expect(out(1)).toHaveText('[34, 8]');
  await expect(out(2)).toHaveText('[30, 3]');
  // Edit fields: filters and kernelSize of conv 1, padding same.
  await page.getByTestId('field-0-filters').fill('12');
  await page.getByTestId('field-0-padding').selectOption('same');
  await expect(out(0)).toHaveText('[70, 12]');
  await expect(params(0)).toHaveText((3 * 16 * 12 + 12).toString());
  await expect(out(1)).toHaveText('[35, 12]');
  await page.getByTestId('field-1-poolSize').fill('5');
  await expect(out(1)).toHaveText('[14, 12]');
  const total = 3 * 16 * 12 + 12 + (5 * 12 * 3 + 3) + (3 * 9 + 9);
  await expect(page.getByTestId('param-total')).toHaveText(total.toLocaleString('en-US'));
  await expect(page.getByTestId('train-start')).toBeEnabled();
  await screenshot(page, '09-network');

  // Break it: a kernel longer than its input; the message is shown and Train is disabled.
  await page.getByTestId('field-2-kernelSize').fill('30');
  await expect(page.getByTestId('spec-error')).toHaveText(
    'layer 3 Conv1D: kernelSize 30 is longer than its input length 14',
  );
  await expect(page.getByTestId('layer-2')).toHaveAttribute('data-invalid', 'true');
  await expect(out(1)).toHaveText('[14, 12]'); // shapes before the error still shown
  await expect(page.getByTestId('train-start')).toBeDisabled();
  await expect(page.getByTestId('train-start')).toHaveAttribute('title', /kernelSize 30 is longer/);
  await screenshot(page, '10-network-invalid');
  // Remove a required key → the message says so.
  await page.getByTestId('field-2-kernelSize').fill('');
  await expect(page.getByTestId('spec-error')).toContainText('layer 3 Conv1D: kernelSize is required');
  await page.getByTestId('field-2-kernelSize').fill('5');
  await expect(page.getByTestId('spec-ok')).toBeVisible();
  // Removing the TimeSum makes the Dense see a sequence.
  await page.getByTestId('layer-remove-3').click();
  await expect(page.getByTestId('spec-error')).toContainText('expects a flat input');
  await expect(page.getByTestId('spec-error')).toContainText('layer 4 Dense');
  await page.getByTestId('add-layer-type').selectOption('TimeSum');
  await page.getByTestId('add-layer').click();
  await expect(page.getByTestId('spec-ok')).toBeVisible();
  await expect(page.getByTestId('train-start')).toBeEnabled();

  // Save as JSON, change the network, load the file back.
  const download = page.waitForEvent('download');
  await page.getByTestId('spec-save').click();
  const saved = JSON.parse(readFileSync(await (await download).path(), 'utf8'));
  expect(saved.input).toEqual([70, 16]);
  expect(saved.layers.map((l: { type: string }) => l.type)).toEqual([
    'Conv1D',
    'MaxPooling1D',
    'Conv1D',
    'TimeSum',
    'Dense',
  ]);
  expect(saved.layers[0]).toMatchObject({ filters: 12, padding: 'same' });
  await page.getByTestId('editor-preset').selectOption('fnn-50-tanh');
  await expect(page.getByTestId('param-total')).toHaveText(
    (1120 * 50 + 50 + 50 * 50 + 50 + 50 * 9 + 9).toLocaleString('en-US'),
  );
  const dir = tmp();
  writeFileSync(join(dir, 'saved.json'), JSON.stringify(saved));
  await page.getByTestId('spec-file').setInputFiles(join(dir, 'saved.json'));
  await expect(page.getByTestId('layer-type-1')).toHaveValue('MaxPooling1D');
  await expect(page.getByTestId('param-total')).toHaveText(total.toLocaleString('en-US'));
  // A file that is not a spec is explained inline.
  writeFileSync(join(dir, 'bad.json'), '{"input": [70, 16], "layers": [{"type": "Conv2D"}]}');
  await page.getByTestId('spec-file').setInputFiles(join(dir, 'bad.json'));
  await expect(page.getByTestId('spec-error')).toContainText('layer 1: unknown type "Conv2D"');
  await expect(page.getByTestId('train-start')).toBeDisabled();
  writeFileSync(join(dir, 'junk.json'), '{nope');
  await page.getByTestId('spec-file').setInputFiles(join(dir, 'junk.json'));
  await expect(page.getByTestId('spec-file-error')).toContainText('junk.json: not valid JSON');
  // Back to a preset.
  await page.getByTestId('preset-select').selectOption('tdnn');
  await expect(page.getByTestId('param-total')).toHaveText('551');
  await expect(page.getByTestId('train-start')).toBeEnabled();
  // Keyboard: the section tabs move with the arrow keys.
  await page.getByTestId('tab-network').focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('tab-train')).toBeFocused();
  await expect(page.getByTestId('tab-train')).toHaveAttribute('aria-selected', 'true');
  expect(pageErrors(page)).toEqual([]);
});
