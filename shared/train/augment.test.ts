import { describe, expect, it } from 'vitest';
import { LockstepError } from '../errors';
import { Augmenter } from './augment';

const T = 12,
  C = 5,
  B = 40;

/** A batch whose every value is distinct and non-zero: x[b,t,c] = 1 + b·T·C + t·C + c. */
function batch(): Float32Array {
  return Float32Array.from({ length: B * T * C }, (_, i) => 1 + i);
}

describe('Augmenter', () => {
  it('is wanted only when some augmentation is on', () => {
    expect(Augmenter.wanted({})).toBe(false);
    expect(Augmenter.wanted({ timeShift: 0, timeMask: 0, freqMask: 0 })).toBe(false);
    expect(Augmenter.wanted({ freqMask: 1 })).toBe(true);
    expect(Augmenter.wanted({ timeStretch: 0.1 })).toBe(true);
  });

  it('time shift: each example is itself moved by some d in −S…S frames, zeros shifted in, and every d occurs', () => {
    const S = 2,
      x = batch(),
      original = batch();
    new Augmenter({ timeShift: S }, T, C, 1).apply(x, B);
    const shifts = new Set<number>();
    for (let b = 0; b < B; b++) {
      const at = (a: Float32Array, t: number, c: number): number => a[(b * T + t) * C + c];
      const matches = [];
      for (let d = -S; d <= S; d++) {
        let ok = true;
        for (let t = 0; t < T && ok; t++)
          for (let c = 0; c < C && ok; c++) ok = at(x, t, c) === (t - d >= 0 && t - d < T ? at(original, t - d, c) : 0);
        if (ok) matches.push(d);
      }
      expect(matches, `example ${b}`).toHaveLength(1);
      shifts.add(matches[0]);
    }
    expect([...shifts].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2]);
  });

  it('time stretch: each example is itself resampled at one speed factor in 1 ± timeStretch, the last frame repeated past the end, and factors spread over the range', () => {
    const stretch = 0.2,
      x = batch();
    new Augmenter({ timeStretch: stretch }, T, C, 3).apply(x, B);
    const factors: number[] = [];
    for (let b = 0; b < B; b++) {
      // x[b,t,c] = 1 + b·T·C + t·C + c is linear in t, so the stretched value reads off its source time.
      const sourceTime = (t: number, c: number): number => (x[(b * T + t) * C + c] - 1 - b * T * C - c) / C;
      const factor = sourceTime(1, 0);
      factors.push(factor);
      expect(factor).toBeGreaterThanOrEqual(1 - stretch - 1e-5);
      expect(factor).toBeLessThanOrEqual(1 + stretch + 1e-5);
      for (let t = 0; t < T; t++)
        for (let c = 0; c < C; c++)
          expect(sourceTime(t, c), `example ${b} t ${t} c ${c}`).toBeCloseTo(Math.min(t * factor, T - 1), 3);
    }
    expect(Math.min(...factors)).toBeLessThan(0.9);
    expect(Math.max(...factors)).toBeGreaterThan(1.1);
  });

  it('time stretch interpolates linearly between neighbouring frames', () => {
    // Channel 0 is the frame index (it reads off the factor); channel 1 zig-zags, so a read between frames shows its weights.
    const x = new Float32Array(T * 2);
    for (let t = 0; t < T; t++) x.set([t, t % 2 === 0 ? 10 : -10], t * 2);
    const original = x.slice();
    new Augmenter({ timeStretch: 0.5 }, T, 2, 4).apply(x, 1);
    const factor = x[2];
    expect(factor % 1).not.toBe(0);
    for (let t = 0; t < T; t++) {
      const at = Math.min(t * factor, T - 1),
        lo = Math.floor(at),
        hi = Math.min(lo + 1, T - 1);
      expect(x[t * 2 + 1], `frame ${t}`).toBeCloseTo(
        original[lo * 2 + 1] * (1 - (at - lo)) + original[hi * 2 + 1] * (at - lo),
        4,
      );
    }
  });

  it('time and frequency masks zero one run of at most timeMask frames and one of at most freqMask channels; the rest is untouched', () => {
    const x = batch(),
      original = batch();
    new Augmenter({ timeMask: 4, freqMask: 2 }, T, C, 2).apply(x, B);
    const widths = { time: new Set<number>(), freq: new Set<number>() };
    for (let b = 0; b < B; b++) {
      const zero = (t: number, c: number): boolean => x[(b * T + t) * C + c] === 0;
      // A frame is masked when all its channels are zero, a channel when all its frames are.
      const frames = Array.from({ length: T }, (_, t) => t).filter((t) =>
        Array.from({ length: C }, (_, c) => c).every((c) => zero(t, c)),
      );
      const channels = Array.from({ length: C }, (_, c) => c).filter((c) =>
        Array.from({ length: T }, (_, t) => t).every((t) => zero(t, c)),
      );
      const contiguous = (a: number[]): boolean => a.every((v, i) => i === 0 || v === a[i - 1] + 1);
      if (channels.length < C) expect(contiguous(frames), `example ${b} frames ${frames}`).toBe(true);
      if (frames.length < T) expect(contiguous(channels), `example ${b} channels ${channels}`).toBe(true);
      expect(frames.length).toBeLessThanOrEqual(channels.length === C ? T : 4);
      expect(channels.length).toBeLessThanOrEqual(frames.length === T ? C : 2);
      for (let t = 0; t < T; t++)
        for (let c = 0; c < C; c++) {
          const i = (b * T + t) * C + c;
          expect(x[i]).toBe(frames.includes(t) || channels.includes(c) ? 0 : original[i]);
        }
      if (channels.length < C) widths.time.add(frames.length);
      if (frames.length < T) widths.freq.add(channels.length);
    }
    expect([...widths.time].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);
    expect([...widths.freq].sort((a, b) => a - b)).toEqual([0, 1, 2]);
  });

  it('the same seed augments the same way; another seed differently; only the first `batch` examples are touched', () => {
    const run = (seed: number, n = B): Float32Array => {
      const x = batch();
      new Augmenter({ timeShift: 3, timeMask: 3, freqMask: 2 }, T, C, seed).apply(x, n);
      return x;
    };
    expect(run(5)).toEqual(run(5));
    expect(run(6)).not.toEqual(run(5));
    const partial = run(5, 3);
    expect(partial.subarray(3 * T * C)).toEqual(batch().subarray(3 * T * C));
  });

  it('rejects sizes the data cannot hold, naming the setting', () => {
    const fails = (s: ConstructorParameters<typeof Augmenter>[0]): string => {
      try {
        new Augmenter(s, T, C, 1);
      } catch (e) {
        expect(e).toBeInstanceOf(LockstepError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(fails({ freqMask: 6 })).toBe("freqMask must be at most the data's channels (5), got 6");
    expect(fails({ timeShift: 12 })).toBe("timeShift must be less than the data's frames (12), got 12");
    expect(fails({ timeMask: 13 })).toBe("timeMask must be at most the data's frames (12), got 13");
    expect(fails({ timeStretch: 0.6 })).toBe('timeStretch must be a number in 0…0.5, got 0.6');
    expect(fails({ timeStretch: -0.1 })).toBe('timeStretch must be a number in 0…0.5, got -0.1');
  });
});
