import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Rng } from '../engine/rng';
import { readFrontEnd } from '../model/checkpoint';
import { modelInputs, prepareData } from '../train/prepare';
import { resolveSettings } from '../train/settings';
import type { Dataset, Split } from './dataset';
import { demoDataset } from './demo';
import { applyFrontEnd, DEFAULT_PCEN, type FrontEnd } from './front-end';
import { applyStandardization, fitStandardization } from './standardize';

function randomSplit(n: number, frames: number, channels: number, seed: number): Split {
  const rng = new Rng(seed);
  // Log energies of the ee-set's range (about −3…5).
  const x = Float32Array.from({ length: n * frames * channels }, () => 1 + 2 * rng.normal());
  return { x, y: new Int32Array(n), n, frames, channels, ids: Array.from({ length: n }, (_, i) => String(i)) };
}

// The NumPy reference: the formulas of front-end.ts written independently, vectorised over examples and channels.
const REFERENCE = fileURLToPath(new URL('./front_end_reference.py', import.meta.url));
const python = '/usr/bin/python3';
const hasNumpy = existsSync(python) && spawnSync(python, ['-c', 'import numpy'], { timeout: 60_000 }).status === 0;
if (!hasNumpy) console.log('skipped: the NumPy reference of the front ends (no numpy for /usr/bin/python3)');

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

describe.skipIf(!hasNumpy)('front ends against a NumPy reference', () => {
  it('pcen (default and other parameters) and utteranceMean agree within float32 rounding', () => {
    const split = randomSplit(5, 70, 16, 3);
    const other = { smoothing: 0.3, alpha: 0.5, delta: 0.5, root: 0.25, epsilon: 1e-3 };
    const frontEnds: FrontEnd[] = [
      { normalize: 'pcen', pcen: { ...DEFAULT_PCEN } },
      { normalize: 'pcen', pcen: other },
      { normalize: 'utteranceMean' },
    ];
    for (const frontEnd of frontEnds) {
      const input = JSON.stringify({ x: Array.from(split.x), shape: [5, 70, 16], frontEnd });
      const r = spawnSync(python, [REFERENCE], { input, encoding: 'utf8', timeout: 60_000, maxBuffer: 1 << 26 });
      expect(r.status, r.stderr).toBe(0);
      expect(maxAbsDiff(applyFrontEnd(split, frontEnd).x, (JSON.parse(r.stdout) as { x: number[] }).x)).toBeLessThan(
        1e-5,
      );
    }
  });
});

describe('front end in training and wherever a model meets data', () => {
  const pcen: FrontEnd = { normalize: 'pcen', pcen: { ...DEFAULT_PCEN } };

  it('prepareData applies the front end before the standardisation, fitted on the transformed train', () => {
    const dataset: Dataset = demoDataset(20);
    for (const frontEnd of [pcen, { normalize: 'utteranceMean' } as FrontEnd]) {
      const data = prepareData(dataset, { standardize: true, frontEnd });
      const front = applyFrontEnd(dataset.splits.train!, frontEnd);
      const standardization = fitStandardization(front);
      expect(data.frontEnd).toEqual(frontEnd);
      expect(data.standardization).toEqual(standardization);
      expect(data.train.x).toEqual(applyStandardization(front, standardization).x);
      // dev meets the model exactly as eval and the exports apply it
      expect(data.dev!.x).toEqual(modelInputs(dataset.splits.dev!, { frontEnd, standardize: standardization }).x);
      expect(data.dev!.x).not.toEqual(prepareData(dataset, { standardize: true }).dev!.x);
    }
  });

  it('utteranceMean leaves every example with zero channel means', () => {
    const out = applyFrontEnd(randomSplit(3, 10, 4, 1), { normalize: 'utteranceMean' });
    for (let i = 0; i < 3; i++) {
      for (let c = 0; c < 4; c++) {
        let sum = 0;
        for (let t = 0; t < 10; t++) sum += out.x[(i * 10 + t) * 4 + c];
        expect(Math.abs(sum / 10)).toBeLessThan(1e-6);
      }
    }
  });

  it('none is the identity (the standardisation alone, as before front ends)', () => {
    const split = randomSplit(2, 5, 3, 2);
    expect(applyFrontEnd(split, { normalize: 'none' })).toBe(split);
  });

  it('the one settings schema fills PCEN defaults from a bare name and names a bad field', () => {
    expect(resolveSettings({ frontEnd: 'pcen' }).frontEnd).toEqual(pcen);
    expect(resolveSettings({ frontEnd: { normalize: 'pcen', pcen: { alpha: 0.5 } } }).frontEnd).toEqual({
      normalize: 'pcen',
      pcen: { ...DEFAULT_PCEN, alpha: 0.5 },
    });
    expect(resolveSettings({ frontEnd: 'utteranceMean' }).frontEnd).toEqual({ normalize: 'utteranceMean' });
    expect(resolveSettings({}).frontEnd).toBeUndefined();
    expect(() => resolveSettings({ frontEnd: { normalize: 'pcen', pcen: { root: 0 } } })).toThrow(
      /frontEnd\.pcen\.root/,
    );
    expect(() => resolveSettings({ frontEnd: 'mfcc' })).toThrow(
      /frontEnd\.normalize: expected "none", "pcen", "utteranceMean" or an object/,
    );
    expect(() => resolveSettings({ frontEnd: { normalize: 'none', pcen: {} } })).toThrow(/frontEnd/);
  });

  it('a checkpoint without frontEnd (older than front ends) reads as none; a bad one names the file and field', () => {
    expect(readFrontEnd(undefined, 'c/checkpoint.json')).toEqual({ normalize: 'none' });
    expect(readFrontEnd(pcen, 'c/checkpoint.json')).toEqual(pcen);
    expect(() => readFrontEnd({ normalize: 'pcen', pcen: { alpha: 'x' } }, 'c/checkpoint.json')).toThrow(
      /^c\/checkpoint\.json: field frontEnd\.pcen\.alpha/,
    );
  });
});
