import type { EngineOptions, TrainingEngine } from '../train/engine';
import { buildFastNetwork } from './fast/fast-network';
import { createFastOptimizer } from './fast/fast-optimizer';
import { checkNetworkMemory } from './memory';
import { Network } from './network';
import { createOptimizer, type Optimizer, type OptimizerState } from './optimizers';
import { resolveSpec } from './spec';

/**
 * 'fast': Conv1D, Dense and the optimizer on hand-written WebAssembly SIMD kernels (shared/engine/fast);
 * 'reference': the readable JS layers the fast path is tested against.
 */
export type Kernels = 'fast' | 'reference';

export interface ScratchEngineOptions extends EngineOptions {
  /** Default 'fast'. */
  kernels?: Kernels;
}

/** The from-scratch engine behind the common engine interface. */
export class ScratchEngine implements TrainingEngine {
  readonly id = 'scratch';
  readonly network: Network;
  readonly kernels: Kernels;
  private readonly optimizer: Optimizer;

  constructor(options: ScratchEngineOptions) {
    this.kernels = options.kernels ?? 'fast';
    checkNetworkMemory(resolveSpec(options.spec), options.maxBatch, options.optimizer.optimizer);
    const networkOptions = { maxBatch: options.maxBatch, seed: options.seed };
    if (this.kernels === 'fast') {
      const { network, arena } = buildFastNetwork(options.spec, networkOptions);
      this.network = network;
      this.optimizer = createFastOptimizer(network.params, options.optimizer, arena);
    } else {
      this.network = new Network(options.spec, networkOptions);
      this.optimizer = createOptimizer(this.network.params, options.optimizer);
    }
  }

  get paramCount(): number {
    return this.network.paramCount;
  }

  trainStep(x: Float32Array, labels: Int32Array, batch: number): number {
    const loss = this.network.computeGradients(x, labels, batch);
    this.optimizer.step();
    return loss;
  }

  predict(x: Float32Array, batch: number, probs: Float32Array): void {
    const p = this.network.predict(x, batch);
    for (let i = 0, n = batch * this.network.resolved.classes; i < n; i++) probs[i] = p[i];
  }

  getWeights(): Map<string, Float32Array> {
    return this.network.getWeights();
  }

  setWeights(weights: ReadonlyMap<string, ArrayLike<number>>): void {
    this.network.setWeights(weights);
  }

  getGradients(): Map<string, Float32Array> {
    return new Map(this.network.params.map((p) => [p.name, Float32Array.from(p.grad)]));
  }

  /** The optimizer's state (a copy), and setting it: the fast and reference paths hold the same state. */
  getOptimizerState(): OptimizerState {
    return this.optimizer.getState();
  }

  setOptimizerState(state: OptimizerState): void {
    this.optimizer.setState(state);
  }

  setLearningRate(lr: number): void {
    this.optimizer.lr = lr;
  }

  dispose(): void {}
}
