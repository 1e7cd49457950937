import * as tf from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { Conv1D } from '../engine/layers/conv1d';
import { AveragePooling1D } from '../engine/layers/average-pooling1d';
import { MaxPooling1D } from '../engine/layers/max-pooling1d';
import { Rng } from '../engine/rng';
import { resolveSpec, type LayerSpec, type Pool1DConfig, type Conv1DConfig } from '../engine/spec';
import { activateBackend, TFJS_BACKENDS } from './backend';

/**
 * Each tfjs 4.22 gradient defect Lockstep works around, checked through tf.grad on the backend,
 * so each test fails if its corrected kernel were not registered.
 */
/** tfjs's own cpu filter gradient, captured before Lockstep's (faster) one replaces it. */
const tfjsCpuFilterGradient = tf.getKernel(tf.Conv2DBackpropFilter, 'cpu')!.kernelFunc;
const wasmDir = fileURLToPath(new URL('../../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url));

/** dL/dx of L = Σ pool(x) for a [1, L, 1] sequence through tf.layers' 1-D pool. */
function poolGradient(
  type: 'max' | 'avg',
  x: number[],
  poolSize: number,
  strides: number,
  padding: 'valid' | 'same',
): number[] {
  const layer =
    type === 'max'
      ? tf.layers.maxPooling1d({ poolSize, strides, padding })
      : tf.layers.averagePooling1d({ poolSize, strides, padding });
  return tf.tidy(() =>
    Array.from(
      tf
        .grad((t: tf.Tensor) => tf.sum(layer.apply(t) as tf.Tensor))(tf.tensor3d(x, [1, x.length, 1]))
        .dataSync(),
    ),
  );
}

function randomArray(n: number, rng: Rng, scale = 1): Float64Array {
  return Float64Array.from({ length: n }, () => scale * rng.normal());
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++)
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
  expect(worst).toBeLessThanOrEqual(tolerance);
}

/** One layer of a [time, channels] network, as the scratch engine resolves it. */
function resolveLayer(
  input: [number, number],
  layer: LayerSpec,
): { config: Conv1DConfig | Pool1DConfig; inputShape: number[]; outputShape: number[] } {
  const r = resolveSpec({
    input,
    layers: [layer, { type: 'Flatten' }, { type: 'Dense', units: 2, activation: 'softmax' }],
  }).layers[0];
  return { config: r.config as Conv1DConfig | Pool1DConfig, inputShape: r.inputShape, outputShape: r.outputShape };
}

describe.each(TFJS_BACKENDS)("tfjs %s backend, with Lockstep's corrected kernels", (backend) => {
  beforeAll(() => activateBackend({ backend, wasmDir }));

  it("MaxPoolGrad gives each window's gradient to its max even when the max is ≤ 0 (wasm 4.22 gave [1,0,0,0])", () => {
    expect(poolGradient('max', [-0.5, -0.2, -3, -1], 2, 2, 'valid')).toEqual([0, 1, 0, 1]);
    expect(poolGradient('max', [-1, -2, -3, -4, -5], 2, 2, 'same')).toEqual([1, 0, 1, 0, 1]);
    // Overlapping windows {0,1} {1,2} {2,3}; the tie in {0,1} goes to the first.
    expect(poolGradient('max', [0, 0, -1, 2], 2, 1, 'valid')).toEqual([1, 1, 0, 1]);
  });

  it("AvgPoolGrad divides by the real elements of a partial 'same' window, as the forward does (tfjs 4.22: by poolSize)", () => {
    // Windows {0,1} {2,3} {4}: the lone x[4] is its window's whole average.
    expect(poolGradient('avg', [1, 2, 3, 4, 5], 2, 2, 'same')).toEqual([0.5, 0.5, 0.5, 0.5, 1]);
    // Windows {0,1} {0,1,2} {1,2,3} {2,3,4} {3,4}.
    expectClose(
      poolGradient('avg', [1, 2, 3, 4, 5], 3, 1, 'same'),
      [1 / 2 + 1 / 3, 1 / 2 + 2 / 3, 1, 1 / 2 + 2 / 3, 1 / 2 + 1 / 3],
      1e-7,
    );
  });

  const pools: LayerSpec[] = [
    { type: 'MaxPooling1D', poolSize: 3, strides: 2, padding: 'same' },
    { type: 'MaxPooling1D', poolSize: 2, strides: 3, padding: 'valid' },
    { type: 'AveragePooling1D', poolSize: 4, strides: 3, padding: 'same' },
    { type: 'AveragePooling1D', poolSize: 3, strides: 1, padding: 'valid' },
  ];
  it.each(pools)("pool gradients equal the scratch layer's on random data: %j", (spec) => {
    const rng = new Rng(5);
    const { config, inputShape, outputShape } = resolveLayer([11, 3], spec);
    const batch = 2;
    const x = randomArray(batch * 33, rng),
      dy = randomArray(batch * outputShape[0] * 3, rng);
    const Scratch = config.type === 'MaxPooling1D' ? MaxPooling1D : AveragePooling1D;
    const scratch = new Scratch(config as Pool1DConfig, inputShape, outputShape, batch, Float64Array);
    scratch.forward(x, batch);
    const expected = scratch.backward(dy, batch)!;
    const c = config as Pool1DConfig;
    const layer = config.type === 'MaxPooling1D' ? tf.layers.maxPooling1d(c) : tf.layers.averagePooling1d(c);
    const actual = tf.tidy(() => {
      const f = (t: tf.Tensor): tf.Scalar =>
        tf.sum(tf.mul(layer.apply(t) as tf.Tensor, tf.tensor(Float32Array.from(dy), [batch, ...outputShape])));
      return Array.from(
        tf
          .grad(f)(tf.tensor(Float32Array.from(x), [batch, ...inputShape]))
          .dataSync(),
      );
    });
    expectClose(actual, expected.subarray(0, actual.length));
  });

  const convs: LayerSpec[] = [
    { type: 'Conv1D', filters: 4, kernelSize: 3 },
    { type: 'Conv1D', filters: 2, kernelSize: 4, strides: 2, padding: 'same' },
    { type: 'Conv1D', filters: 3, kernelSize: 3, dilationRate: 2, padding: 'same' },
    { type: 'Conv1D', filters: 2, kernelSize: 2, dilationRate: 3 },
  ];
  it.each(convs)(
    "conv1d kernel and input gradients (wasm 4.22 has no Conv2DBackpropFilter; no backend differentiates dilation) equal the scratch layer's: %j",
    (spec) => {
      const rng = new Rng(9);
      const { config, inputShape, outputShape } = resolveLayer([12, 3], spec);
      const c = config as Conv1DConfig;
      const batch = 2;
      const x = randomArray(batch * 36, rng),
        w = randomArray(c.kernelSize * 3 * c.filters, rng, 0.5),
        dy = randomArray(batch * outputShape[0] * c.filters, rng);
      const scratch = new Conv1D({ ...c, useBias: false }, inputShape, outputShape, batch, Float64Array);
      scratch.params[0].value.set(w);
      scratch.forward(x, batch);
      const dx = scratch.backward(dy, batch)!;
      const [gx, gw] = tf.tidy(() => {
        const f = (t: tf.Tensor, k: tf.Tensor): tf.Scalar =>
          tf.sum(
            tf.mul(
              tf.conv1d(t as tf.Tensor3D, k as tf.Tensor3D, c.strides, c.padding, 'NWC', c.dilationRate),
              tf.tensor(Float32Array.from(dy), [batch, ...outputShape]),
            ),
          );
        const grads = tf.grads(f)([
          tf.tensor(Float32Array.from(x), [batch, ...inputShape]),
          tf.tensor(Float32Array.from(w), [c.kernelSize, 3, c.filters]),
        ]);
        return grads.map((g) => Array.from(g.dataSync()));
      });
      expectClose(gw, scratch.params[0].grad);
      expectClose(gx, dx.subarray(0, gx.length));
    },
  );
});

describe("Lockstep's Conv2DBackpropFilter on cpu", () => {
  beforeAll(() => activateBackend({ backend: 'cpu' }));

  it.each([
    { strides: 1, pad: 'valid', filterShape: [1, 3, 4, 5] },
    { strides: [1, 2], pad: 'same', filterShape: [1, 4, 4, 2] },
    { strides: [2, 1], pad: 'same', filterShape: [3, 2, 4, 3] },
  ])("equals tfjs's own cpu kernel: %j", ({ strides, pad, filterShape }) => {
    const rng = new Rng(3);
    const x = tf.tensor4d(Float32Array.from(randomArray(2 * 5 * 9 * 4, rng)), [2, 5, 9, 4]);
    const info = tf.backend_util.computeConv2DInfo(
      x.shape,
      filterShape as [number, number, number, number],
      strides as [number, number],
      1,
      pad as 'same',
    );
    const dy = tf.tensor4d(Float32Array.from(randomArray(2 * info.outHeight * info.outWidth * info.outChannels, rng)), [
      2,
      info.outHeight,
      info.outWidth,
      info.outChannels,
    ]);
    const attrs = {
      strides,
      pad,
      dataFormat: 'NHWC',
      dimRoundingMode: undefined,
      filterShape,
    } as unknown as tf.NamedAttrMap;
    const ours = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, attrs) as tf.Tensor;
    const theirs = tfjsCpuFilterGradient({ inputs: { x, dy }, backend: tf.backend(), attrs }) as tf.TensorInfo;
    expectClose(ours.dataSync(), tf.backend().readSync(theirs.dataId) as Float32Array, 1e-6);
    tf.backend().disposeData(theirs.dataId);
    tf.dispose([x, dy, ours]);
  });
});
