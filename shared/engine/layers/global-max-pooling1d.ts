import { z } from 'zod';
import { hashStep } from '../activations';
import type { FloatArray, FloatArrayCtor, Layer } from '../types';
import { defineLayer, sequenceInput, type LayerConfigOf } from './descriptor';
import { kerasCommon } from './keras';
import { timeAxis } from '../../onnx/ops';
import { attribute } from '../../onnx/proto';

const schema = z.object({});
export type GlobalMaxPooling1DConfig = LayerConfigOf<'GlobalMaxPooling1D', z.output<typeof schema>>;

/**
 * The maximum of each channel over time: y[b,c] = max_t x[b,t,c]. On ties the first (lowest t)
 * maximum wins, as in MaxPooling1D.
 */
export class GlobalMaxPooling1D implements Layer {
  readonly className = 'GlobalMaxPooling1D';
  readonly name: string;
  readonly params = [];
  needInputGrad = true;
  private readonly length: number;
  private readonly channels: number;
  private readonly y: FloatArray;
  private readonly dx: FloatArray;
  /** Flat input index of each output's arg-max, recorded by forward for backward. */
  private readonly argmax: Int32Array;

  constructor(
    config: GlobalMaxPooling1DConfig,
    readonly inputShape: readonly number[],
    readonly outputShape: readonly number[],
    maxBatch: number,
    ctor: FloatArrayCtor,
  ) {
    this.name = config.name;
    [this.length, this.channels] = inputShape;
    this.y = new ctor(maxBatch * this.channels);
    this.argmax = new Int32Array(maxBatch * this.channels);
    this.dx = new ctor(maxBatch * this.length * this.channels);
  }

  forward(x: FloatArray, batch: number): FloatArray {
    const T = this.length,
      C = this.channels;
    for (let b = 0; b < batch; b++) {
      for (let c = 0; c < C; c++) {
        let best = b * T * C + c;
        for (let t = 1; t < T; t++) {
          const at = (b * T + t) * C + c;
          if (x[at] > x[best]) best = at;
        }
        this.y[b * C + c] = x[best];
        this.argmax[b * C + c] = best;
      }
    }
    return this.y;
  }

  /** ∂y[b,c]/∂x[b,t,c] = [t = argmax_t' x[b,t',c]]:  dx[argmax(b,c)] = dy[b,c], 0 elsewhere. */
  backward(dy: FloatArray, batch: number): FloatArray | null {
    if (!this.needInputGrad) return null;
    const n = batch * this.channels;
    this.dx.fill(0, 0, batch * this.length * this.channels);
    for (let o = 0; o < n; o++) this.dx[this.argmax[o]] = dy[o];
    return this.dx;
  }

  /** Which element won each channel. */
  kinkSignature(batch: number): number {
    let h = 0x811c9dc5;
    for (let o = 0, n = batch * this.channels; o < n; o++) h = hashStep(h, this.argmax[o]);
    return h;
  }
}

/**
 * GlobalMaxPooling1D, everything about it. The fast path runs the reference layer (there is no
 * kernel for it): its buffers go into the fast path's arena, so nothing is copied.
 */
export const globalMaxPooling1dLayer = defineLayer({
  type: 'GlobalMaxPooling1D',
  nameStem: 'global_max_pooling1d',
  schema,
  infer: (_config, inputShape, fail) => ({ outputShape: [sequenceInput(inputShape, fail)[1]], params: [] }),
  reference: (l, maxBatch, ctor) => new GlobalMaxPooling1D(l.config, l.inputShape, l.outputShape, maxBatch, ctor),
  tfjs: (tf, _c, args) => tf.layers.globalMaxPooling1d(args),
  keras: ({ config: c }) => [{ class_name: 'GlobalMaxPooling1D', config: kerasCommon(c.name) }],
  onnx: ({ config }, _weights, graph, x) => {
    const attributes = [attribute.ints('axes', [timeAxis(x)]), attribute.int('keepdims', 0)];
    return { name: graph.node(config.name, 'ReduceMax', [x.name], attributes), layout: 'flat' };
  },
});
