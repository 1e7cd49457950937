import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { demoDataset } from '../data/demo';
import { gradientPoint } from '../engine/gradcheck';
import { ScratchEngine } from '../engine/scratch-engine';
import { runLockstep } from '../train/lockstep';
import { prepareData } from '../train/prepare';
import { TFJS_BACKENDS } from './backend';
import { TFJS_TOLERANCE, tfjsGradientCheck } from './gradcheck';
import { TfjsEngine } from './tfjs-engine';

/**
 * BatchNormalization in the tfjs engine (tf.layers.batchNormalization): the scratch backward
 * against tfjs autodiff, both engines training in lockstep (moving statistics included), and
 * weights (state included) moving exactly between them both ways.
 */
const wasmDir = fileURLToPath(new URL('../../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url));
const data = prepareData(demoDataset(), { standardize: true });

const SPEC = {
  input: [70, 16],
  layers: [
    { type: 'Conv1D', filters: 6, kernelSize: 5, strides: 2, padding: 'same', useBias: false },
    { type: 'BatchNormalization', momentum: 0.9 },
    { type: 'Activation', activation: 'relu' },
    { type: 'MaxPooling1D', poolSize: 2 },
    { type: 'Conv1D', filters: 8, kernelSize: 3, activation: 'tanh' },
    { type: 'GlobalAveragePooling1D' },
    { type: 'BatchNormalization', epsilon: 0.01 },
    { type: 'Dense', units: 9, activation: 'softmax' },
  ],
};

const MOVING = [
  'batch_normalization_1/moving_mean',
  'batch_normalization_1/moving_variance',
  'batch_normalization_2/moving_mean',
  'batch_normalization_2/moving_variance',
];

describe.each(TFJS_BACKENDS)('BatchNormalization on tfjs-%s', (backend) => {
  it('the scratch backward (training mode) matches tfjs autodiff, layer by layer', async () => {
    const point = gradientPoint(SPEC, { seed: 3, batch: 4 });
    const r = await tfjsGradientCheck(point, { backend, wasmDir });
    for (const l of r.layers) expect(l.tfjsMaxRelError, l.layer).toBeLessThanOrEqual(TFJS_TOLERANCE);
    expect(r.ok).toBe(true);
  });

  it('a wrong batch-norm gradient is caught at its layer', async () => {
    const point = gradientPoint(SPEC, { seed: 3, batch: 4 });
    point.paramGrads.get('batch_normalization_2/gamma')!.forEach((v, i, a) => (a[i] = v * 1.01));
    const r = await tfjsGradientCheck(point, { backend, wasmDir });
    const byLayer = Object.fromEntries(r.layers.map((l) => [l.layer, l.tfjsMaxRelError]));
    expect(byLayer.batch_normalization_2).toBeGreaterThan(TFJS_TOLERANCE);
    expect(byLayer.batch_normalization_1).toBeLessThanOrEqual(TFJS_TOLERANCE);
  });

  it('trains in lockstep: losses within 1e-4 every step, moving statistics and inference predictions agree', async () => {
    const options = { spec: SPEC, optimizer: { optimizer: 'adam' as const, lr: 0.005 }, maxBatch: 50, seed: 1 };
    const scratch = new ScratchEngine(options);
    const tfjs = await TfjsEngine.create({ ...options, backend, wasmDir });
    try {
      const r = runLockstep(scratch, tfjs, data.train, { steps: 20, batch: 50, seed: 1 });
      expect(r.maxRelLossDiff).toBeLessThanOrEqual(1e-4);
      expect(r.ok).toBe(true);
      expect(r.perStep.referenceLoss[19]).toBeLessThan(r.perStep.referenceLoss[0]);
      const a = scratch.getWeights(),
        b = tfjs.getWeights();
      expect([...b.keys()]).toEqual([...a.keys()]);
      for (const name of MOVING) {
        // 20 training passes moved them away from their start (0 and 1)…
        expect(
          Array.from(a.get(name)!).some((v) => Math.abs(v - (name.endsWith('mean') ? 0 : 1)) > 1e-3),
          name,
        ).toBe(true);
        // …by the same amounts in both engines.
        a.get(name)!.forEach((v, i) =>
          expect(Math.abs(v - b.get(name)![i]), `${name}[${i}]`).toBeLessThan(1e-4 * Math.max(1, Math.abs(v))),
        );
      }
      const x = data.dev!.x.subarray(0, 50 * 70 * 16);
      const p = new Float32Array(50 * 9),
        q = new Float32Array(50 * 9);
      scratch.predict(x, 50, p);
      tfjs.predict(x, 50, q);
      p.forEach((v, i) => expect(Math.abs(v - q[i])).toBeLessThan(1e-4));
    } finally {
      tfjs.dispose();
    }
  });

  it('weights, moving statistics included, move exactly between the engines both ways', async () => {
    const options = { spec: SPEC, optimizer: { optimizer: 'sgd' as const, lr: 0.1 }, maxBatch: 8, seed: 2 };
    const trained = new ScratchEngine(options);
    const x = data.train.x.subarray(0, 8 * 70 * 16);
    for (let i = 0; i < 3; i++) trained.trainStep(x, data.train.y.subarray(0, 8), 8);
    const weights = trained.getWeights();
    const tfjs = await TfjsEngine.create({ ...options, seed: 7, backend, wasmDir });
    try {
      tfjs.setWeights(weights);
      expect(tfjs.getWeights()).toEqual(weights);
      const back = new ScratchEngine({ ...options, seed: 9 });
      back.setWeights(tfjs.getWeights());
      expect(back.getWeights()).toEqual(weights);
      const p = new Float32Array(8 * 9),
        q = new Float32Array(8 * 9);
      trained.predict(x, 8, p);
      tfjs.predict(x, 8, q);
      p.forEach((v, i) => expect(Math.abs(v - q[i])).toBeLessThan(1e-5));
    } finally {
      tfjs.dispose();
    }
  });
});
