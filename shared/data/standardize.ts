import type { Split, Standardization } from './dataset';

/** Per-channel mean and standard deviation over every frame of the training split. */
export function fitStandardization(train: Split): Standardization {
  const { channels: C } = train;
  const frames = train.n * train.frames;
  const sum = new Float64Array(C),
    sumSq = new Float64Array(C);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < C; c++) {
      const v = train.x[i * C + c];
      sum[c] += v;
      sumSq[c] += v * v;
    }
  }
  const mean: number[] = [],
    std: number[] = [];
  for (let c = 0; c < C; c++) {
    const m = sum[c] / frames;
    mean.push(m);
    // A constant channel keeps std 1 rather than dividing by zero.
    std.push(Math.sqrt(Math.max(sumSq[c] / frames - m * m, 0)) || 1);
  }
  return { mean, std };
}

/** A standardised copy: x' = (x − mean[c]) / std[c]. */
export function applyStandardization(split: Split, s: Standardization): Split {
  const C = split.channels;
  const x = new Float32Array(split.x.length);
  for (let i = 0; i < x.length; i++) {
    const c = i % C;
    x[i] = (split.x[i] - s.mean[c]) / s.std[c];
  }
  return { ...split, x };
}
