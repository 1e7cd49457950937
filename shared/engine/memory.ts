import { LockstepError } from '../errors';
import type { OptimizerName } from './optimizers';
import type { ResolvedNetwork } from './spec';

/**
 * The most memory one network may need: the scratch engine keeps every buffer of a network in
 * one WebAssembly memory, whose largest size is 4 GiB; past it the build fails deep inside
 * (`WebAssembly.Memory()`) after gigabytes are already taken, so it is refused up front.
 */
export const NETWORK_MEMORY_LIMIT = 4 * 2 ** 30;

/** Float32 copies of every parameter an optimizer keeps besides weights and gradients. */
const OPTIMIZER_COPIES: Record<OptimizerName, number> = { sgd: 0, momentum: 1, adam: 2 };

/**
 * A lower bound of a network's memory in bytes, from its spec alone (nothing is allocated):
 * float32 weights, gradients and optimizer state for every parameter, and for every layer at
 * least its input gradient and output at the batch size.
 */
export function networkMemoryNeed(resolved: ResolvedNetwork, maxBatch: number, optimizer: OptimizerName): number {
  const perParameter = 4 * (2 + OPTIMIZER_COPIES[optimizer]);
  const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
  const activations = resolved.layers.reduce((sum, l) => sum + size(l.inputShape) + size(l.outputShape), 0);
  return resolved.paramCount * perParameter + 4 * maxBatch * activations;
}

const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/** The error for a network needing `bytes` (`what`: of what), over the limit. */
export function networkTooLarge(bytes: number, what: string): LockstepError {
  return new LockstepError(
    `the network needs ${gib(bytes)} (${what}); one network may use at most ${gib(NETWORK_MEMORY_LIMIT)}: ` +
      'use fewer or smaller layers, or a smaller batch',
  );
}

/** Refuses, before anything is allocated, a network (at this batch size and optimizer) that cannot fit. */
export function checkNetworkMemory(resolved: ResolvedNetwork, maxBatch: number, optimizer: OptimizerName): void {
  const need = networkMemoryNeed(resolved, maxBatch, optimizer);
  if (need <= NETWORK_MEMORY_LIMIT) return;
  const params = resolved.paramCount.toLocaleString('en');
  const what = `at least: ${params} parameters with gradients and ${optimizer} state, activations at batch ${maxBatch}`;
  throw networkTooLarge(need, what);
}
