import { describe, expect, it } from 'vitest';
import { LockstepError } from '../errors';
import { createOptimizer, type OptimizerSettings } from './optimizers';
import { ScratchEngine } from './scratch-engine';
import type { FloatArrayCtor, Param } from './types';

/*
 * Three steps of each optimizer on a tiny model (a 2×2 kernel that decays, a bias that does
 * not), against the update rules written out here in float64 (tfjs's conventions):
 *   decay:     g ← g + λ·w                         (kernels only)
 *   sgd:       w ← w − lr·g
 *   momentum:  a ← μ·a + g;  w ← w − lr·a           (Nesterov: w ← w − lr·(g + μ·a))
 *   adam:      m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
 *              w ← w − lr·(m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε),  t = 1, 2, …,  ε = 1e-7
 */

const KERNEL0 = [0.5, -1.25, 2, 0.75];
const BIAS0 = [0.1, -0.3];

function makeParams(ctor: FloatArrayCtor): Param[] {
  return [
    { name: 'dense_1/kernel', shape: [2, 2], value: ctor.from(KERNEL0), grad: new ctor(4), decay: true },
    { name: 'dense_1/bias', shape: [2], value: ctor.from(BIAS0), grad: new ctor(2), decay: false },
  ];
}

/** The gradient at step t: depends on the current weight (like a real loss) and on t. */
function gradAt(w: number, i: number, t: number): number {
  return 0.8 * w + Math.sin(3 * i + t) - 0.2;
}

interface Reference {
  optimizer: 'sgd' | 'momentum' | 'adam';
  lr: number;
  momentum?: number;
  nesterov?: boolean;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  weightDecay?: number;
}

/** The update rules in plain float64, one tensor at a time, with their own state. */
function referenceRun(s: Reference, steps: number, lrAt: (t: number) => number = () => s.lr): number[][] {
  const w = [[...KERNEL0], [...BIAS0]];
  const decays = [true, false];
  const state1 = w.map((t) => t.map(() => 0)); // momentum accumulator / Adam m
  const state2 = w.map((t) => t.map(() => 0)); // Adam v
  const mu = s.momentum ?? 0.9,
    b1 = s.beta1 ?? 0.9,
    b2 = s.beta2 ?? 0.999,
    eps = s.epsilon ?? 1e-7,
    lambda = s.weightDecay ?? 0;
  for (let t = 1; t <= steps; t++) {
    const lr = lrAt(t);
    for (let j = 0; j < w.length; j++) {
      const grads = w[j].map((wi, i) => gradAt(wi, j * 10 + i, t));
      for (let i = 0; i < w[j].length; i++) {
        const g = grads[i] + (decays[j] ? lambda * w[j][i] : 0);
        if (s.optimizer === 'sgd') {
          w[j][i] = w[j][i] - lr * g;
        } else if (s.optimizer === 'momentum') {
          const a = mu * state1[j][i] + g;
          state1[j][i] = a;
          w[j][i] = w[j][i] - lr * (s.nesterov ? g + mu * a : a);
        } else {
          const m = b1 * state1[j][i] + (1 - b1) * g;
          const v = b2 * state2[j][i] + (1 - b2) * g * g;
          state1[j][i] = m;
          state2[j][i] = v;
          const mHat = m / (1 - Math.pow(b1, t));
          const vHat = v / (1 - Math.pow(b2, t));
          w[j][i] = w[j][i] - (lr * mHat) / (Math.sqrt(vHat) + eps);
        }
      }
    }
  }
  return w;
}

/** The engine's optimizer on the same params and gradients. */
function engineRun(
  s: OptimizerSettings,
  steps: number,
  ctor: FloatArrayCtor,
  lrAt?: (t: number) => number,
): number[][] {
  const params = makeParams(ctor);
  const opt = createOptimizer(params, s);
  for (let t = 1; t <= steps; t++) {
    if (lrAt) opt.lr = lrAt(t);
    params.forEach((p, j) => {
      for (let i = 0; i < p.value.length; i++) p.grad[i] = gradAt(p.value[i], j * 10 + i, t);
    });
    opt.step();
  }
  return params.map((p) => Array.from(p.value));
}

function expectWeights(actual: number[][], expected: number[][], tol: number): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((tensor, j) =>
    tensor.forEach((v, i) => {
      if (!(Math.abs(v - expected[j][i]) <= tol))
        throw new Error(`tensor ${j} element ${i}: ${v}, expected ${expected[j][i]} (±${tol})`);
    }),
  );
}

const CASES: Reference[] = [
  { optimizer: 'sgd', lr: 0.1 },
  { optimizer: 'sgd', lr: 0.05, weightDecay: 0.2 },
  { optimizer: 'momentum', lr: 0.1 },
  { optimizer: 'momentum', lr: 0.1, momentum: 0.5 },
  { optimizer: 'momentum', lr: 0.1, momentum: 0.8, nesterov: true },
  { optimizer: 'momentum', lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.3 },
  { optimizer: 'adam', lr: 0.01 },
  { optimizer: 'adam', lr: 0.1, beta1: 0.8, beta2: 0.99, epsilon: 1e-3 },
  { optimizer: 'adam', lr: 0.02, weightDecay: 0.5 },
];

describe('optimizers: three steps against the update rules in float64', () => {
  it.each(CASES)(
    '$optimizer lr=$lr momentum=$momentum nesterov=$nesterov β1=$beta1 β2=$beta2 ε=$epsilon decay=$weightDecay (float64)',
    (s) => {
      const want = referenceRun(s, 3);
      const got = engineRun(s, 3, Float64Array);
      expectWeights(got, want, 1e-13);
      // The run moved the weights (a no-op optimizer cannot pass).
      expect(Math.abs(got[0][0] - KERNEL0[0])).toBeGreaterThan(1e-3);
    },
  );

  it.each(CASES)('$optimizer lr=$lr nesterov=$nesterov decay=$weightDecay (float32 params)', (s) => {
    expectWeights(engineRun(s, 3, Float32Array), referenceRun(s, 3), 2e-6);
  });

  it('the learning rate can change between steps', () => {
    for (const optimizer of ['sgd', 'momentum', 'adam'] as const) {
      const lrAt = (t: number): number => 0.1 / t;
      const s = { optimizer, lr: 0.1 };
      expectWeights(engineRun(s, 3, Float64Array, lrAt), referenceRun(s, 3, lrAt), 1e-13);
    }
  });
});

describe('optimizer details', () => {
  it('Adam bias correction starts at t = 1 and ε defaults to 1e-7: the first step is lr·g/(|g| + ε)', () => {
    // With m̂ = g and √v̂ = |g| at t = 1, a gradient equal to ε moves the weight by exactly lr/2.
    const p: Param = {
      name: 'k',
      shape: [1, 3],
      value: Float64Array.from([0, 0, 0]),
      grad: Float64Array.from([1e-7, 0.5, -2]),
      decay: true,
    };
    createOptimizer([p], { optimizer: 'adam', lr: 0.01 }).step();
    expect(p.value[0]).toBeCloseTo(-0.005, 15);
    expect(p.value[1]).toBeCloseTo((-0.01 * 0.5) / (0.5 + 1e-7), 15);
    expect(p.value[2]).toBeCloseTo((0.01 * 2) / (2 + 1e-7), 15);
  });

  it('Adam defaults are β1 = 0.9, β2 = 0.999', () => {
    const s = { optimizer: 'adam' as const, lr: 0.01 };
    expectWeights(
      engineRun(s, 3, Float64Array),
      referenceRun({ ...s, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }, 3),
      1e-13,
    );
    // And the reference is sensitive to them.
    expect(Math.abs(referenceRun({ ...s, beta2: 0.99 }, 3)[0][0] - referenceRun(s, 3)[0][0])).toBeGreaterThan(1e-6);
  });

  it('momentum defaults to 0.9 and plain (not Nesterov)', () => {
    const s = { optimizer: 'momentum' as const, lr: 0.1 };
    expectWeights(engineRun(s, 3, Float64Array), referenceRun({ ...s, momentum: 0.9, nesterov: false }, 3), 1e-13);
    expect(Math.abs(referenceRun({ ...s, nesterov: true }, 3)[0][0] - referenceRun(s, 3)[0][0])).toBeGreaterThan(1e-3);
  });

  it('weight decay touches kernels only: biases move exactly as without decay', () => {
    for (const optimizer of ['sgd', 'momentum', 'adam'] as const) {
      const plain = engineRun({ optimizer, lr: 0.05 }, 3, Float64Array);
      const decayed = engineRun({ optimizer, lr: 0.05, weightDecay: 0.5 }, 3, Float64Array);
      expect(decayed[1], optimizer).toEqual(plain[1]);
      expect(Math.abs(decayed[0][1] - plain[0][1]), optimizer).toBeGreaterThan(1e-4);
    }
  });

  it('one SGD step with decay, by hand: w = 2, g = 0.5, λ = 0.1, lr = 0.1 → 2 − 0.1·(0.5 + 0.2) = 1.93', () => {
    const k: Param = {
      name: 'k',
      shape: [1, 1],
      value: Float64Array.from([2]),
      grad: Float64Array.from([0.5]),
      decay: true,
    };
    const b: Param = {
      name: 'b',
      shape: [1],
      value: Float64Array.from([2]),
      grad: Float64Array.from([0.5]),
      decay: false,
    };
    createOptimizer([k, b], { optimizer: 'sgd', lr: 0.1, weightDecay: 0.1 }).step();
    expect(k.value[0]).toBeCloseTo(1.93, 15);
    expect(b.value[0]).toBeCloseTo(1.95, 15);
  });

  it('rejects a bad learning rate, a negative decay and an unknown optimizer', () => {
    const params = makeParams(Float64Array);
    expect(() => createOptimizer(params, { optimizer: 'sgd', lr: 0 })).toThrow(LockstepError);
    expect(() => createOptimizer(params, { optimizer: 'sgd', lr: -1 })).toThrow(
      /learning rate must be a positive number/,
    );
    expect(() => createOptimizer(params, { optimizer: 'sgd', lr: Infinity })).toThrow(/learning rate/);
    expect(() => createOptimizer(params, { optimizer: 'adam', lr: 0.1, weightDecay: -0.1 })).toThrow(
      /weight decay must be ≥ 0/,
    );
    expect(() => createOptimizer(params, { optimizer: 'rmsprop' as 'sgd', lr: 0.1 })).toThrow(
      /unknown optimizer 'rmsprop'/,
    );
  });
});

describe('optimizer state, reference and fast', () => {
  const spec = {
    input: [6, 3],
    layers: [
      { type: 'Conv1D', filters: 4, kernelSize: 3, activation: 'tanh' },
      { type: 'Flatten' },
      { type: 'Dense', units: 3, activation: 'softmax' },
    ],
  };
  const x = Float32Array.from({ length: 4 * 18 }, (_, i) => Math.sin(i));
  const y = Int32Array.from([0, 1, 2, 1]);
  const settings: OptimizerSettings[] = [
    { optimizer: 'momentum', lr: 0.1, momentum: 0.9 },
    { optimizer: 'adam', lr: 0.01 },
  ];
  for (const kernels of ['fast', 'reference'] as const) {
    for (const optimizer of settings) {
      it(`${kernels} ${optimizer.optimizer}: a twin given the weights and the optimizer state steps exactly alike; given the weights alone it does not`, () => {
        const make = () => new ScratchEngine({ spec, optimizer, maxBatch: 4, seed: 3, kernels });
        const trained = make();
        for (let i = 0; i < 5; i++) trained.trainStep(x, y, 4);
        const twin = make(),
          weightsOnly = make();
        twin.setWeights(trained.getWeights());
        twin.setOptimizerState(trained.getOptimizerState());
        weightsOnly.setWeights(trained.getWeights());
        for (const e of [trained, twin, weightsOnly]) e.trainStep(x, y, 4);
        expect(twin.getWeights()).toEqual(trained.getWeights());
        expect(weightsOnly.getWeights()).not.toEqual(trained.getWeights());
        expect(twin.getOptimizerState()).toEqual(trained.getOptimizerState());
      });
    }
  }

  it('refuses a state of another optimizer', () => {
    const adam = new ScratchEngine({ spec, optimizer: { optimizer: 'adam', lr: 0.01 }, maxBatch: 4, seed: 3 });
    const momentum = new ScratchEngine({ spec, optimizer: { optimizer: 'momentum', lr: 0.1 }, maxBatch: 4, seed: 3 });
    expect(() => adam.setOptimizerState(momentum.getOptimizerState())).toThrow(LockstepError);
    expect(() => adam.setOptimizerState(momentum.getOptimizerState())).toThrow(
      'optimizer state of 4 buffers and 0 scalars does not fit this optimizer (8 and 2)',
    );
  });
});
