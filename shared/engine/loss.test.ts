import { describe, expect, it } from 'vitest';
import { SoftmaxNLL } from './loss';
import { Rng } from './rng';

/** Naive float64 softmax of one row, written from the definition with a max shift. */
function softmax(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

function randomLogits(n: number, rng: Rng, scale = 2): Float64Array {
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) z[i] = scale * rng.normal();
  return z;
}

describe('SoftmaxNLL', () => {
  it('probabilities are the softmax of each row and sum to 1', () => {
    const K = 6,
      B = 4;
    const loss = new SoftmaxNLL(K, B, Float64Array);
    const z = randomLogits(B * K, new Rng(1), 3);
    expect(loss.forward(z, null, B)).toBe(0);
    for (let b = 0; b < B; b++) {
      const want = softmax(Array.from(z.subarray(b * K, (b + 1) * K)));
      let sum = 0;
      for (let k = 0; k < K; k++) {
        expect(loss.probs[b * K + k]).toBeCloseTo(want[k], 14);
        sum += loss.probs[b * K + k];
      }
      expect(sum).toBeCloseTo(1, 14);
    }
  });

  it('the loss is the batch mean of −log p[label]', () => {
    const K = 5,
      B = 3;
    const loss = new SoftmaxNLL(K, B, Float64Array);
    const z = randomLogits(B * K, new Rng(2));
    const labels = Int32Array.from([4, 0, 2]);
    let want = 0;
    for (let b = 0; b < B; b++) want -= Math.log(softmax(Array.from(z.subarray(b * K, (b + 1) * K)))[labels[b]]);
    expect(loss.forward(z, labels, B)).toBeCloseTo(want / B, 13);
    // labelOffset reads labels[offset + b].
    const padded = Int32Array.from([9, 9, 4, 0, 2]);
    expect(loss.forward(z, padded, B, 2)).toBeCloseTo(want / B, 13);
  });

  it('softmax Jacobian: ∂y_k/∂z_j = y_k(δ_kj − y_j)', () => {
    const K = 5;
    const loss = new SoftmaxNLL(K, 1, Float64Array);
    const rng = new Rng(3);
    for (let trial = 0; trial < 5; trial++) {
      const z = randomLogits(K, rng);
      const probsAt = (v: Float64Array): number[] => {
        loss.forward(v, null, 1);
        return Array.from(loss.probs.subarray(0, K));
      };
      const y = probsAt(z);
      const h = 1e-5;
      for (let j = 0; j < K; j++) {
        const zp = Float64Array.from(z),
          zm = Float64Array.from(z);
        zp[j] += h;
        zm[j] -= h;
        const yp = probsAt(zp),
          ym = probsAt(zm);
        for (let k = 0; k < K; k++) {
          const numeric = (yp[k] - ym[k]) / (2 * h);
          const formula = y[k] * ((k === j ? 1 : 0) - y[j]);
          // Central difference: truncation ~h²·y''' ≈ 1e-10, rounding ~1e-16/h ≈ 1e-11.
          expect(Math.abs(numeric - formula), `trial ${trial}, ∂y_${k}/∂z_${j}`).toBeLessThan(1e-9);
        }
      }
    }
  });

  it('NLL gradient: ∂L/∂z = (p − onehot)/B', () => {
    const K = 4,
      B = 5;
    const loss = new SoftmaxNLL(K, B, Float64Array);
    const rng = new Rng(4);
    const z = randomLogits(B * K, rng);
    const labels = Int32Array.from({ length: B }, () => rng.int(K));
    loss.forward(z, labels, B);
    const analytic = Float64Array.from(loss.backward(labels, B).subarray(0, B * K));
    // The formula, from a naive softmax.
    for (let b = 0; b < B; b++) {
      const p = softmax(Array.from(z.subarray(b * K, (b + 1) * K)));
      for (let k = 0; k < K; k++) expect(analytic[b * K + k]).toBeCloseTo((p[k] - (k === labels[b] ? 1 : 0)) / B, 14);
    }
    // Finite differences of the loss itself, in float64.
    const h = 1e-5;
    for (let i = 0; i < B * K; i++) {
      const zp = Float64Array.from(z),
        zm = Float64Array.from(z);
      zp[i] += h;
      zm[i] -= h;
      const numeric = (loss.forward(zp, labels, B) - loss.forward(zm, labels, B)) / (2 * h);
      expect(Math.abs(numeric - analytic[i]), `logit ${i}`).toBeLessThan(1e-9);
    }
    // Each row's gradient sums to zero (probabilities sum to 1).
    for (let b = 0; b < B; b++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += analytic[b * K + k];
      expect(Math.abs(s)).toBeLessThan(1e-15);
    }
  });

  it('NLL gradient in float32 agrees with float64 to float32 precision', () => {
    const K = 9,
      B = 6;
    const rng = new Rng(5);
    const z64 = randomLogits(B * K, rng);
    const z32 = Float32Array.from(z64);
    const labels = Int32Array.from({ length: B }, () => rng.int(K));
    const l64 = new SoftmaxNLL(K, B, Float64Array),
      l32 = new SoftmaxNLL(K, B, Float32Array);
    const a = l64.forward(Float64Array.from(z32), labels, B),
      b = l32.forward(z32, labels, B);
    expect(Math.abs(a - b)).toBeLessThan(1e-5);
    const g64 = l64.backward(labels, B),
      g32 = l32.backward(labels, B);
    expect(g32).toBeInstanceOf(Float32Array);
    for (let i = 0; i < B * K; i++) expect(Math.abs(g32[i] - g64[i])).toBeLessThan(1e-6);
  });

  describe('stability with huge logits', () => {
    for (const ctor of [Float64Array, Float32Array]) {
      it(`logits [1e4, 0, −1e4] give the exact finite loss and finite gradients (${ctor.name})`, () => {
        const loss = new SoftmaxNLL(3, 1, ctor);
        const z = ctor.from([1e4, 0, -1e4]);
        // Exact: L = log(1 + e^{−1e4} + e^{−2e4}) − (z_y − 1e4) = (1e4 − z_y) up to e^{−1e4}.
        const cases: Array<[number, number, number[]]> = [
          [0, 0, [0, 0, 0]],
          [1, 1e4, [1, -1, 0]],
          [2, 2e4, [1, 0, -1]],
        ];
        for (const [label, exact, grad] of cases) {
          const labels = Int32Array.from([label]);
          const value = loss.forward(z, labels, 1);
          expect(Number.isFinite(value)).toBe(true);
          expect(value).toBeCloseTo(exact, 9);
          const g = loss.backward(labels, 1);
          for (let k = 0; k < 3; k++) {
            expect(Number.isFinite(g[k])).toBe(true);
            expect(g[k]).toBeCloseTo(grad[k], 12);
          }
        }
        expect(Array.from(loss.probs.subarray(0, 3))).toEqual([1, 0, 0]);
      });
    }

    it('equal huge logits give log K, and a big shared offset does not change the loss', () => {
      const loss = new SoftmaxNLL(4, 2, Float64Array);
      const labels = Int32Array.from([2, 3]);
      expect(loss.forward(Float64Array.from([1e4, 1e4, 1e4, 1e4, -1e4, -1e4, -1e4, -1e4]), labels, 2)).toBeCloseTo(
        Math.log(4),
        12,
      );
      const z = randomLogits(8, new Rng(6));
      const base = loss.forward(z, labels, 2);
      const shifted = loss.forward(
        z.map((v) => v - 5e3),
        labels,
        2,
      );
      expect(Number.isFinite(shifted)).toBe(true);
      expect(shifted).toBeCloseTo(base, 9);
    });
  });
});
