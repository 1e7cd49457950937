import { hashStep } from '../activations';
import { FastMaxPooling1D } from '../fast/fast-pooling';
import type { FloatArray, FloatArrayCtor, Layer } from '../types';
import { window1d } from '../window1d';
import { defineLayer } from './descriptor';
import { inferPool, kerasPool, poolHasKernel, poolOptions, poolSchema, type Pool1DConfig } from './pool1d';
import { onnxPooling } from '../../onnx/ops';

/**
 * Max pooling over time, per channel: y[b,i,c] = max_{j ∈ window(i)} x[b,j,c], where
 * window(i) = { i·s − p + w : 0 ≤ w < poolSize } ∩ [0, L). On ties the first (lowest j)
 * maximum wins, as in tfjs's cpu backend.
 */
export class MaxPooling1D implements Layer {
  readonly className = 'MaxPooling1D';
  readonly name: string;
  readonly params = [];
  needInputGrad = true;
  private readonly inLength: number;
  private readonly channels: number;
  private readonly outLength: number;
  private readonly padLeft: number;
  private readonly y: FloatArray;
  private readonly dx: FloatArray;
  /** Flat input index of each output's arg-max, recorded by forward for backward. */
  private readonly argmax: Int32Array;

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
    this.argmax = new Int32Array(maxBatch * this.outLength * this.channels);
    this.dx = new ctor(maxBatch * this.inLength * this.channels);
  }

  forward(x: FloatArray, batch: number): FloatArray {
    const { poolSize: W, strides: S } = this.config;
    const L = this.inLength,
      C = this.channels,
      T = this.outLength,
      P = this.padLeft;
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < T; i++) {
        const start = Math.max(i * S - P, 0);
        const end = Math.min(i * S - P + W, L);
        for (let c = 0; c < C; c++) {
          let best = (b * L + start) * C + c;
          for (let j = start + 1; j < end; j++) {
            const at = (b * L + j) * C + c;
            if (x[at] > x[best]) best = at;
          }
          const o = (b * T + i) * C + c;
          this.y[o] = x[best];
          this.argmax[o] = best;
        }
      }
    }
    return this.y;
  }

  /** dx[j] = Σ_i dy[i] · [j = argmax(window(i))]: each output's gradient goes to its one arg-max. */
  backward(dy: FloatArray, batch: number): FloatArray | null {
    if (!this.needInputGrad) return null;
    const dx = this.dx;
    dx.fill(0, 0, batch * this.inLength * this.channels);
    const n = batch * this.outLength * this.channels;
    for (let o = 0; o < n; o++) dx[this.argmax[o]] += dy[o];
    return dx;
  }

  /** Which element won each window. */
  kinkSignature(batch: number): number {
    let h = 0x811c9dc5;
    for (let o = 0, n = batch * this.outLength * this.channels; o < n; o++) h = hashStep(h, this.argmax[o]);
    return h;
  }
}

/** MaxPooling1D, everything about it (the fast path runs it on the kernels when the channels are a multiple of 4). */
export const maxPooling1DLayer = defineLayer({
  type: 'MaxPooling1D',
  nameStem: 'max_pooling1d',
  schema: poolSchema,
  starter: () => ({ poolSize: 2 }),
  infer: inferPool,
  reference: (l, maxBatch, ctor) => new MaxPooling1D(l.config, l.inputShape, l.outputShape, maxBatch, ctor),
  fast: (l, maxBatch, alloc) =>
    poolHasKernel(l.inputShape) ? new FastMaxPooling1D(l.config, l.inputShape, l.outputShape, maxBatch, alloc) : null,
  tfjs: (tf, c, args) => tf.layers.maxPooling1d({ ...args, ...poolOptions(c) }),
  keras: ({ config }) => kerasPool(config),
  onnx: onnxPooling('MaxPool'),
});
