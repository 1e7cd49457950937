import type * as Tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Rng } from '../rng';
import type { FloatArray, FloatArrayCtor, Layer } from '../types';
import { defineLayer, type LayerConfigOf } from './descriptor';
import { numberField } from './fields';
import { kerasCommon } from './keras';
import { single, tfjsClass } from './tfjs-classes';

const schema = z.object({ rate: numberField({ lo: 0, hi: 1 }) });
export type DropoutConfig = LayerConfigOf<'Dropout', z.output<typeof schema>>;

/**
 * Inverted dropout, training only: y = x · m / (1 − rate), m ~ Bernoulli(1 − rate) per element;
 * at inference y = x. The mask comes from the network's seeded dropout stream.
 */
export class Dropout implements Layer {
  readonly className = 'Dropout';
  readonly name: string;
  readonly params = [];
  needInputGrad = true;
  private readonly size: number;
  private readonly y: FloatArray;
  private readonly dx: FloatArray;
  /** The scaled mask of the last training pass: 0 or 1/(1 − rate). */
  private readonly mask: FloatArray;
  private lastWasTraining = false;
  private frozen = false;

  constructor(
    private readonly config: DropoutConfig,
    readonly inputShape: readonly number[],
    readonly outputShape: readonly number[],
    maxBatch: number,
    ctor: FloatArrayCtor,
    private readonly rng: Rng,
  ) {
    this.name = config.name;
    this.size = inputShape.reduce((a, b) => a * b, 1);
    this.y = new ctor(maxBatch * this.size);
    this.dx = new ctor(maxBatch * this.size);
    this.mask = new ctor(maxBatch * this.size);
  }

  forward(x: FloatArray, batch: number, training: boolean): FloatArray {
    this.lastWasTraining = training && this.config.rate > 0;
    if (!this.lastWasTraining) return x;
    const keep = 1 - this.config.rate,
      scale = 1 / keep,
      n = batch * this.size;
    if (!this.frozen) for (let i = 0; i < n; i++) this.mask[i] = this.rng.next() < keep ? scale : 0;
    for (let i = 0; i < n; i++) this.y[i] = x[i] * this.mask[i];
    return this.y;
  }

  freezeRandomness(frozen: boolean): void {
    this.frozen = frozen;
  }

  /** dx = dy · m / (1 − rate) (the same mask as forward). */
  backward(dy: FloatArray, batch: number): FloatArray | null {
    if (!this.needInputGrad) return null;
    if (!this.lastWasTraining) return dy;
    const n = batch * this.size;
    for (let i = 0; i < n; i++) this.dx[i] = dy[i] * this.mask[i];
    return this.dx;
  }
}

/**
 * Inverted dropout whose masks come from the scratch engine's seeded dropout stream, drawn in
 * the same order (layer by layer, element by element, training passes only), so both engines
 * drop the same units at every step. tf.layers.dropout would draw from tfjs's own generator
 * and make every lockstep run with dropout diverge by design.
 */
const seededDropoutClass = (tf: typeof Tf) =>
  tfjsClass(tf, 'SeededDropout', () => {
    return class SeededDropoutLayer extends tf.layers.Layer {
      static readonly className = 'SeededDropout';

      constructor(
        args: { name: string; inputShape?: number[] },
        private readonly rate: number,
        private readonly rng: Rng,
      ) {
        super(args);
      }

      override computeOutputShape(inputShape: Tf.Shape | Tf.Shape[]): Tf.Shape | Tf.Shape[] {
        return inputShape;
      }

      override call(inputs: Tf.Tensor | Tf.Tensor[], kwargs: Record<string, unknown>): Tf.Tensor {
        const x = single(inputs);
        if (kwargs.training !== true || this.rate === 0) return x;
        const keep = 1 - this.rate,
          scale = 1 / keep;
        const mask = new Float32Array(x.size);
        for (let i = 0; i < mask.length; i++) mask[i] = this.rng.next() < keep ? scale : 0;
        return tf.mul(x, tf.tensor(mask, x.shape));
      }
    };
  });

/** Dropout, everything about it (the reference layer on the fast path too: it is one multiply). */
export const dropoutLayer = defineLayer({
  type: 'Dropout',
  nameStem: 'dropout',
  schema,
  starter: () => ({ rate: 0.2 }),
  infer: (_config, inputShape) => ({ outputShape: [...inputShape], params: [] }),
  reference: (l, maxBatch, ctor, rngs) =>
    new Dropout(l.config, l.inputShape, l.outputShape, maxBatch, ctor, rngs.dropout),
  tfjs: (tf, c, args, rngs) => new (seededDropoutClass(tf))(args, c.rate, rngs.dropout),
  keras: ({ config: c }) => [
    { class_name: 'Dropout', config: { ...kerasCommon(c.name), rate: c.rate, noise_shape: null, seed: null } },
  ],
  onnx: (_layer, _weights, _graph, x) => x,
});
