import { describe, expect, it } from 'vitest';
import { debiasedEma } from './smoothing';

describe('debiasedEma (TensorBoard smoothing)', () => {
  it('follows s_t = β s_{t−1} + (1−β) x_t, debiased by 1 − β^t', () => {
    const xs = [4, 2, 8, 6];
    const beta = 0.6;
    let s = 0;
    const expected = xs.map((x, i) => {
      s = beta * s + (1 - beta) * x;
      return s / (1 - beta ** (i + 1));
    });
    const got = debiasedEma(xs, beta);
    expected.forEach((e, i) => expect(got[i]).toBeCloseTo(e, 12));
  });

  it('starts at the first value (no bias towards zero)', () => {
    expect(debiasedEma([5, 5, 5], 0.9)[0]).toBeCloseTo(5, 12);
    // A constant series stays constant whatever β.
    for (const v of debiasedEma(new Array(50).fill(2.5), 0.99)) expect(v).toBeCloseTo(2.5, 10);
  });

  it('β = 0 is the raw data', () => {
    expect(Array.from(debiasedEma([1, 3, 2], 0))).toEqual([1, 3, 2]);
  });

  it('skips non-finite values without poisoning the rest', () => {
    const got = debiasedEma([1, NaN, 3, Infinity, 5], 0.5);
    expect(got[1]).toBeNaN();
    expect(got[3]).toBeNaN();
    const ref = debiasedEma([1, 3, 5], 0.5);
    expect(got[0]).toBeCloseTo(ref[0]);
    expect(got[2]).toBeCloseTo(ref[1]);
    expect(got[4]).toBeCloseTo(ref[2]);
  });

  it('smooths 100k points quickly', () => {
    const xs = Float64Array.from({ length: 100_000 }, () => Math.random());
    const t0 = performance.now();
    debiasedEma(xs, 0.99);
    expect(performance.now() - t0).toBeLessThan(500);
  });
});
