import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveSpec } from '../spec';
import { layerConformance } from './conformance.test-support';
import { GlobalMaxPooling1D } from './global-max-pooling1d';

const wasmDir = fileURLToPath(new URL('../../../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url));
const head = { type: 'Dense', units: 3, activation: 'softmax' };

describe('GlobalMaxPooling1D', () => {
  it('resolves [time, channels] to [channels] with no weights, named as Keras names it; needs a sequence', () => {
    const r = resolveSpec({ input: [7, 4], layers: [{ type: 'GlobalMaxPooling1D' }, head] });
    expect(r.layers[0]).toEqual({
      config: { type: 'GlobalMaxPooling1D', name: 'global_max_pooling1d_1' },
      inputShape: [7, 4],
      outputShape: [4],
      params: [],
      paramCount: 0,
    });
    expect(() =>
      resolveSpec({ input: [7, 4], layers: [{ type: 'Flatten' }, { type: 'GlobalMaxPooling1D' }, head] }),
    ).toThrow('layer 2 GlobalMaxPooling1D: expects a [time, channels] input, got [28]');
    expect(() => resolveSpec({ input: [7, 4], layers: [{ type: 'GlobalMaxPooling1D', poolSize: 2 }, head] })).toThrow(
      "layer 1 GlobalMaxPooling1D: unknown option 'poolSize' (expected one of type, name)",
    );
  });

  it("forward takes each channel's maximum over time (the first on ties); backward routes dy there", () => {
    // Two examples, T = 3, C = 2, channels last.
    const x = Float64Array.from([1, -5, 4, -2, 4, -3, /* example 2 */ -1, 0, -7, 2, -0.5, 2]);
    const layer = new GlobalMaxPooling1D({ type: 'GlobalMaxPooling1D', name: 'g' }, [3, 2], [2], 2, Float64Array);
    expect(Array.from(layer.forward(x, 2))).toEqual([4, -2, -0.5, 2]);
    const dx = layer.backward(Float64Array.from([10, 20, 30, 40]), 2)!;
    expect(Array.from(dx)).toEqual([0, 0, 10, 20, 0, 0, /* example 2 */ 0, 0, 0, 40, 30, 0]);
  });

  layerConformance({
    spec: {
      input: [12, 3],
      layers: [
        { type: 'Conv1D', filters: 4, kernelSize: 3, activation: 'sigmoid' },
        { type: 'GlobalMaxPooling1D' },
        head,
      ],
    },
    trainSpec: {
      input: [70, 16],
      layers: [
        { type: 'Conv1D', filters: 8, kernelSize: 5, activation: 'tanh' },
        { type: 'GlobalMaxPooling1D' },
        { type: 'Dense', units: 9, activation: 'softmax' },
      ],
    },
    layerName: 'global_max_pooling1d_1',
    wasmDir,
  });
});
