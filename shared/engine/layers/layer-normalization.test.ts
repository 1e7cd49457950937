import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveSpec } from '../spec';
import type { Layer } from '../types';
import { layerConformance } from './conformance.test-support';
import { LayerNormalization } from './layer-normalization';

const wasmDir = fileURLToPath(new URL('../../../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url));
const head = { type: 'Dense', units: 3, activation: 'softmax' };

describe('LayerNormalization', () => {
  it('keeps the shape; γ and β per feature of the last axis, as center and scale ask; Keras defaults', () => {
    const r = resolveSpec({
      input: [5, 3],
      layers: [
        { type: 'LayerNormalization' },
        { type: 'LayerNormalization', center: false },
        { type: 'Flatten' },
        { type: 'LayerNormalization', scale: false, epsilon: 0.01 },
        head,
      ],
    });
    expect(r.layers[0].config).toEqual({
      type: 'LayerNormalization',
      name: 'layer_normalization_1',
      epsilon: 1e-3,
      center: true,
      scale: true,
    });
    expect(r.layers[0].outputShape).toEqual([5, 3]);
    expect(r.layers[0].params).toEqual([
      { name: 'layer_normalization_1/gamma', shape: [3], fill: 1 },
      { name: 'layer_normalization_1/beta', shape: [3] },
    ]);
    expect(r.layers[1].params.map((p) => p.name)).toEqual(['layer_normalization_2/gamma']);
    expect(r.layers[3].params).toEqual([{ name: 'layer_normalization_3/beta', shape: [15] }]);
    expect(r.layers[3].paramCount).toBe(15);
  });

  it('rejects an epsilon ≤ 0, a non-boolean center and options it does not have', () => {
    const ln = (options: Record<string, unknown>) => () =>
      resolveSpec({ input: [6, 2], layers: [{ type: 'LayerNormalization', ...options }, { type: 'Flatten' }, head] });
    expect(ln({ epsilon: 0 })).toThrow('layer 1 LayerNormalization: epsilon must be a number in (0, ∞), got 0');
    expect(ln({ center: 1 })).toThrow('layer 1 LayerNormalization: center must be true or false, got 1');
    expect(ln({ axis: 1 })).toThrow(
      "layer 1 LayerNormalization: unknown option 'axis' (expected one of type, name, epsilon, center, scale)",
    );
  });

  it('normalises each row over its features with its own statistics, the same in training and inference', () => {
    const config = { type: 'LayerNormalization' as const, name: 'ln', epsilon: 1e-3, center: true, scale: true };
    const layer: Layer = new LayerNormalization(config, [2, 3], [2, 3], 1, Float64Array);
    layer.params[0].value.set([1, 2, 0.5]); // γ
    layer.params[1].value.set([0, 1, -1]); // β
    const x = Float64Array.from([1, 2, 3, 10, 10, 13]);
    const s1 = Math.sqrt(2 / 3 + 1e-3),
      s2 = Math.sqrt(2 + 1e-3); // σ² of [1, 2, 3] is 2/3, of [10, 10, 13] is 2
    const expected = [-1 / s1, 1, 0.5 / s1 - 1, -1 / s2, 2 * (-1 / s2) + 1, 0.5 * (2 / s2) - 1];
    const training = Array.from(layer.forward(x, 1, true));
    training.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 12));
    expect(Array.from(layer.forward(x, 1, false))).toEqual(training);
  });

  layerConformance({
    spec: {
      input: [12, 3],
      layers: [
        { type: 'Conv1D', filters: 4, kernelSize: 3, activation: 'tanh' },
        { type: 'LayerNormalization' },
        { type: 'MaxPooling1D', poolSize: 2 },
        { type: 'LayerNormalization', center: false, epsilon: 0.01 },
        { type: 'Flatten' },
        { type: 'LayerNormalization', scale: false },
        head,
      ],
    },
    trainSpec: {
      input: [70, 16],
      layers: [
        { type: 'Conv1D', filters: 8, kernelSize: 5, strides: 2 },
        { type: 'LayerNormalization' },
        { type: 'Activation', activation: 'tanh' },
        { type: 'GlobalAveragePooling1D' },
        { type: 'Dense', units: 9, activation: 'softmax' },
      ],
    },
    layerName: 'layer_normalization_1',
    wasmDir,
  });
});
