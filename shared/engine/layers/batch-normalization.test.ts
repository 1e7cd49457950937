import { describe, expect, it } from 'vitest';
import { createOptimizer } from '../optimizers';
import { Network } from '../network';
import { Rng } from '../rng';
import type { LayerSpec } from '../spec';
import type { FloatArray, Layer } from '../types';

/*
 * BatchNormalization against a naive reference written from its definition (Keras / tfjs-layers:
 * statistics per channel over batch and time, biased variance, ε inside the square root, moving
 * statistics m ← momentum·m + (1 − momentum)·batch statistic), and its backward against float64
 * central differences of the forward pass, in training mode (where every x moves the batch
 * statistics) and in inference mode.
 */

const EPS = 1e-3;

function bnNetwork(
  input: [number, number],
  layer: LayerSpec,
  maxBatch: number,
  prefix: LayerSpec[] = [],
): { net: Network; bn: Layer } {
  const net = new Network(
    { input, layers: [...prefix, layer, { type: 'Flatten' }, { type: 'Dense', units: 2, activation: 'softmax' }] },
    { maxBatch, dtype: 'float64', seed: 3 },
  );
  const bn = net.layers[prefix.length];
  bn.needInputGrad = true;
  const rng = new Rng(5);
  for (const p of bn.params)
    for (let i = 0; i < p.value.length; i++) p.value[i] = rng.uniform(0.5, 1.5) * (rng.next() < 0.5 ? -1 : 1);
  return { net, bn };
}

function randomArray(n: number, rng: Rng): Float64Array {
  return Float64Array.from({ length: n }, () => 2 * rng.normal() + 1);
}

/** Per-channel mean and biased variance over the first n rows of a [n, C] array. */
function moments(x: ArrayLike<number>, n: number, C: number): { mean: number[]; variance: number[] } {
  const mean = Array.from({ length: C }, (_, c) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i * C + c];
    return s / n;
  });
  const variance = Array.from({ length: C }, (_, c) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += (x[i * C + c] - mean[c]) ** 2;
    return s / n;
  });
  return { mean, variance };
}

function weight(bn: Layer, suffix: string): FloatArray {
  const w = [...bn.params, ...(bn.state ?? [])].find((p) => p.name.endsWith(`/${suffix}`));
  if (!w) throw new Error(`no ${suffix}`);
  return w.value;
}

describe('BatchNormalization forward', () => {
  it.each([
    { what: '[time, channels] input: statistics over batch and time', input: [7, 3] as [number, number], batch: 4 },
    { what: 'flat input: statistics over the batch', input: [5, 2] as [number, number], batch: 6, flat: true },
  ])('training: y = γ(x − μ)/√(σ² + ε) + β with the batch statistics; $what', ({ input, batch, flat }) => {
    const { bn } = bnNetwork(input, { type: 'BatchNormalization' }, batch, flat ? [{ type: 'Flatten' }] : []);
    const C = bn.inputShape[bn.inputShape.length - 1],
      rows = (batch * bn.inputShape.reduce((a, b) => a * b, 1)) / C;
    expect(bn.outputShape).toEqual(bn.inputShape);
    const x = randomArray(rows * C, new Rng(1));
    const y = bn.forward(x, batch, true);
    const { mean, variance } = moments(x, rows, C);
    const gamma = weight(bn, 'gamma'),
      beta = weight(bn, 'beta');
    for (let i = 0; i < rows; i++)
      for (let c = 0; c < C; c++) {
        const want = (gamma[c] * (x[i * C + c] - mean[c])) / Math.sqrt(variance[c] + EPS) + beta[c];
        expect(y[i * C + c]).toBeCloseTo(want, 12);
      }
  });

  it('a hand-computed case: one channel, x = [1, 3], γ = 2, β = 0.5 gives y = 0.5 ∓ 2/√(1 + ε)', () => {
    const { bn } = bnNetwork([1, 1], { type: 'BatchNormalization' }, 2);
    weight(bn, 'gamma')[0] = 2;
    weight(bn, 'beta')[0] = 0.5;
    const y = bn.forward(Float64Array.from([1, 3]), 2, true);
    expect(y[0]).toBeCloseTo(0.5 - 2 / Math.sqrt(1 + EPS), 14);
    expect(y[1]).toBeCloseTo(0.5 + 2 / Math.sqrt(1 + EPS), 14);
  });

  it('each training pass moves the moving statistics by (1 − momentum) towards the batch statistics; inference uses them and leaves them', () => {
    const momentum = 0.9,
      B = 3,
      T = 4,
      C = 2;
    const { bn } = bnNetwork([T, C], { type: 'BatchNormalization', momentum }, B);
    const mm = weight(bn, 'moving_mean'),
      mv = weight(bn, 'moving_variance');
    expect(Array.from(mm)).toEqual([0, 0]);
    expect(Array.from(mv)).toEqual([1, 1]);
    const rng = new Rng(2);
    const want = { mean: [0, 0], variance: [1, 1] };
    for (let pass = 0; pass < 3; pass++) {
      const x = randomArray(B * T * C, rng);
      bn.forward(x, B, true);
      const m = moments(x, B * T, C);
      for (let c = 0; c < C; c++) {
        want.mean[c] = momentum * want.mean[c] + (1 - momentum) * m.mean[c];
        want.variance[c] = momentum * want.variance[c] + (1 - momentum) * m.variance[c];
        expect(mm[c]).toBeCloseTo(want.mean[c], 13);
        expect(mv[c]).toBeCloseTo(want.variance[c], 13);
      }
    }
    const before = [Array.from(mm), Array.from(mv)];
    const x = randomArray(B * T * C, rng);
    const y = bn.forward(x, B, false);
    expect([Array.from(mm), Array.from(mv)]).toEqual(before);
    const gamma = weight(bn, 'gamma'),
      beta = weight(bn, 'beta');
    for (let i = 0; i < B * T; i++)
      for (let c = 0; c < C; c++)
        expect(y[i * C + c]).toBeCloseTo((gamma[c] * (x[i * C + c] - mm[c])) / Math.sqrt(mv[c] + EPS) + beta[c], 13);
  });

  it('epsilon is the one given', () => {
    const { bn } = bnNetwork([1, 1], { type: 'BatchNormalization', epsilon: 0.5 }, 2);
    weight(bn, 'gamma')[0] = 1;
    weight(bn, 'beta')[0] = 0;
    expect(bn.forward(Float64Array.from([1, 3]), 2, true)[1]).toBeCloseTo(1 / Math.sqrt(1.5), 14);
  });
});

describe('BatchNormalization backward', () => {
  /** Float64 central differences of f = Σ dy·y(θ), the function whose gradient backward(dy) returns. */
  function check(training: boolean): void {
    const B = 3,
      T = 5,
      C = 2;
    const { bn } = bnNetwork([T, C], { type: 'BatchNormalization', momentum: 0.8 }, B);
    const rng = new Rng(training ? 11 : 12);
    // Non-trivial moving statistics for the inference case.
    for (let i = 0; i < 3; i++) bn.forward(randomArray(B * T * C, rng), B, true);
    const x = randomArray(B * T * C, rng),
      dy = randomArray(B * T * C, rng);
    const state = (bn.state ?? []).map((s) => Float64Array.from(s.value));
    const f = (): number => {
      const y = bn.forward(x, B, training);
      (bn.state ?? []).forEach((s, i) => s.value.set(state[i])); // training passes would move them
      let sum = 0;
      for (let i = 0; i < x.length; i++) sum += dy[i] * y[i];
      return sum;
    };
    const central = (a: FloatArray, i: number): number => {
      const h = 1e-5,
        v = a[i];
      a[i] = v + h;
      const up = f();
      a[i] = v - h;
      const down = f();
      a[i] = v;
      return (up - down) / (2 * h);
    };
    f();
    const dx = Float64Array.from(bn.backward(dy, B)!);
    const grads = bn.params.map((p) => Float64Array.from(p.grad));
    for (let i = 0; i < x.length; i++) expect(Math.abs(central(x, i) - dx[i]), `dx[${i}]`).toBeLessThan(1e-8);
    bn.params.forEach((p, j) => {
      for (let i = 0; i < C; i++)
        expect(Math.abs(central(p.value, i) - grads[j][i]), `${p.name}[${i}]`).toBeLessThan(1e-8);
    });
    if (training) {
      // The batch statistics make each dx depend on the whole batch: Σ over a channel of dx is 0.
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let i = 0; i < B * T; i++) s += dx[i * C + c];
        expect(Math.abs(s)).toBeLessThan(1e-12);
      }
    }
  }

  it('training mode: dx, dγ and dβ match finite differences through the batch statistics', () => check(true));
  it('inference mode: dx = γ/√(moving variance + ε)·dy, and dγ, dβ, match finite differences', () => check(false));
});

describe('BatchNormalization in a network', () => {
  const spec = {
    input: [6, 3] as [number, number],
    layers: [
      { type: 'Conv1D', filters: 4, kernelSize: 3 },
      { type: 'BatchNormalization' },
      { type: 'Activation', activation: 'relu' },
      { type: 'GlobalAveragePooling1D' },
      { type: 'Dense', units: 3, activation: 'softmax' },
    ],
  };

  it('γ starts at 1, β at 0, the moving mean at 0 and the moving variance at 1', () => {
    const net = new Network(spec, { maxBatch: 2 });
    const w = net.getWeights();
    expect([...w.keys()]).toEqual([
      'conv1d_1/kernel',
      'conv1d_1/bias',
      'batch_normalization_1/gamma',
      'batch_normalization_1/beta',
      'batch_normalization_1/moving_mean',
      'batch_normalization_1/moving_variance',
      'dense_1/kernel',
      'dense_1/bias',
    ]);
    expect(Array.from(w.get('batch_normalization_1/gamma')!)).toEqual([1, 1, 1, 1]);
    expect(Array.from(w.get('batch_normalization_1/beta')!)).toEqual([0, 0, 0, 0]);
    expect(Array.from(w.get('batch_normalization_1/moving_mean')!)).toEqual([0, 0, 0, 0]);
    expect(Array.from(w.get('batch_normalization_1/moving_variance')!)).toEqual([1, 1, 1, 1]);
    expect(net.paramCount).toBe(4 * 9 + 4 + 4 * 4 + 3 * 4 + 3);
  });

  it('γ and β train; the moving statistics are state: saved and restored, never touched by the optimizer', () => {
    const net = new Network(spec, { maxBatch: 4, seed: 2 });
    expect(net.params.map((p) => p.name)).not.toContain('batch_normalization_1/moving_mean');
    const optimizer = createOptimizer(net.params, { optimizer: 'sgd', lr: 0.1 });
    const rng = new Rng(3);
    const x = Float32Array.from({ length: 4 * 18 }, () => rng.normal() + 2);
    const labels = Int32Array.from([0, 1, 2, 1]);
    net.computeGradients(x, labels, 4);
    const afterForward = net.getWeights();
    optimizer.step();
    const afterStep = net.getWeights();
    for (const name of ['batch_normalization_1/moving_mean', 'batch_normalization_1/moving_variance'])
      expect(afterStep.get(name)).toEqual(afterForward.get(name));
    expect(afterStep.get('batch_normalization_1/gamma')).not.toEqual(afterForward.get('batch_normalization_1/gamma'));
    // Moved by the training forward pass: towards the batch mean (about 2 · Σ kernel) from 0.
    expect(Array.from(afterStep.get('batch_normalization_1/moving_mean')!).some((v) => v !== 0)).toBe(true);

    const copy = new Network(spec, { maxBatch: 4, seed: 9 });
    copy.setWeights(afterStep);
    expect(copy.getWeights()).toEqual(afterStep);
    expect(Array.from(copy.predict(x, 4))).toEqual(Array.from(net.predict(x, 4)));
    const missing = new Map(afterStep);
    missing.delete('batch_normalization_1/moving_variance');
    expect(() => copy.setWeights(missing)).toThrow('setWeights: no values for batch_normalization_1/moving_variance');
  });
});
