import { describe, expect, it } from 'vitest';
import { decimateMinMax } from './decimate';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('decimateMinMax', () => {
  it('keeps small series whole', () => {
    const xs = range(10),
      ys = xs.map((x) => x * x);
    expect(decimateMinMax(xs, ys, { buckets: 100 })).toEqual(xs.map((x) => ({ x, y: x * x })));
  });

  it('caps 100k points at 4 per bucket and keeps x order', () => {
    const xs = range(100_000),
      ys = xs.map((x) => Math.sin(x / 50) + ((x * 7919) % 13) / 13);
    const out = decimateMinMax(xs, ys, { buckets: 500 });
    expect(out.length).toBeLessThanOrEqual(2000);
    expect(out.length).toBeGreaterThan(500);
    for (let i = 1; i < out.length; i++) expect(out[i].x).toBeGreaterThan(out[i - 1].x);
  });

  it('keeps every spike (the extremes of each bucket)', () => {
    const xs = range(50_000),
      ys = xs.map(() => 1);
    ys[12_345] = 100;
    ys[40_000] = -50;
    const out = decimateMinMax(xs, ys, { buckets: 200 });
    expect(out).toContainEqual({ x: 12_345, y: 100 });
    expect(out).toContainEqual({ x: 40_000, y: -50 });
    expect(Math.max(...out.map((p) => p.y))).toBe(100);
    expect(Math.min(...out.map((p) => p.y))).toBe(-50);
  });

  it('keeps the first and last point', () => {
    const xs = range(10_000),
      ys = xs.map((x) => Math.cos(x));
    const out = decimateMinMax(xs, ys, { buckets: 50 });
    expect(out[0]).toEqual({ x: 0, y: ys[0] });
    expect(out[out.length - 1]).toEqual({ x: 9999, y: ys[9999] });
  });

  it('drops non-finite values, and y ≤ 0 for log axes', () => {
    const out = decimateMinMax([0, 1, 2, 3, 4], [1, NaN, 0, -1, 2], { buckets: 10, positiveOnly: true });
    expect(out).toEqual([
      { x: 0, y: 1 },
      { x: 4, y: 2 },
    ]);
    expect(decimateMinMax([0, 1], [Infinity, 3], { buckets: 10 })).toEqual([{ x: 1, y: 3 }]);
  });

  it('handles empty input', () => {
    expect(decimateMinMax([], [], { buckets: 10 })).toEqual([]);
  });
});
