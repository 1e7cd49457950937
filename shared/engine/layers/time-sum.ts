import type * as Tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Arena, ArenaSizer } from '../fast/arena';
import { FastLayer } from '../fast/fast-layer';
import type { FloatArray, FloatArrayCtor, Layer } from '../types';
import { defineLayer, sequenceInput, type LayerConfigOf } from './descriptor';
import { kerasCommon, kerasWeighted, type KerasLayer } from './keras';
import { single, singleShape, tfjsClass } from './tfjs-classes';
import { timeAxis } from '../../onnx/ops';
import { attribute } from '../../onnx/proto';

const schema = z.object({});
/** TimeSum's config, and GlobalAveragePooling1D's (global-average-pooling1d.ts): a name only. */
export type OverTimeConfig = LayerConfigOf<'TimeSum' | 'GlobalAveragePooling1D', z.output<typeof schema>>;

/**
 * The TDNN's integration layer (Waibel et al. 1989): sums each channel over time,
 * y[b,c] = Σ_t x[b,t,c]. As GlobalAveragePooling1D (global-average-pooling1d.ts) it takes the
 * mean: y[b,c] = (1/T) Σ_t x[b,t,c].
 */
export class TimeSum implements Layer {
  readonly name: string;
  readonly params = [];
  needInputGrad = true;
  private readonly length: number;
  private readonly channels: number;
  private readonly scale: number;
  private readonly y: FloatArray;
  private readonly dx: FloatArray;

  constructor(
    config: OverTimeConfig,
    readonly inputShape: readonly number[],
    readonly outputShape: readonly number[],
    maxBatch: number,
    ctor: FloatArrayCtor,
    readonly className: 'TimeSum' | 'GlobalAveragePooling1D' = 'TimeSum',
  ) {
    this.name = config.name;
    [this.length, this.channels] = inputShape;
    this.scale = className === 'TimeSum' ? 1 : 1 / this.length;
    this.y = new ctor(maxBatch * this.channels);
    this.dx = new ctor(maxBatch * this.length * this.channels);
  }

  forward(x: FloatArray, batch: number): FloatArray {
    const T = this.length,
      C = this.channels,
      y = this.y;
    for (let b = 0; b < batch; b++) {
      for (let c = 0; c < C; c++) y[b * C + c] = 0;
      for (let t = 0; t < T; t++) {
        const xo = (b * T + t) * C;
        for (let c = 0; c < C; c++) y[b * C + c] += x[xo + c];
      }
      if (this.scale !== 1) for (let c = 0; c < C; c++) y[b * C + c] *= this.scale;
    }
    return y;
  }

  /** ∂y[b,c]/∂x[b,t,c] = scale for every t:  dx[b,t,c] = scale · dy[b,c]. */
  backward(dy: FloatArray, batch: number): FloatArray | null {
    if (!this.needInputGrad) return null;
    const T = this.length,
      C = this.channels,
      dx = this.dx;
    for (let b = 0; b < batch; b++) {
      for (let t = 0; t < T; t++) {
        const xo = (b * T + t) * C;
        for (let c = 0; c < C; c++) dx[xo + c] = dy[b * C + c] * this.scale;
      }
    }
    return dx;
  }
}

/** TimeSum (and GlobalAveragePooling1D) on the kernels: the same function as the reference above. */
export class FastTimeSum extends FastLayer implements Layer {
  readonly params = [];
  private readonly scale: number;

  constructor(
    config: OverTimeConfig,
    inputShape: readonly number[],
    outputShape: readonly number[],
    maxBatch: number,
    alloc: Arena | ArenaSizer,
    readonly className: 'TimeSum' | 'GlobalAveragePooling1D',
  ) {
    super(config.name, inputShape, outputShape, maxBatch, alloc);
    this.scale = className === 'TimeSum' ? 1 : 1 / inputShape[0];
  }

  forward(x: FloatArray, batch: number): FloatArray {
    const [T, C] = this.inputShape,
      a = this.arena;
    a.kernels.time_sum_forward(this.inputPtr(x, batch), a.ptr(this.y), batch, T, C, this.scale);
    return this.y;
  }

  /** dx[b,t,c] = scale · dy[b,c]. */
  backward(dy: FloatArray, batch: number): FloatArray | null {
    if (!this.needInputGrad) return null;
    const [T, C] = this.inputShape,
      a = this.arena;
    a.kernels.time_sum_backward(this.outputGradPtr(dy, batch), a.ptr(this.dx), batch, T, C, this.scale);
    return this.dx;
  }
}

/** Sums over time, channels kept: [time, channels] → [channels] (shared with GlobalAveragePooling1D). */
export const overTime = {
  schema,
  infer: (_config: unknown, inputShape: number[], fail: (message: string) => never) => ({
    outputShape: [sequenceInput(inputShape, fail)[1]],
    params: [],
  }),
};

/** tfjs-layers has no sum over time (GlobalAveragePooling1D divides by the length): it is one tf.sum. */
const timeSumClass = (tf: typeof Tf) =>
  tfjsClass(tf, 'TimeSum', () => {
    return class TimeSumLayer extends tf.layers.Layer {
      static readonly className = 'TimeSum';

      override computeOutputShape(inputShape: Tf.Shape | Tf.Shape[]): Tf.Shape {
        const shape = singleShape(inputShape);
        return [shape[0], shape[2]];
      }

      override call(inputs: Tf.Tensor | Tf.Tensor[]): Tf.Tensor {
        return tf.sum(single(inputs), 1);
      }
    };
  });

/** Layers between a TimeSum and a Dense that are linear and per feature: the factor T passes through them. */
function passesScale(c: { type: string } & Record<string, unknown>): boolean {
  return c.type === 'Dropout' || c.type === 'Flatten' || (c.type === 'Activation' && c.activation === 'linear');
}

/**
 * TimeSum, everything about it (the fast path runs it on the kernels at every shape). Keras has
 * no such layer: it is exported as GlobalAveragePooling1D, (1/T) Σ_t x[t,c], with the next Dense
 * kernel multiplied by T (its bias unchanged), which gives the same logits when only linear,
 * per-feature layers come between; otherwise a fixed Dense (`<name>_scale`, kernel T·I, no bias)
 * follows the pooling. metadata.json records which, so import gives back the exact network.
 */
export const timeSumLayer = defineLayer({
  type: 'TimeSum',
  nameStem: 'time_sum',
  ...overTime,
  reference: (l, maxBatch, ctor) => new TimeSum(l.config, l.inputShape, l.outputShape, maxBatch, ctor, 'TimeSum'),
  fast: (l, maxBatch, alloc) => new FastTimeSum(l.config, l.inputShape, l.outputShape, maxBatch, alloc, 'TimeSum'),
  tfjs: (tf, _c, args) => new (timeSumClass(tf))(args),
  keras({ config: c, inputShape, outputShape }, context) {
    const pooling: KerasLayer = { class_name: 'GlobalAveragePooling1D', config: kerasCommon(c.name) };
    const T = inputShape[0];
    const { layers, index } = context;
    let j = index + 1;
    while (j < layers.length && passesScale(layers[j].config)) j++;
    const next = layers[j]?.config;
    if (next?.type === 'Dense') {
      context.scaleKernel(next.name, T);
      context.recordTimeSum({
        layer: c.name,
        exportedAs: 'GlobalAveragePooling1D',
        scale: T,
        scaledKernel: `${next.name}/kernel`,
      });
      return [pooling];
    }
    const C = outputShape[0];
    const scaleName = `${c.name}_scale`;
    const k = new Float32Array(C * C);
    for (let d = 0; d < C; d++) k[d * C + d] = T;
    context.addWeight(`${scaleName}/kernel`, [C, C], k);
    context.recordTimeSum({ layer: c.name, exportedAs: 'GlobalAveragePooling1D', scale: T, scaleLayer: scaleName });
    const scale = {
      ...kerasCommon(scaleName),
      trainable: false,
      units: C,
      ...kerasWeighted({ activation: 'linear', useBias: false }),
    };
    return [pooling, { class_name: 'Dense', config: scale }];
  },
  onnx: ({ config }, _weights, graph, x) => {
    const axes = graph.int64s(`${config.name}/axes`, [timeAxis(x)]);
    return {
      name: graph.node(config.name, 'ReduceSum', [x.name, axes], [attribute.int('keepdims', 0)]),
      layout: 'flat',
    };
  },
});
