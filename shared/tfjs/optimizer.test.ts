import * as tf from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createOptimizer, type OptimizerSettings } from '../engine/optimizers';
import { Rng } from '../engine/rng';
import type { Param } from '../engine/types';
import { TFJS_BACKENDS } from './backend';
import { activateBackend } from './backend';
import { createTfjsOptimizer } from './optimizer';

const wasmDir = fileURLToPath(new URL('../../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url));

/**
 * Gradients spanning the magnitudes Adam meets: ordinary ones, tiny ones (where √v ≈ ε and a
 * one-ulp difference would change the step) and exact zeros.
 */
function gradientStream(n: number, steps: number): Float32Array[] {
  const rng = new Rng(7);
  return Array.from({ length: steps }, () =>
    Float32Array.from({ length: n }, (_, i) => {
      const g = rng.normal();
      return i % 5 === 0 ? 0 : i % 5 === 1 ? g * 1e-9 : i % 5 === 2 ? g * 1e-4 : g;
    }),
  );
}

describe.each(TFJS_BACKENDS)('the scratch optimizers against tfjs %s, given the same gradients', (backend) => {
  it.each<OptimizerSettings>([
    { optimizer: 'adam', lr: 0.001 },
    { optimizer: 'adam', lr: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-6 },
  ])('%j takes bit-identical steps for 60 steps', async (settings) => {
    await activateBackend({ backend, wasmDir });
    const n = 40,
      steps = 60;
    const initial = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.3);
    const param: Param = {
      name: 'w',
      shape: [n],
      value: Float32Array.from(initial),
      grad: new Float32Array(n),
      decay: true,
    };
    const scratch = createOptimizer([param], settings);
    const variable = tf.variable(tf.tensor1d(initial), true, `optimizer_test_${backend}_${settings.lr}`);
    const tfjs = createTfjsOptimizer(settings);
    try {
      for (const g of gradientStream(n, steps)) {
        param.grad.set(g);
        scratch.step();
        tf.tidy(() => tfjs.applyGradients({ [variable.name]: tf.tensor1d(g) }));
      }
      const expected = variable.dataSync() as Float32Array;
      const differing = Array.from(param.value).filter((w, i) => w !== expected[i]).length;
      expect(differing).toBe(0);
      expect(Array.from(param.value)).not.toEqual(Array.from(initial));
    } finally {
      tfjs.dispose();
      variable.dispose();
    }
  });
});
