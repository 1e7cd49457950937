import * as tf from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { gradientPoint } from '../engine/gradcheck';
import { PRESETS } from '../presets';
import { activateBackend, TFJS_BACKENDS } from './backend';
import { TFJS_TOLERANCE, tfjsGradientCheck } from './gradcheck';

const wasmDir = fileURLToPath(new URL('../../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url));
/** tfjs's own cpu AvgPoolGrad (scales partial 'same' windows by 1/poolSize), before Lockstep replaces it. */
const tfjsCpuAvgPoolGrad = tf.getKernel(tf.AvgPoolGrad, 'cpu')!;

const EVERY_LAYER = {
  input: [30, 4],
  layers: [
    { type: 'Conv1D', filters: 5, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' },
    { type: 'MaxPooling1D', poolSize: 3, strides: 2, padding: 'same' },
    { type: 'Conv1D', filters: 4, kernelSize: 2, dilationRate: 2, activation: 'tanh' },
    { type: 'AveragePooling1D', poolSize: 2, strides: 1, padding: 'same' },
    { type: 'Dropout', rate: 0.3 },
    { type: 'Activation', activation: 'sigmoid' },
    { type: 'TimeSum' },
    { type: 'Dense', units: 9, activation: 'softmax' },
  ],
};

describe.each(TFJS_BACKENDS)('scratch backward against tfjs-%s autodiff', (backend) => {
  it.each([
    ['tdnn', PRESETS.get('tdnn')!.spec],
    ['fnn-10-tanh', PRESETS.get('fnn-10-tanh')!.spec],
    ['every layer type', EVERY_LAYER],
  ])('%s: every layer within the float32 tolerance', async (_name, spec) => {
    const point = gradientPoint(spec, { seed: 1, batch: 3 });
    const r = await tfjsGradientCheck(point, { backend, wasmDir });
    expect(r.tolerance).toBe(TFJS_TOLERANCE);
    expect(r.layers.map((l) => l.layer)).toEqual(point.net.layers.map((l) => l.name));
    for (const l of r.layers) expect(l.tfjsMaxRelError, l.layer).toBeLessThanOrEqual(TFJS_TOLERANCE);
    expect(r.ok).toBe(true);
  });

  it('pins a wrong gradient to its layer', async () => {
    const point = gradientPoint(EVERY_LAYER, { seed: 2, batch: 3 });
    point.paramGrads.get('conv1d_2/kernel')!.forEach((v, i, a) => (a[i] = v * 1.01));
    const r = await tfjsGradientCheck(point, { backend, wasmDir });
    expect(r.ok).toBe(false);
    const byLayer = Object.fromEntries(r.layers.map((l) => [l.layer, l.tfjsMaxRelError]));
    expect(byLayer.conv1d_2).toBeGreaterThan(5e-3);
    expect(byLayer.conv1d_1).toBeLessThanOrEqual(TFJS_TOLERANCE);
  });
});

it("catches tfjs's own AvgPoolGrad defect at the average pooling layer", async () => {
  await activateBackend({ backend: 'cpu' });
  const corrected = tf.getKernel(tf.AvgPoolGrad, 'cpu')!;
  tf.unregisterKernel(tf.AvgPoolGrad, 'cpu');
  tf.registerKernel(tfjsCpuAvgPoolGrad);
  try {
    const r = await tfjsGradientCheck(gradientPoint(EVERY_LAYER, { seed: 1, batch: 3 }), { backend: 'cpu' });
    // The wrong input gradient of the pool flows into every layer before it, none after it:
    // the last layer (in forward order) that fails is the pool itself.
    const failing = r.layers.filter((l) => l.tfjsMaxRelError > TFJS_TOLERANCE).map((l) => l.layer);
    expect(r.ok).toBe(false);
    expect(failing[failing.length - 1]).toBe('average_pooling1d_1');
  } finally {
    tf.unregisterKernel(tf.AvgPoolGrad, 'cpu');
    tf.registerKernel(corrected);
  }
});
