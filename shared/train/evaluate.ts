import type { Split } from '../data/dataset';
import type { TrainingEngine } from './engine';

export interface Evaluation {
  n: number;
  loss: number;
  accuracy: number;
  /** `[true class][predicted class]` counts. */
  confusion: number[][];
}

/**
 * Mean NLL, accuracy and confusion matrix of an engine over a whole split, in inference mode,
 * `batch` examples at a time through two reusable buffers.
 */
export function evaluateSplit(engine: TrainingEngine, split: Split, classes: number, batch: number): Evaluation {
  const size = split.frames * split.channels;
  const probs = new Float32Array(batch * classes);
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let lossSum = 0,
    correct = 0;
  for (let start = 0; start < split.n; start += batch) {
    const b = Math.min(batch, split.n - start);
    engine.predict(split.x.subarray(start * size, (start + b) * size), b, probs);
    for (let i = 0; i < b; i++) {
      const truth = split.y[start + i];
      let best = 0;
      for (let k = 1; k < classes; k++) if (probs[i * classes + k] > probs[i * classes + best]) best = k;
      confusion[truth][best]++;
      if (best === truth) correct++;
      // The log of a probability that rounded to 0 would be −∞; clamp at float32's smallest normal.
      lossSum -= Math.log(Math.max(probs[i * classes + truth], 1.1754944e-38));
    }
  }
  return {
    n: split.n,
    loss: split.n ? lossSum / split.n : NaN,
    accuracy: split.n ? correct / split.n : NaN,
    confusion,
  };
}
