import { LockstepError } from '../errors';
import { Rng } from '../engine/rng';
import { checkTimeStretch, type TrainingSettings } from './settings';

export type AugmentSettings = Pick<TrainingSettings, 'timeStretch' | 'timeShift' | 'timeMask' | 'freqMask'>;

/**
 * Training-batch augmentation, per example, from the run seed's own "augment" stream (so a run
 * is reproducible and the shuffle and dropout streams are untouched): a random time stretch (the
 * example resampled at a speed factor drawn from 1 ± timeStretch, like speaking faster or slower),
 * then a random time shift of −S…S frames (frames shifted in are zeros), then a time mask (a run of 0…timeMask frames set to
 * zero) and a frequency mask (a run of 0…freqMask channels set to zero), SpecAugment-style.
 * Zero is every channel's training mean once the data are standardised. Widths and positions
 * are uniform; each kind draws only when it is on.
 */
export class Augmenter {
  private readonly rng: Rng;
  private readonly row: Float32Array;

  constructor(
    private readonly s: AugmentSettings,
    private readonly frames: number,
    private readonly channels: number,
    seed: number,
  ) {
    checkTimeStretch(s.timeStretch ?? 0);
    if ((s.freqMask ?? 0) > channels)
      throw new LockstepError(`freqMask must be at most the data's channels (${channels}), got ${s.freqMask}`);
    if ((s.timeShift ?? 0) >= frames)
      throw new LockstepError(`timeShift must be less than the data's frames (${frames}), got ${s.timeShift}`);
    if ((s.timeMask ?? 0) > frames)
      throw new LockstepError(`timeMask must be at most the data's frames (${frames}), got ${s.timeMask}`);
    this.rng = Rng.derive(seed, 'augment');
    this.row = new Float32Array(frames * channels);
  }

  /** True when any augmentation is on. */
  static wanted(s: AugmentSettings): boolean {
    return (s.timeStretch ?? 0) > 0 || (s.timeShift ?? 0) > 0 || (s.timeMask ?? 0) > 0 || (s.freqMask ?? 0) > 0;
  }

  /** Augments the first `batch` examples of x (`[batch, frames, channels]`) in place. */
  apply(x: Float32Array, batch: number): void {
    const T = this.frames,
      C = this.channels,
      rng = this.rng;
    const stretch = this.s.timeStretch ?? 0,
      shift = this.s.timeShift ?? 0,
      timeMask = this.s.timeMask ?? 0,
      freqMask = this.s.freqMask ?? 0;
    for (let b = 0; b < batch; b++) {
      const base = b * T * C;
      if (stretch > 0) {
        const factor = rng.uniform(1 - stretch, 1 + stretch);
        // y[t] = x[t·factor], linear between neighbouring frames; the last frame repeats past the end.
        for (let i = 0; i < T * C; i++) this.row[i] = x[base + i];
        for (let t = 0; t < T; t++) {
          const at = Math.min(t * factor, T - 1),
            lo = Math.floor(at),
            hi = Math.min(lo + 1, T - 1),
            w = at - lo;
          for (let c = 0; c < C; c++) x[base + t * C + c] = this.row[lo * C + c] * (1 - w) + this.row[hi * C + c] * w;
        }
      }
      if (shift > 0) {
        const d = rng.int(2 * shift + 1) - shift;
        // y[t] = x[t − d], zeros where t − d falls outside.
        for (let i = 0; i < T * C; i++) this.row[i] = x[base + i];
        for (let t = 0; t < T; t++) {
          const from = t - d;
          for (let c = 0; c < C; c++) x[base + t * C + c] = from >= 0 && from < T ? this.row[from * C + c] : 0;
        }
      }
      if (timeMask > 0) {
        const w = rng.int(timeMask + 1),
          t0 = rng.int(T - w + 1);
        x.fill(0, base + t0 * C, base + (t0 + w) * C);
      }
      if (freqMask > 0) {
        const w = rng.int(freqMask + 1),
          c0 = rng.int(C - w + 1);
        for (let t = 0; t < T; t++) x.fill(0, base + t * C + c0, base + t * C + c0 + w);
      }
    }
  }
}
