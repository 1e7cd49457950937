import { z } from 'zod';
import { sizeOf, type FloatArray, type Layer } from '../types';
import { defineLayer, type LayerConfigOf } from './descriptor';
import { kerasCommon } from './keras';
import { attribute } from '../../onnx/proto';

const schema = z.object({});
export type FlattenConfig = LayerConfigOf<'Flatten', z.output<typeof schema>>;

/**
 * [time, channels] → [time·channels] in channels-last (row-major) order, as tfjs flattens:
 * the memory layout is already that, so forward and backward pass their buffers through.
 */
export class Flatten implements Layer {
  readonly className = 'Flatten';
  readonly name: string;
  readonly params = [];
  needInputGrad = true;

  constructor(
    config: FlattenConfig,
    readonly inputShape: readonly number[],
    readonly outputShape: readonly number[],
  ) {
    this.name = config.name;
  }

  forward(x: FloatArray): FloatArray {
    return x;
  }

  /** dx = dy (a reshape moves no values). */
  backward(dy: FloatArray): FloatArray | null {
    return this.needInputGrad ? dy : null;
  }
}

/**
 * Flatten, everything about it (nothing to run on the kernels: it moves no values). A Flatten of an
 * input that is already flat is left out of a Keras export (tfjs's Flatten wants a 3-D input).
 */
export const flattenLayer = defineLayer({
  type: 'Flatten',
  nameStem: 'flatten',
  schema,
  infer: (_config, inputShape) => ({ outputShape: [sizeOf(inputShape)], params: [] }),
  reference: (l) => new Flatten(l.config, l.inputShape, l.outputShape),
  tfjs: (tf, _c, args) => tf.layers.flatten(args),
  keras: ({ config: c, inputShape }) =>
    inputShape.length === 1
      ? []
      : [{ class_name: 'Flatten', config: { ...kerasCommon(c.name), data_format: 'channels_last' } }],
  // Keras flattens [time, channels] row-major, so a channels-first sequence goes back to time-major first.
  onnx: ({ config }, _weights, graph, x) => {
    if (x.layout === 'flat') return x;
    const input = graph.timeMajor(x, config.name);
    return { name: graph.node(config.name, 'Flatten', [input.name], [attribute.int('axis', 1)]), layout: 'flat' };
  },
});
