import { describe, expect, it } from 'vitest';
import { nudgedByOneUlp } from './perturb';

describe('nudgedByOneUlp', () => {
  const weights = new Map([
    ['dense_1/kernel', Float32Array.from([0.1, -0.25, 3, -7e-3, 2e-38, 2 ** -20])],
    ['dense_1/bias', new Float32Array(4)],
  ]);

  it('moves every nonzero weight to a float32 neighbour, leaves zeros and the input alone', () => {
    const nudged = nudgedByOneUlp(weights, 1);
    const kernel = weights.get('dense_1/kernel')!;
    const moved = nudged.get('dense_1/kernel')!;
    for (let i = 0; i < kernel.length; i++) {
      const x = kernel[i],
        y = moved[i];
      expect(y).not.toBe(x);
      // No float32 lies strictly between x and its neighbour y: halfway is not representable.
      expect(Math.fround((x + y) / 2) === x || Math.fround((x + y) / 2) === y).toBe(true);
      expect(Math.sign(y)).toBe(Math.sign(x));
      expect(Math.abs(y - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -23);
    }
    expect([...nudged.get('dense_1/bias')!]).toEqual([0, 0, 0, 0]);
    expect(weights.get('dense_1/kernel')![0]).toBe(Math.fround(0.1));
  });

  it('is fixed by its seed and goes both ways', () => {
    const a = nudgedByOneUlp(weights, 1).get('dense_1/kernel')!;
    expect(nudgedByOneUlp(weights, 1).get('dense_1/kernel')).toEqual(a);
    const b = nudgedByOneUlp(weights, 2).get('dense_1/kernel')!;
    expect(b).not.toEqual(a);
    const big = new Map([['w', Float32Array.from({ length: 1000 }, (_, i) => i + 1)]]);
    const up = nudgedByOneUlp(big, 3)
      .get('w')!
      .filter((y, i) => y > i + 1).length;
    expect(up).toBeGreaterThan(400);
    expect(up).toBeLessThan(600);
  });
});
