import { FastAveragePooling1D } from '../fast/fast-pooling';
import type { FloatArray, FloatArrayCtor, Layer } from '../types';
import { window1d } from '../window1d';
import { defineLayer } from './descriptor';
import { inferPool, kerasPool, poolHasKernel, poolOptions, poolSchema, type Pool1DConfig } from './pool1d';
import { onnxPooling } from '../../onnx/ops';

/**
 * Average pooling over time, per channel: y[b,i,c] = (1/|window(i)|) Σ_{j ∈ window(i)} x[b,j,c],
 * window(i) = { i·s − p + w : 0 ≤ w < poolSize } ∩ [0, L). With 'valid' padding every window
 * holds poolSize steps; with 'same', padded positions are not counted (TensorFlow's rule).
 */
export class AveragePooling1D implements Layer {
  readonly className = 'AveragePooling1D';
  readonly name: string;
  readonly params = [];
  needInputGrad = true;
  private readonly inLength: number;
  private readonly channels: number;
  private readonly outLength: number;
  private readonly padLeft: number;
  private readonly y: FloatArray;
  private readonly dx: FloatArray;

  constructor(
    private readonly config: Pool1DConfig,
    readonly inputShape: readonly number[],
    readonly outputShape: readonly number[],
    maxBatch: number,
    ctor: FloatArrayCtor,
  ) {
    this.name = config.name;
    [this.inLength, this.channels] = inputShape;
    this.outLength = outputShape[0];
    this.padLeft = window1d(this.inLength, config.poolSize, config.strides, config.padding).padLeft;
    this.y = new ctor(maxBatch * this.outLength * this.channels);
    this.dx = new ctor(maxBatch * this.inLength * this.channels);
  }

  forward(x: FloatArray, batch: number): FloatArray {
    const { poolSize: W, strides: S } = this.config;
    const L = this.inLength,
      C = this.channels,
      T = this.outLength,
      P = this.padLeft;
    const y = this.y;
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < T; i++) {
        const start = Math.max(i * S - P, 0);
        const end = Math.min(i * S - P + W, L);
        const o = (b * T + i) * C;
        for (let c = 0; c < C; c++) y[o + c] = 0;
        for (let j = start; j < end; j++) {
          const xo = (b * L + j) * C;
          for (let c = 0; c < C; c++) y[o + c] += x[xo + c];
        }
        const count = end - start;
        for (let c = 0; c < C; c++) y[o + c] /= count;
      }
    }
    return y;
  }

  /** ∂y[i]/∂x[j] = +1/|window(i)| for j ∈ window(i), else 0;  dx[j] = Σ_{i : j ∈ window(i)} dy[i] / |window(i)|. */
  backward(dy: FloatArray, batch: number): FloatArray | null {
    if (!this.needInputGrad) return null;
    const { poolSize: W, strides: S } = this.config;
    const L = this.inLength,
      C = this.channels,
      T = this.outLength,
      P = this.padLeft;
    const dx = this.dx;
    dx.fill(0, 0, batch * L * C);
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < T; i++) {
        const start = Math.max(i * S - P, 0);
        const end = Math.min(i * S - P + W, L);
        const scale = 1 / (end - start);
        const o = (b * T + i) * C;
        for (let j = start; j < end; j++) {
          const xo = (b * L + j) * C;
          for (let c = 0; c < C; c++) dx[xo + c] += dy[o + c] * scale;
        }
      }
    }
    return dx;
  }
}

/** AveragePooling1D, everything about it (the fast path runs it on the kernels when channels are a multiple of 4). */
export const averagePooling1DLayer = defineLayer({
  type: 'AveragePooling1D',
  nameStem: 'average_pooling1d',
  schema: poolSchema,
  starter: () => ({ poolSize: 2 }),
  infer: inferPool,
  reference: (l, maxBatch, ctor) => new AveragePooling1D(l.config, l.inputShape, l.outputShape, maxBatch, ctor),
  fast: (l, maxBatch, alloc) =>
    poolHasKernel(l.inputShape)
      ? new FastAveragePooling1D(l.config, l.inputShape, l.outputShape, maxBatch, alloc)
      : null,
  tfjs: (tf, c, args) => tf.layers.averagePooling1d({ ...args, ...poolOptions(c) }),
  keras: ({ config }) => kerasPool(config),
  onnx: onnxPooling('AveragePool'),
});
