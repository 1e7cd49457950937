import * as tf from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { demoDataset } from '../data/demo';
import { ScratchEngine } from '../engine/scratch-engine';
import { Rng } from '../engine/rng';
import type { LayerSpec } from '../engine/spec';
import { LockstepError } from '../errors';
import { PRESETS } from '../presets';
import type { EngineOptions } from '../train/engine';
import { Trainer } from '../train/trainer';
import { TFJS_BACKENDS, type TfjsBackend } from './backend';
import { conv2dBackpropFilterConfig } from './kernels/conv2d-backprop-filter';
import { TfjsEngine } from './tfjs-engine';

const wasmDir = fileURLToPath(new URL('../../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url));
const demo = demoDataset(16);
const head: LayerSpec[] = [{ type: 'Dense', units: 9, activation: 'softmax' }];

/** One spec holding every layer type the scratch engine accepts. */
const EVERY_LAYER = {
  input: [16, 16],
  layers: [
    { type: 'Conv1D', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' },
    { type: 'MaxPooling1D', poolSize: 2 },
    { type: 'Conv1D', filters: 3, kernelSize: 2, dilationRate: 2, useBias: false, activation: 'tanh' },
    { type: 'AveragePooling1D', poolSize: 3, strides: 2, padding: 'same' },
    { type: 'Activation', activation: 'sigmoid' },
    { type: 'Dropout', rate: 0.25 },
    { type: 'TimeSum' },
    { type: 'Dense', units: 6, activation: 'relu', useBias: false },
    ...head,
  ],
};

function options(
  spec: unknown,
  optimizer: EngineOptions['optimizer'] = { optimizer: 'adam', lr: 0.01 },
): EngineOptions {
  return { spec, optimizer, maxBatch: 20, seed: 3 };
}

const engines: TfjsEngine[] = [];
async function tfjsEngine(backend: TfjsBackend, o: EngineOptions): Promise<TfjsEngine> {
  const e = await TfjsEngine.create({ ...o, backend, wasmDir });
  engines.push(e);
  return e;
}
afterAll(() => engines.forEach((e) => e.dispose()));

/** Bit patterns, so −0 against +0 or one ulp apart fails as loudly as a wrong value. */
function bits(weights: Map<string, Float32Array>): Map<string, number[]> {
  return new Map([...weights].map(([k, v]) => [k, Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length))]));
}

/** Float32 values that exercise every exponent range: subnormals, −0, huge, plain. */
function awkwardWeights(template: Map<string, Float32Array>, seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const specials = [-0, 1e-45, -3e-39, 3.4e38, -1.17549435e-38, 0.1, 1 / 3];
  return new Map(
    [...template].map(([k, v]) => [
      k,
      Float32Array.from(v, (_, i) => (i < specials.length ? specials[i] : rng.normal() * 10 ** (rng.int(7) - 3))),
    ]),
  );
}

describe.each(TFJS_BACKENDS)('TfjsEngine on tfjs %s', (backend) => {
  it("starts from the scratch engine's initial weights, bit for bit", async () => {
    for (const spec of [PRESETS.get('tdnn')!.spec, PRESETS.get('fnn-10-relu')!.spec, EVERY_LAYER]) {
      const t = await tfjsEngine(backend, options(spec));
      expect(bits(t.getWeights())).toEqual(bits(new ScratchEngine(options(spec)).getWeights()));
    }
  });

  const weighted: Array<[string, unknown]> = [
    [
      'Conv1D with bias',
      { input: [8, 3], layers: [{ type: 'Conv1D', filters: 4, kernelSize: 3 }, { type: 'Flatten' }, ...head] },
    ],
    [
      'Conv1D without bias',
      {
        input: [8, 3],
        layers: [
          { type: 'Conv1D', filters: 4, kernelSize: 2, useBias: false, strides: 2 },
          { type: 'Flatten' },
          ...head,
        ],
      },
    ],
    ['Dense with bias', { input: [4, 3], layers: [{ type: 'Flatten' }, { type: 'Dense', units: 5 }, ...head] }],
    [
      'Dense without bias',
      { input: [4, 3], layers: [{ type: 'Flatten' }, { type: 'Dense', units: 5, useBias: false }, ...head] },
    ],
    ['every layer type', EVERY_LAYER],
  ];
  it.each(weighted)('weights transfer exactly both ways: %s', async (_name, spec) => {
    const scratch = new ScratchEngine(options(spec));
    const t = await tfjsEngine(backend, options(spec));
    const there = awkwardWeights(scratch.getWeights(), 1);
    scratch.setWeights(there);
    t.setWeights(scratch.getWeights());
    expect(bits(t.getWeights())).toEqual(bits(there));
    const back = awkwardWeights(there, 2);
    t.setWeights(back);
    scratch.setWeights(t.getWeights());
    expect(bits(scratch.getWeights())).toEqual(bits(back));
  });

  it('names its layers as the scratch engine does', async () => {
    const t = await tfjsEngine(backend, options(EVERY_LAYER));
    expect(t.model.layers.map((l) => l.name)).toEqual([
      'conv1d_1',
      'max_pooling1d_1',
      'conv1d_2',
      'average_pooling1d_1',
      'activation_1',
      'dropout_1',
      'time_sum_1',
      'dense_1',
      'dense_2',
    ]);
  });

  it('leaks no tensors: tf.memory().numTensors after every epoch equals that after the first', async () => {
    for (const optimizer of ['sgd', 'momentum', 'adam'] as const) {
      const t = await tfjsEngine(backend, options(EVERY_LAYER, { optimizer, lr: 0.05, weightDecay: 1e-3 }));
      // 45 examples in batches of 20: every epoch ends on a short batch.
      const split = { ...demo.splits.train!, n: 45 };
      const trainer = new Trainer(t, split, 20, 1);
      const counts: number[] = [];
      for (let epoch = 0; epoch < 4; epoch++) {
        while (!trainer.trainStep().epochDone);
        trainer.finishEpoch(demo.splits.dev, 9);
        t.getGradients();
        t.getWeights();
        counts.push(tf.memory().numTensors);
      }
      expect(counts, optimizer).toEqual(new Array(4).fill(counts[0]));
      t.dispose();
    }
  });

  it("predicts the scratch engine's probabilities, and reports zero gradients before its first step", async () => {
    const scratch = new ScratchEngine(options(EVERY_LAYER));
    const t = await tfjsEngine(backend, options(EVERY_LAYER));
    for (const g of t.getGradients().values()) expect(g.every((v) => v === 0)).toBe(true);
    const x = demo.splits.dev!.x.subarray(0, 20 * 16 * 16);
    const ps = new Float32Array(20 * 9),
      pt = new Float32Array(20 * 9);
    scratch.predict(x, 20, ps);
    t.predict(x, 20, pt);
    for (let i = 0; i < ps.length; i++) expect(Math.abs(ps[i] - pt[i])).toBeLessThan(1e-6);
  });
});

describe('a kernel the backend lacks', () => {
  it('is named, with the layer that needs it, before any training', async () => {
    await TfjsEngine.create({ ...options(PRESETS.get('tdnn')!.spec), backend: 'wasm', wasmDir }).then((e) =>
      e.dispose(),
    );
    tf.unregisterKernel(tf.Conv2DBackpropFilter, 'wasm');
    try {
      const attempt = TfjsEngine.create({ ...options(PRESETS.get('tdnn')!.spec), backend: 'wasm', wasmDir });
      await expect(attempt).rejects.toThrow(LockstepError);
      await expect(attempt).rejects.toThrow(
        "tfjs backend 'wasm' has no 'Conv2DBackpropFilter' kernel, which layer conv1d_1 (Conv1D) needs to train",
      );
    } finally {
      tf.registerKernel(conv2dBackpropFilterConfig('wasm'));
    }
  });
});
