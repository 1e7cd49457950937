import { Rng } from '../engine/rng';
import { classCounts, EE_SET_CLASSES, emptyDropCounts, type Dataset, type Split, type SplitReport } from './dataset';

/**
 * The built-in demo dataset, generated in code so every command runs anywhere: the ee-set's
 * shape (70 frames × 16 channels, 9 classes). Each class is a bump of energy sweeping across
 * the channels with its own onset time and slope, at a random time shift, over noise, so a
 * time-shift-invariant network (the TDNN) has something real to learn.
 */
export const DEMO_FRAMES = 70;
export const DEMO_CHANNELS = 16;

function makeSplit(n: number, seed: number, prefix: string, T: number): Split {
  const rng = new Rng(seed);
  const C = DEMO_CHANNELS,
    K = EE_SET_CLASSES.length;
  const x = new Float32Array(n * T * C);
  const y = new Int32Array(n);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = i % K;
    y[i] = k;
    ids.push(`${prefix}/${i}`);
    const onset = 8 + 3 * (k % 3) + rng.int(12);
    const slope = ((k / 3) | 0) - 1; // −1, 0, +1: falling, flat, rising sweep
    const centre = 4 + 4 * (k % 3);
    for (let t = 0; t < T; t++) {
      for (let c = 0; c < C; c++) {
        const dt = t - onset;
        const band = centre + slope * dt * 0.4;
        const bump = dt >= 0 && dt < 14 ? Math.exp(-((c - band) ** 2) / 6) * (1 - dt / 14) : 0;
        x[(i * T + t) * C + c] = 2 * bump + 0.35 * rng.normal();
      }
    }
  }
  return { x, y, n, frames: T, channels: C, ids };
}

function reportFor(split: Split): SplitReport {
  return {
    listed: split.n,
    kept: split.n,
    dropped: emptyDropCounts(),
    droppedExamples: [],
    classCounts: classCounts(split.y, EE_SET_CLASSES.length),
  };
}

export function demoDataset(frames = DEMO_FRAMES): Dataset {
  const train = makeSplit(900, 11, 'demo/train', frames);
  const dev = makeSplit(270, 12, 'demo/dev', frames);
  return {
    name: 'demo',
    classes: [...EE_SET_CLASSES],
    splits: { train, dev },
    reports: { train: reportFor(train), dev: reportFor(dev) },
  };
}
