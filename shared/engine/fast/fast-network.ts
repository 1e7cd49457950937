import { Network, type LayerBuilder, type NetworkOptions } from '../network';
import { Arena, ArenaSizer } from './arena';
import { FastActivation } from './fast-activation';
import { FastBatchNormalization, batchNormHasKernel } from './fast-batch-normalization';
import { FastConv1D } from './fast-conv1d';
import { FastDense } from './fast-dense';
import { reserveOptimizerState } from './fast-optimizer';
import { FastAveragePooling1D, FastMaxPooling1D, FastTimeSum, poolHasKernel } from './fast-pooling';

/**
 * The fast path's layer choice: Conv1D, Dense, Activation, pooling, TimeSum and batch
 * normalisation run on the WebAssembly kernels; every other layer (and a pool whose channels are not a multiple
 * of 4, a batch normalisation of an odd channel count) is the reference layer, its buffers placed in the same arena so no values are copied between the two.
 */
function fastBuilder(alloc: Arena | ArenaSizer): LayerBuilder {
  return {
    ctor: alloc.ctor,
    layer({ config, inputShape, outputShape }, maxBatch) {
      switch (config.type) {
        case 'Conv1D':
          return new FastConv1D(config, inputShape, outputShape, maxBatch, alloc);
        case 'Dense':
          return new FastDense(config, inputShape, outputShape, maxBatch, alloc);
        case 'MaxPooling1D':
          return poolHasKernel(inputShape) ? new FastMaxPooling1D(config, inputShape, outputShape, maxBatch, alloc) : null;
        case 'AveragePooling1D':
          return poolHasKernel(inputShape) ? new FastAveragePooling1D(config, inputShape, outputShape, maxBatch, alloc) : null;
        case 'TimeSum':
        case 'GlobalAveragePooling1D':
          return new FastTimeSum(config, inputShape, outputShape, maxBatch, alloc, config.type);
        case 'Activation':
          return new FastActivation(config, inputShape, outputShape, maxBatch, alloc);
        case 'BatchNormalization':
          return batchNormHasKernel(inputShape) ? new FastBatchNormalization(config, inputShape, outputShape, maxBatch, alloc) : null;
        default:
          return null;
      }
    },
  };
}

/**
 * Builds a float32 network on the fast path. The network is built twice: once to count the
 * bytes its buffers (and an optimizer's state) take, then for real in an arena of that size.
 */
export function buildFastNetwork(spec: unknown, options: Omit<NetworkOptions, 'dtype' | 'build'>): { network: Network; arena: Arena } {
  const sizer = new ArenaSizer();
  reserveOptimizerState(new Network(spec, { ...options, build: fastBuilder(sizer) }).params, sizer);
  const arena = new Arena(sizer.bytes);
  return { network: new Network(spec, { ...options, build: fastBuilder(arena) }), arena };
}
