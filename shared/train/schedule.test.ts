import { describe, expect, it } from 'vitest';
import { learningRateSchedule } from './schedule';

describe('learningRateSchedule', () => {
  const base = { lr: 0.01, epochs: 10 };

  it('is null (the engine keeps its rate) without a schedule or warm-up', () => {
    expect(learningRateSchedule(base, 5)).toBeNull();
    expect(learningRateSchedule({ ...base, lrSchedule: 'constant', warmupEpochs: 0 }, 5)).toBeNull();
  });

  it('cosine: lr at the first step, lr/2 half way, falling towards 0 at the last step', () => {
    const at = learningRateSchedule({ ...base, lrSchedule: 'cosine' }, 5)!;
    const S = 50;
    expect(at(0)).toBe(0.01);
    expect(at(25)).toBeCloseTo(0.005, 15);
    expect(at(S - 1)).toBeCloseTo(0.01 * 0.5 * (1 + Math.cos((Math.PI * 49) / 50)), 15);
    expect(at(S - 1)).toBeLessThan(1e-4);
    for (let s = 1; s < S; s++) expect(at(s)).toBeLessThan(at(s - 1));
  });

  it('warm-up rises linearly to lr over warmupEpochs, then the schedule starts from lr', () => {
    const at = learningRateSchedule({ ...base, lrSchedule: 'cosine', warmupEpochs: 2 }, 5)!;
    expect([0, 1, 4, 9].map(at)).toEqual([0.001, 0.002, 0.005, 0.01]);
    expect(at(10)).toBe(0.01);
    expect(at(10 + 20)).toBeCloseTo(0.005, 15); // half of the 40 steps after the warm-up
    const flat = learningRateSchedule({ ...base, warmupEpochs: 1 }, 4)!;
    expect([0, 3, 4, 39].map(flat)).toEqual([0.0025, 0.01, 0.01, 0.01]);
  });

  it('step: lr · decayFactor^⌊epoch / decayEvery⌋ (default factor 0.5)', () => {
    const at = learningRateSchedule({ ...base, lrSchedule: 'step', decayEvery: 3 }, 4)!;
    expect([0, 11, 12, 23, 24, 39].map(at)).toEqual([0.01, 0.01, 0.005, 0.005, 0.0025, 0.00125]);
    const tenth = learningRateSchedule({ ...base, lrSchedule: 'step', decayEvery: 5, decayFactor: 0.1 }, 2)!;
    expect(tenth(9)).toBe(0.01);
    expect(tenth(10)).toBeCloseTo(0.001, 15);
  });
});
