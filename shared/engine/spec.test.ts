import { describe, expect, it } from 'vitest';
import { LockstepError } from '../errors';
import { PRESETS } from '../presets';
import { resolveSpec, type LayerSpec, type NetworkSpec } from './spec';

/**
 * Keras's conv_output_length (keras/utils/conv_utils.py), written out independently of
 * window1d: the dilated kernel spans (k − 1)·d + 1 steps; 'valid' keeps L − span + 1 positions,
 * 'same' keeps L; then every stride-th: ⌈len / s⌉ = (len + s − 1) // s.
 */
function kerasOutputLength(L: number, k: number, padding: 'valid' | 'same', s: number, d = 1): number {
  const span = (k - 1) * d + 1;
  const len = padding === 'same' ? L : L - span + 1;
  return Math.floor((len + s - 1) / s);
}

/** A softmax head so a spec ending in a sequence layer still resolves. */
const head = (units = 4): LayerSpec[] => [{ type: 'Flatten' }, { type: 'Dense', units, activation: 'softmax' }];

function rejection(spec: unknown, classes?: number): string {
  try {
    resolveSpec(spec, classes);
  } catch (e) {
    expect(e).toBeInstanceOf(LockstepError);
    return (e as Error).message;
  }
  throw new Error('resolveSpec accepted a spec it should have rejected');
}

describe('resolveSpec: parameter counts', () => {
  it('the tdnn preset has 551 params: conv 3·16·8+8, conv 5·8·3+3, dense 3·9+9', () => {
    const r = resolveSpec(PRESETS.get('tdnn')!.spec, 9);
    expect(r.input).toEqual([70, 16]);
    expect(r.layers.map((l) => l.paramCount)).toEqual([3 * 16 * 8 + 8, 5 * 8 * 3 + 3, 0, 3 * 9 + 9]);
    expect(r.paramCount).toBe(551);
    expect(r.classes).toBe(9);
    // Shapes: valid conv k=3 on 70 → 68, valid conv k=5 on 68 → 64, TimeSum → [3].
    expect(r.layers.map((l) => l.outputShape)).toEqual([[68, 8], [64, 3], [3], [9]]);
    expect(r.layers.map((l) => l.inputShape)).toEqual([[70, 16], [68, 8], [64, 3], [3]]);
    expect(r.layers[0].params).toEqual([
      { name: 'conv1d_1/kernel', shape: [3, 16, 8] },
      { name: 'conv1d_1/bias', shape: [8] },
    ]);
    expect(r.layers[3].params).toEqual([
      { name: 'dense_1/kernel', shape: [3, 9] },
      { name: 'dense_1/bias', shape: [9] },
    ]);
  });

  for (const act of ['relu', 'sigmoid', 'tanh']) {
    it(`fnn-50-${act}: 1120·50+50 + 50·50+50 + 50·9+9 = 59059`, () => {
      const r = resolveSpec(PRESETS.get(`fnn-50-${act}`)!.spec, 9);
      expect(r.paramCount).toBe(1120 * 50 + 50 + 50 * 50 + 50 + 50 * 9 + 9);
      expect(r.paramCount).toBe(59059);
      expect(r.layers.map((l) => l.outputShape)).toEqual([[1120], [50], [50], [9]]);
    });
    it(`fnn-10-${act}: 1120·10+10 + 10·10+10 + 10·9+9 = 11419`, () => {
      const r = resolveSpec(PRESETS.get(`fnn-10-${act}`)!.spec, 9);
      expect(r.paramCount).toBe(1120 * 10 + 10 + 10 * 10 + 10 + 10 * 9 + 9);
      expect(r.paramCount).toBe(11419);
      expect(r.layers.map((l) => l.outputShape)).toEqual([[1120], [10], [10], [9]]);
    });
  }

  it('useBias false drops the bias from the count and the param list', () => {
    const r = resolveSpec({
      input: [10, 3],
      layers: [
        { type: 'Conv1D', filters: 4, kernelSize: 3, useBias: false },
        { type: 'Flatten' },
        { type: 'Dense', units: 2, useBias: false, activation: 'softmax' },
      ],
    });
    expect(r.layers[0].params).toEqual([{ name: 'conv1d_1/kernel', shape: [3, 3, 4] }]);
    expect(r.layers[0].paramCount).toBe(3 * 3 * 4);
    expect(r.layers[2].paramCount).toBe(8 * 4 * 2);
    expect(r.paramCount).toBe(36 + 64);
  });

  it('pooling, reshaping, dropout and activation layers carry no params', () => {
    const r = resolveSpec({
      input: [12, 5],
      layers: [
        { type: 'MaxPooling1D' },
        { type: 'AveragePooling1D' },
        { type: 'Dropout', rate: 0.5 },
        { type: 'Activation', activation: 'tanh' },
        { type: 'GlobalAveragePooling1D' },
        { type: 'Dense', units: 3, activation: 'softmax' },
      ],
    });
    expect(r.layers.map((l) => l.paramCount)).toEqual([0, 0, 0, 0, 0, 5 * 3 + 3]);
    expect(r.layers.map((l) => l.outputShape)).toEqual([[6, 5], [3, 5], [3, 5], [3, 5], [5], [3]]);
  });
});

describe('resolveSpec: output lengths follow the Keras formulas', () => {
  it('Conv1D valid/same over lengths, kernels, strides and dilations', () => {
    let cases = 0;
    for (const L of [1, 2, 5, 7, 12, 13])
      for (const k of [1, 2, 3, 5])
        for (const padding of ['valid', 'same'] as const)
          for (const [s, d] of [
            [1, 1],
            [2, 1],
            [3, 1],
            [1, 2],
            [1, 3],
          ]) {
            const span = (k - 1) * d + 1;
            if (padding === 'valid' && span > L) continue;
            const r = resolveSpec({
              input: [L, 2],
              layers: [{ type: 'Conv1D', filters: 3, kernelSize: k, strides: s, dilationRate: d, padding }, ...head()],
            });
            expect(r.layers[0].outputShape, `L=${L} k=${k} ${padding} s=${s} d=${d}`).toEqual([
              kerasOutputLength(L, k, padding, s, d),
              3,
            ]);
            cases++;
          }
    expect(cases).toBeGreaterThan(150);
  });

  it('MaxPooling1D and AveragePooling1D valid/same with strides ≠ poolSize', () => {
    for (const type of ['MaxPooling1D', 'AveragePooling1D'] as const)
      for (const L of [2, 5, 7, 12, 13])
        for (const poolSize of [1, 2, 3, 4])
          for (const strides of [1, 2, 3, 5])
            for (const padding of ['valid', 'same'] as const) {
              if (padding === 'valid' && poolSize > L) continue;
              const r = resolveSpec({ input: [L, 3], layers: [{ type, poolSize, strides, padding }, ...head()] });
              expect(r.layers[0].outputShape, `${type} L=${L} pool=${poolSize} s=${strides} ${padding}`).toEqual([
                kerasOutputLength(L, poolSize, padding, strides),
                3,
              ]);
            }
  });

  it('pool strides default to poolSize and poolSize to 2 (as in Keras)', () => {
    const r = resolveSpec({
      input: [13, 1],
      layers: [{ type: 'MaxPooling1D', poolSize: 3 }, { type: 'AveragePooling1D' }, ...head()],
    });
    expect(r.layers[0].config).toMatchObject({ poolSize: 3, strides: 3, padding: 'valid' });
    expect(r.layers[0].outputShape).toEqual([4, 1]); // ⌊(13 − 3)/3⌋ + 1
    expect(r.layers[1].config).toMatchObject({ poolSize: 2, strides: 2 });
    expect(r.layers[1].outputShape).toEqual([2, 1]);
  });

  it('a few hand-computed cases', () => {
    const out = (layer: LayerSpec, L = 10): number[] =>
      resolveSpec({ input: [L, 2], layers: [layer, ...head()] }).layers[0].outputShape;
    expect(out({ type: 'Conv1D', filters: 1, kernelSize: 3 })).toEqual([8, 1]);
    expect(out({ type: 'Conv1D', filters: 1, kernelSize: 3, padding: 'same' })).toEqual([10, 1]);
    expect(out({ type: 'Conv1D', filters: 1, kernelSize: 3, strides: 3 })).toEqual([3, 1]); // starts 0, 3, 6
    expect(out({ type: 'Conv1D', filters: 1, kernelSize: 3, strides: 3, padding: 'same' })).toEqual([4, 1]);
    expect(out({ type: 'Conv1D', filters: 1, kernelSize: 3, dilationRate: 2 })).toEqual([6, 1]); // span 5
    expect(out({ type: 'Conv1D', filters: 1, kernelSize: 4, dilationRate: 3 })).toEqual([1, 1]); // span 10
    expect(
      out({ type: 'Conv1D', filters: 1, kernelSize: [3] as unknown as number, strides: [2] as unknown as number }),
    ).toEqual([4, 1]);
    expect(out({ type: 'MaxPooling1D', poolSize: 3, strides: 2 }, 7)).toEqual([3, 2]);
    expect(out({ type: 'AveragePooling1D', poolSize: 3, strides: 2, padding: 'same' }, 7)).toEqual([4, 2]);
  });

  it('fills defaults: strides 1, valid, dilation 1, bias on, linear', () => {
    const r = resolveSpec({
      input: [8, 2],
      layers: [
        { type: 'Conv1D', filters: 2, kernelSize: 2 },
        { type: 'Flatten' },
        { type: 'Dense', units: 3, activation: 'softmax' },
      ],
    });
    expect(r.layers[0].config).toEqual({
      type: 'Conv1D',
      name: 'conv1d_1',
      filters: 2,
      kernelSize: 2,
      strides: 1,
      padding: 'valid',
      dilationRate: 1,
      useBias: true,
      activation: 'linear',
    });
    expect(r.layers[2].config).toEqual({
      type: 'Dense',
      name: 'dense_1',
      units: 3,
      useBias: true,
      activation: 'softmax',
    });
  });
});

describe('resolveSpec: default layer names', () => {
  it('numbers each type separately, from 1, in Keras snake case', () => {
    const r = resolveSpec({
      input: [40, 3],
      layers: [
        { type: 'Conv1D', filters: 4, kernelSize: 3 },
        { type: 'MaxPooling1D' },
        { type: 'Conv1D', filters: 4, kernelSize: 3 },
        { type: 'AveragePooling1D' },
        { type: 'Dropout', rate: 0.1 },
        { type: 'Activation', activation: 'relu' },
        { type: 'Conv1D', filters: 2, kernelSize: 1 },
        { type: 'MaxPooling1D' },
        { type: 'Flatten' },
        { type: 'Dense', units: 5 },
        { type: 'Dense', units: 4, activation: 'softmax' },
      ],
    });
    expect(r.layers.map((l) => l.config.name)).toEqual([
      'conv1d_1',
      'max_pooling1d_1',
      'conv1d_2',
      'average_pooling1d_1',
      'dropout_1',
      'activation_1',
      'conv1d_3',
      'max_pooling1d_2',
      'flatten_1',
      'dense_1',
      'dense_2',
    ]);
    expect(r.layers[9].params.map((p) => p.name)).toEqual(['dense_1/kernel', 'dense_1/bias']);
  });

  it('names TimeSum and GlobalAveragePooling1D layers', () => {
    const a = resolveSpec({
      input: [5, 2],
      layers: [{ type: 'TimeSum' }, { type: 'Dense', units: 2, activation: 'softmax' }],
    });
    const b = resolveSpec({
      input: [5, 2],
      layers: [{ type: 'GlobalAveragePooling1D' }, { type: 'Dense', units: 2, activation: 'softmax' }],
    });
    expect(a.layers[0].config.name).toBe('time_sum_1');
    expect(b.layers[0].config.name).toBe('global_average_pooling1d_1');
  });

  it('keeps a given name and still counts the layer for the next default', () => {
    const r = resolveSpec({
      input: [6, 2],
      layers: [
        { type: 'Flatten' },
        { type: 'Dense', units: 3, name: 'hidden' },
        { type: 'Dense', units: 2, activation: 'softmax' },
      ],
    });
    expect(r.layers[1].config.name).toBe('hidden');
    expect(r.layers[1].params[0].name).toBe('hidden/kernel');
    expect(r.layers[2].config.name).toBe('dense_2');
  });

  it('rejects a duplicate name', () => {
    const msg = rejection({
      input: [6, 2],
      layers: [
        { type: 'Flatten' },
        { type: 'Dense', units: 3, name: 'dense_2' },
        { type: 'Dense', units: 2, activation: 'softmax' },
      ],
    });
    expect(msg).toBe("layer 3 Dense: name 'dense_2' is used by an earlier layer");
  });
});

describe('resolveSpec: rejections', () => {
  it('a kernel longer than its input names the layer by position and type', () => {
    // Lengths 7 → 5 → 3, then a kernel of 5 cannot fit.
    const spec: NetworkSpec = {
      input: [7, 2],
      layers: [
        { type: 'Conv1D', filters: 2, kernelSize: 3 },
        { type: 'Conv1D', filters: 2, kernelSize: 3 },
        { type: 'Conv1D', filters: 2, kernelSize: 5 },
        ...head(),
      ],
    };
    expect(rejection(spec)).toBe('layer 3 Conv1D: kernelSize 5 is longer than its input length 3');
  });

  it('a dilated kernel spanning more than its input', () => {
    const msg = rejection({
      input: [6, 1],
      layers: [{ type: 'Conv1D', filters: 1, kernelSize: 3, dilationRate: 3 }, ...head()],
    });
    expect(msg).toBe('layer 1 Conv1D: kernelSize 3 with dilationRate 3 spans 7 steps, longer than its input length 6');
  });

  it('a valid pool longer than its input (same is allowed)', () => {
    expect(rejection({ input: [3, 1], layers: [{ type: 'MaxPooling1D', poolSize: 4 }, ...head()] })).toBe(
      'layer 1 MaxPooling1D: poolSize 4 is longer than its input length 3',
    );
    expect(
      resolveSpec({ input: [3, 1], layers: [{ type: 'MaxPooling1D', poolSize: 4, padding: 'same' }, ...head()] })
        .layers[0].outputShape,
    ).toEqual([1, 1]); // ⌈3/4⌉
    expect(
      resolveSpec({
        input: [3, 1],
        layers: [{ type: 'MaxPooling1D', poolSize: 4, strides: 2, padding: 'same' }, ...head()],
      }).layers[0].outputShape,
    ).toEqual([2, 1]); // ⌈3/2⌉
  });

  it('an unknown option', () => {
    const msg = rejection({
      input: [6, 2],
      layers: [{ type: 'Conv1D', filters: 2, kernelSize: 3, kernel_size: 3 }, ...head()],
    });
    expect(msg).toMatch(/^layer 1 Conv1D: unknown option 'kernel_size'/);
    expect(
      rejection({
        input: [6, 2],
        layers: [
          { type: 'Flatten', units: 3 },
          { type: 'Dense', units: 2, activation: 'softmax' },
        ],
      }),
    ).toMatch(/^layer 1 Flatten: unknown option 'units'/);
  });

  it('an unknown type', () => {
    const msg = rejection({
      input: [6, 2],
      layers: [{ type: 'Flatten' }, { type: 'LSTM', units: 3 }, { type: 'Dense', units: 2, activation: 'softmax' }],
    });
    expect(msg).toMatch(/^layer 2: unknown type "LSTM" \(expected one of Conv1D, /);
  });

  it('softmax anywhere but a last Dense layer', () => {
    expect(
      rejection({
        input: [6, 2],
        layers: [{ type: 'Conv1D', filters: 2, kernelSize: 3, activation: 'softmax' }, ...head()],
      }),
    ).toMatch(/^layer 1 Conv1D: activation 'softmax' only ends the network/);
    expect(
      rejection({
        input: [6, 2],
        layers: [
          { type: 'Flatten' },
          { type: 'Dense', units: 4, activation: 'softmax' },
          { type: 'Dense', units: 3, activation: 'softmax' },
        ],
      }),
    ).toMatch(/^layer 2 Dense: activation 'softmax' only ends the network/);
    expect(
      rejection({
        input: [6, 2],
        layers: [{ type: 'Flatten' }, { type: 'Dense', units: 4 }, { type: 'Activation', activation: 'softmax' }],
      }),
    ).toMatch(/^layer 3 Activation: activation 'softmax' only ends the network/);
  });

  it('a last layer that is not a softmax Dense', () => {
    expect(
      rejection({ input: [6, 2], layers: [{ type: 'Flatten' }, { type: 'Dense', units: 3, activation: 'relu' }] }),
    ).toBe("layer 2 Dense: the last layer must be a Dense layer with activation 'softmax' (one unit per class)");
    expect(
      rejection({
        input: [6, 2],
        layers: [{ type: 'Flatten' }, { type: 'Dense', units: 3 }, { type: 'Dropout', rate: 0.2 }],
      }),
    ).toMatch(/^layer 3 Dropout: the last layer must be a Dense layer with activation 'softmax'/);
  });

  it('units ≠ classes', () => {
    const spec = { input: [6, 2], layers: [{ type: 'Flatten' }, { type: 'Dense', units: 3, activation: 'softmax' }] };
    expect(resolveSpec(spec, 3).classes).toBe(3);
    expect(rejection(spec, 9)).toBe('layer 2 Dense: units 3 must equal the number of classes, 9');
  });

  it('a Dense layer on a sequence input', () => {
    const msg = rejection({
      input: [6, 2],
      layers: [
        { type: 'Conv1D', filters: 2, kernelSize: 3 },
        { type: 'Dense', units: 3, activation: 'softmax' },
      ],
    });
    expect(msg).toBe(
      'layer 2 Dense: expects a flat input, got [4, 2]: add a Flatten, TimeSum or GlobalAveragePooling1D before it',
    );
  });

  it('a sequence layer on a flat input', () => {
    const msg = rejection({
      input: [6, 2],
      layers: [{ type: 'Flatten' }, { type: 'MaxPooling1D' }, { type: 'Dense', units: 3, activation: 'softmax' }],
    });
    expect(msg).toBe('layer 2 MaxPooling1D: expects a [time, channels] input, got [12]');
  });

  it('strides > 1 with dilationRate > 1', () => {
    const msg = rejection({
      input: [20, 2],
      layers: [{ type: 'Conv1D', filters: 2, kernelSize: 3, strides: 2, dilationRate: 2 }, ...head()],
    });
    expect(msg).toBe(
      'layer 1 Conv1D: strides 2 with dilationRate 2: tfjs supports strides > 1 only with dilationRate 1',
    );
  });

  it('bad values: missing or non-integer sizes, bad padding, bad rate, bad input, empty layers, unknown top-level key', () => {
    expect(rejection({ input: [6, 2], layers: [{ type: 'Conv1D', kernelSize: 3 }, ...head()] })).toBe(
      'layer 1 Conv1D: filters is required (an integer ≥ 1)',
    );
    expect(rejection({ input: [6, 2], layers: [{ type: 'Conv1D', filters: 2.5, kernelSize: 3 }, ...head()] })).toBe(
      'layer 1 Conv1D: filters must be an integer ≥ 1, got 2.5',
    );
    expect(rejection({ input: [6, 2], layers: [{ type: 'Conv1D', filters: 2, kernelSize: 0 }, ...head()] })).toMatch(
      /kernelSize must be an integer ≥ 1, got 0/,
    );
    expect(
      rejection({
        input: [6, 2],
        layers: [{ type: 'Conv1D', filters: 2, kernelSize: 3, padding: 'causal' }, ...head()],
      }),
    ).toMatch(/^layer 1 Conv1D: padding must be one of 'valid', 'same', got "causal"/);
    expect(rejection({ input: [6, 2], layers: [{ type: 'Dropout', rate: 1 }, ...head()] })).toMatch(
      /^layer 1 Dropout: rate must be a number in \[0, 1\)/,
    );
    expect(rejection({ input: [6, 2], layers: [{ type: 'Dropout' }, ...head()] })).toMatch(
      /rate must be a number in \[0, 1\)/,
    );
    expect(rejection({ input: [6, 2], layers: [{ type: 'Activation' }, ...head()] })).toMatch(
      /^layer 1 Activation: activation is required/,
    );
    expect(
      rejection({ input: [6, 2], layers: [{ type: 'Dense', units: 3, useBias: 'yes', activation: 'softmax' }] }),
    ).toMatch(/useBias must be true or false/);
    expect(rejection({ input: [6], layers: head() })).toMatch(/^network spec: input must be \[time, channels\]/);
    expect(rejection({ input: [0, 2], layers: head() })).toMatch(/^network spec: input must be \[time, channels\]/);
    expect(rejection({ input: [6, 2], layers: [] })).toBe('network spec: layers must be a non-empty array');
    expect(rejection({ input: [6, 2], layers: head(), optimizer: 'sgd' })).toMatch(
      /^network spec: unknown key 'optimizer'/,
    );
    expect(rejection(null)).toMatch(/^network spec: expected an object/);
  });

  it('the resolved spec can be resolved again to the same result (configs are complete specs)', () => {
    const r = resolveSpec(PRESETS.get('tdnn')!.spec);
    const again = resolveSpec({ input: r.input, layers: r.layers.map((l) => ({ ...l.config })) });
    expect(again).toEqual(r);
  });
});

describe('resolveSpec: BatchNormalization', () => {
  it('keeps the shape; γ, β trained and the moving statistics as state, per channel (the last axis), counted as Keras counts them', () => {
    const r = resolveSpec({
      input: [10, 3],
      layers: [
        { type: 'Conv1D', filters: 5, kernelSize: 3 },
        { type: 'BatchNormalization' },
        { type: 'Flatten' },
        { type: 'BatchNormalization', name: 'bn_flat' },
        { type: 'Dense', units: 2, activation: 'softmax' },
      ],
    });
    expect(r.layers[1].outputShape).toEqual([8, 5]);
    expect(r.layers[1].params).toEqual([
      { name: 'batch_normalization_1/gamma', shape: [5], fill: 1 },
      { name: 'batch_normalization_1/beta', shape: [5] },
      { name: 'batch_normalization_1/moving_mean', shape: [5], trainable: false },
      { name: 'batch_normalization_1/moving_variance', shape: [5], trainable: false, fill: 1 },
    ]);
    expect(r.layers[1].paramCount).toBe(20);
    expect(r.layers[3].config).toEqual({ type: 'BatchNormalization', name: 'bn_flat', momentum: 0.99, epsilon: 1e-3 });
    expect(r.layers[3].params.map((p) => p.shape)).toEqual([[40], [40], [40], [40]]);
  });

  it('rejects a momentum outside [0, 1), an epsilon ≤ 0 and options it does not have', () => {
    const bn = (options: Record<string, unknown>): string =>
      rejection({ input: [6, 2], layers: [{ type: 'BatchNormalization', ...options }, ...head()] });
    expect(bn({ momentum: 1 })).toBe('layer 1 BatchNormalization: momentum must be a number in [0, 1), got 1');
    expect(bn({ momentum: '0.9' })).toBe('layer 1 BatchNormalization: momentum must be a number in [0, 1), got "0.9"');
    expect(bn({ epsilon: 0 })).toBe('layer 1 BatchNormalization: epsilon must be a number in (0, ∞), got 0');
    expect(bn({ axis: 1 })).toBe(
      "layer 1 BatchNormalization: unknown option 'axis' (expected one of type, name, momentum, epsilon)",
    );
  });
});
