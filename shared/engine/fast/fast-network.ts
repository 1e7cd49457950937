import { Network, type LayerBuilder, type NetworkOptions } from '../network';
import { descriptorOf } from '../layers/registry';
import { Arena, ArenaSizer } from './arena';
import { reserveOptimizerState } from './fast-optimizer';

/**
 * The fast path's layer choice: each layer type's descriptor runs it on the WebAssembly kernels
 * where it has a kernel for that shape; every other layer is the reference layer, its buffers
 * placed in the same arena so no values are copied between the two.
 */
function fastBuilder(alloc: Arena | ArenaSizer): LayerBuilder {
  return {
    ctor: alloc.ctor,
    layer: (resolved, maxBatch) => descriptorOf(resolved.config.type).fast?.(resolved, maxBatch, alloc) ?? null,
  };
}

/**
 * Builds a float32 network on the fast path. The network is built twice: once to count the
 * bytes its buffers (and an optimizer's state) take, then for real in an arena of that size.
 */
export function buildFastNetwork(
  spec: unknown,
  options: Omit<NetworkOptions, 'dtype' | 'build'>,
): { network: Network; arena: Arena } {
  const sizer = new ArenaSizer();
  reserveOptimizerState(new Network(spec, { ...options, build: fastBuilder(sizer) }).params, sizer);
  const arena = new Arena(sizer.bytes);
  return { network: new Network(spec, { ...options, build: fastBuilder(arena) }), arena };
}
