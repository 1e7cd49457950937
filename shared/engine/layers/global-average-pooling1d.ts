import { defineLayer } from './descriptor';
import { kerasCommon } from './keras';
import { FastTimeSum, TimeSum, overTime } from './time-sum';
import { timeAxis } from '../../onnx/ops';
import { attribute } from '../../onnx/proto';

/**
 * GlobalAveragePooling1D, everything about it: the sum over time (time-sum.ts) divided by the
 * length, y[b,c] = (1/T) Σ_t x[b,t,c]: the same reference layer and kernel, scaled by 1/T.
 */
export const globalAveragePooling1dLayer = defineLayer({
  type: 'GlobalAveragePooling1D',
  nameStem: 'global_average_pooling1d',
  ...overTime,
  reference: (l, maxBatch, ctor) =>
    new TimeSum(l.config, l.inputShape, l.outputShape, maxBatch, ctor, 'GlobalAveragePooling1D'),
  fast: (l, maxBatch, alloc) =>
    new FastTimeSum(l.config, l.inputShape, l.outputShape, maxBatch, alloc, 'GlobalAveragePooling1D'),
  tfjs: (tf, _c, args) => tf.layers.globalAveragePooling1d(args),
  keras: ({ config: c }) => [{ class_name: 'GlobalAveragePooling1D', config: kerasCommon(c.name) }],
  onnx: ({ config }, _weights, graph, x) => {
    const attributes = [attribute.ints('axes', [timeAxis(x)]), attribute.int('keepdims', 0)];
    return { name: graph.node(config.name, 'ReduceMean', [x.name], attributes), layout: 'flat' };
  },
});
