import { describe, expect, it } from 'vitest';
import { Rng } from './rng';

const draw = (rng: Rng, n: number, f: (r: Rng) => number = (r) => r.next()): number[] =>
  Array.from({ length: n }, () => f(rng));

describe('Rng', () => {
  it('the same seed gives the same sequence', () => {
    for (const seed of [0, 1, 42, 0xffffffff]) {
      expect(draw(new Rng(seed), 1000)).toEqual(draw(new Rng(seed), 1000));
      expect(draw(new Rng(seed), 100, (r) => r.normal())).toEqual(draw(new Rng(seed), 100, (r) => r.normal()));
      expect(draw(Rng.derive(seed, 'init'), 100)).toEqual(draw(Rng.derive(seed, 'init'), 100));
    }
  });

  it('different seeds give different sequences', () => {
    const seqs = [0, 1, 2, 3, 1000, 123456789].map((s) => draw(new Rng(s), 50).join(','));
    expect(new Set(seqs).size).toBe(seqs.length);
    // Neighbouring seeds are not shifted copies of each other.
    const a = draw(new Rng(1), 200),
      b = new Set(draw(new Rng(2), 200));
    expect(a.filter((v) => b.has(v)).length).toBe(0);
  });

  it('different purposes (and seeds) derive different streams', () => {
    const streams = [
      Rng.derive(1, 'init'),
      Rng.derive(1, 'shuffle'),
      Rng.derive(1, 'dropout'),
      Rng.derive(2, 'init'),
      Rng.derive(2, 'shuffle'),
      new Rng(1),
    ].map((r) => draw(r, 20).join(','));
    expect(new Set(streams).size).toBe(streams.length);
  });

  it('next() is uniform in [0, 1)', () => {
    const rng = new Rng(7);
    const n = 200_000,
      bins = 20;
    const counts = new Array<number>(bins).fill(0);
    let sum = 0,
      min = 1,
      max = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      if (!(u >= 0 && u < 1)) throw new Error(`draw ${i} = ${u} is outside [0, 1)`);
      counts[Math.floor(u * bins)]++;
      sum += u;
      min = Math.min(min, u);
      max = Math.max(max, u);
    }
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.005); // σ of the mean ≈ 0.00065
    expect(min).toBeLessThan(1e-3);
    expect(max).toBeGreaterThan(1 - 1e-3);
    // Chi-square with 19 degrees of freedom: 99.99th percentile ≈ 49.
    const expected = n / bins;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(49);
  });

  it('nextUint32 is an unsigned 32-bit integer and next() is it over 2³²', () => {
    const a = new Rng(9),
      b = new Rng(9);
    for (let i = 0; i < 1000; i++) {
      const u = a.nextUint32();
      expect(Number.isInteger(u) && u >= 0 && u < 2 ** 32).toBe(true);
      expect(b.next()).toBe(u / 2 ** 32);
    }
  });

  it('uniform(lo, hi) stays in [lo, hi) and int(n) hits every value in [0, n)', () => {
    const rng = new Rng(11);
    for (let i = 0; i < 10_000; i++) {
      const v = rng.uniform(-2, 3);
      expect(v >= -2 && v < 3).toBe(true);
    }
    const seen = new Array<number>(7).fill(0);
    for (let i = 0; i < 7000; i++) {
      const k = rng.int(7);
      expect(Number.isInteger(k) && k >= 0 && k < 7).toBe(true);
      seen[k]++;
    }
    for (const c of seen) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });

  it('normal() has mean 0 and variance 1', () => {
    const xs = draw(new Rng(13), 100_000, (r) => r.normal());
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    expect(xs.every(Number.isFinite)).toBe(true);
    expect(Math.abs(mean)).toBeLessThan(0.02); // σ ≈ 0.003
    expect(Math.abs(variance - 1)).toBeLessThan(0.03); // σ ≈ 0.0045
  });

  it('shuffle is a permutation (typed and plain arrays), seeded, and not the identity', () => {
    const n = 1000;
    const a = Int32Array.from({ length: n }, (_, i) => i);
    new Rng(5).shuffle(a);
    expect(Array.from(a).sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
    let fixed = 0;
    for (let i = 0; i < n; i++) if (a[i] === i) fixed++;
    expect(fixed).toBeLessThan(10); // a random permutation has ~1 fixed point
    const b = Array.from({ length: n }, (_, i) => i);
    new Rng(5).shuffle(b);
    expect(b).toEqual(Array.from(a));
    const c = Array.from({ length: n }, (_, i) => i);
    new Rng(6).shuffle(c);
    expect(c).not.toEqual(b);
    // Values, not indices, are permuted.
    const words = ['a', 'b', 'c', 'd', 'e'] as unknown as number[];
    new Rng(1).shuffle(words);
    expect([...words].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('shuffle draws every permutation of 3 about equally often', () => {
    const rng = new Rng(17);
    const counts = new Map<string, number>();
    for (let i = 0; i < 6000; i++) {
      const a = [0, 1, 2];
      rng.shuffle(a);
      counts.set(a.join(''), (counts.get(a.join('')) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(['012', '021', '102', '120', '201', '210']);
    for (const c of counts.values()) expect(Math.abs(c - 1000)).toBeLessThan(150); // σ ≈ 29
  });

  it('shuffle handles empty and one-element arrays', () => {
    const e: number[] = [];
    new Rng(1).shuffle(e);
    expect(e).toEqual([]);
    const one = [5];
    new Rng(1).shuffle(one);
    expect(one).toEqual([5]);
  });
});
