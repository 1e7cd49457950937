import type { FloatArray, FloatArrayCtor } from './types';

/**
 * Softmax fused with the mean negative log-likelihood over a batch:
 *   p[b,k] = exp(z[b,k] − m_b) / Σ_j exp(z[b,j] − m_b),  m_b = max_j z[b,j]   (log-sum-exp, stable)
 *   L = −(1/B) Σ_b log p[b, y_b] = (1/B) Σ_b (m_b + log Σ_j exp(z[b,j] − m_b) − z[b, y_b])
 * Its gradient is the classic  ∂L/∂z[b,k] = (p[b,k] − [k = y_b]) / B.
 */
export class SoftmaxNLL {
  /** Class probabilities of the last forward pass, `[batch, classes]`. */
  readonly probs: FloatArray;
  /** dL/dlogits of the last pass. */
  readonly dlogits: FloatArray;

  constructor(
    readonly classes: number,
    maxBatch: number,
    ctor: FloatArrayCtor,
  ) {
    this.probs = new ctor(maxBatch * classes);
    this.dlogits = new ctor(maxBatch * classes);
  }

  /** Softmax of `logits` into `probs`; returns the mean NLL (0 when `labels` is null). */
  forward(logits: FloatArray, labels: Int32Array | null, batch: number, labelOffset = 0): number {
    const K = this.classes,
      p = this.probs;
    let total = 0;
    for (let b = 0; b < batch; b++) {
      const o = b * K;
      let m = logits[o];
      for (let k = 1; k < K; k++) if (logits[o + k] > m) m = logits[o + k];
      let sum = 0;
      for (let k = 0; k < K; k++) {
        const e = Math.exp(logits[o + k] - m);
        p[o + k] = e;
        sum += e;
      }
      for (let k = 0; k < K; k++) p[o + k] /= sum;
      if (labels) total += m + Math.log(sum) - logits[o + labels[labelOffset + b]];
    }
    return total / batch;
  }

  /** ∂L/∂z[b,k] = (p[b,k] − [k = y_b]) / B, from the probabilities of the last forward. */
  backward(labels: Int32Array, batch: number, labelOffset = 0): FloatArray {
    const K = this.classes,
      p = this.probs,
      d = this.dlogits;
    for (let b = 0; b < batch; b++) {
      const o = b * K,
        y = labels[labelOffset + b];
      for (let k = 0; k < K; k++) d[o + k] = (p[o + k] - (k === y ? 1 : 0)) / batch;
    }
    return d;
  }
}
