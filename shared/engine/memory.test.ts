/**
 * A network too large for memory is refused with its size and the limit when it is built, before
 * anything is allocated: 62 × Dense 4096 (1 G parameters, 4 GB of weights alone) used to take
 * 4.1 GB of host memory and then fail with WebAssembly.Memory()'s own message.
 */
import { describe, expect, it } from 'vitest';
import { LockstepError } from '../errors';
import { checkNetworkMemory, NETWORK_MEMORY_LIMIT, networkMemoryNeed } from './memory';
import { ScratchEngine } from './scratch-engine';
import { resolveSpec, type NetworkSpec } from './spec';

const dense = (n: number, units: number): NetworkSpec => ({
  input: [70, 16],
  layers: [
    { type: 'Flatten' },
    ...Array.from({ length: n }, () => ({ type: 'Dense' as const, units, activation: 'relu' as const })),
    { type: 'Dense', units: 9, activation: 'softmax' },
  ],
});

describe('the memory a network needs', () => {
  it('62 × Dense 4096: refused with its size and the limit before anything is allocated', () => {
    const optimizer = { optimizer: 'adam' as const, lr: 0.001 };
    const build = (): ScratchEngine => new ScratchEngine({ spec: dense(62, 4096), optimizer, maxBatch: 32, seed: 1 });
    expect(build).toThrow(LockstepError);
    expect(build).toThrow(
      new RegExp(
        String.raw`^the network needs 15\.\d GiB \(at least: 1,\d{3},\d{3},\d{3} parameters with gradients and ` +
          String.raw`adam state, activations at batch 32\); one network may use at most 4\.0 GiB: ` +
          'use fewer or smaller layers, or a smaller batch$',
      ),
    );
  });

  it('counts weights, gradients and optimizer state per parameter, and activations per example of the batch', () => {
    const resolved = resolveSpec(dense(1, 10));
    const activations = 2 * 1120 + 1120 + 10 + 10 + 9; // Flatten in and out, then each Dense's input and output
    expect(networkMemoryNeed(resolved, 1, 'sgd')).toBe(resolved.paramCount * 8 + 4 * activations);
    expect(networkMemoryNeed(resolved, 1, 'momentum')).toBe(resolved.paramCount * 12 + 4 * activations);
    expect(networkMemoryNeed(resolved, 50, 'adam')).toBe(resolved.paramCount * 16 + 4 * 50 * activations);
  });

  it('the batch size alone can make a network too large; the same network at a smaller batch passes', () => {
    const layers = [{ type: 'TimeSum' }, { type: 'Dense', units: 9, activation: 'softmax' }];
    const resolved = resolveSpec({ input: [10_000, 4096], layers });
    // The input alone, at this batch, is over the limit.
    const batch = Math.ceil(NETWORK_MEMORY_LIMIT / (4 * 10_000 * 4096));
    expect(() => checkNetworkMemory(resolved, batch, 'sgd')).toThrow(/activations at batch \d+\)/);
    expect(() => checkNetworkMemory(resolved, 1, 'sgd')).not.toThrow();
  });
});
