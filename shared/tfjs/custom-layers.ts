import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../engine/rng';

type Kwargs = Record<string, unknown>;
/** `name`, and `inputShape` when the layer comes first. */
type LayerArgs = ConstructorParameters<typeof tf.layers.Layer>[0];

function single(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0] : inputs;
}

/**
 * The TDNN's integration over time, y[b,c] = Σ_t x[b,t,c]: tfjs-layers has no such layer
 * (GlobalAveragePooling1D divides by the length), so it is one tf.sum.
 */
export class TimeSumLayer extends tf.layers.Layer {
  static readonly className = 'TimeSum';

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [shape[0], shape[2]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.sum(single(inputs), 1);
  }
}

/**
 * Inverted dropout whose masks come from the scratch engine's seeded dropout stream, drawn in
 * the same order (layer by layer, element by element, training passes only), so both engines
 * drop the same units at every step. tf.layers.dropout would draw from tfjs's own generator
 * and make every lockstep run with dropout diverge by design.
 */
export class SeededDropoutLayer extends tf.layers.Layer {
  static readonly className = 'SeededDropout';

  constructor(
    args: LayerArgs,
    private readonly rate: number,
    private readonly rng: Rng,
  ) {
    super(args);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const x = single(inputs);
    if (kwargs.training !== true || this.rate === 0) return x;
    const keep = 1 - this.rate, scale = 1 / keep;
    const mask = new Float32Array(x.size);
    for (let i = 0; i < mask.length; i++) mask[i] = this.rng.next() < keep ? scale : 0;
    return tf.mul(x, tf.tensor(mask, x.shape));
  }
}
