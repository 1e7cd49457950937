import type { EngineOptions, TrainingEngine } from '../train/engine';
import { Network } from './network';
import { createOptimizer, type Optimizer } from './optimizers';

/** The from-scratch engine behind the common engine interface. */
export class ScratchEngine implements TrainingEngine {
  readonly id = 'scratch';
  readonly network: Network;
  private readonly optimizer: Optimizer;

  constructor(options: EngineOptions) {
    this.network = new Network(options.spec, { maxBatch: options.maxBatch, seed: options.seed });
    this.optimizer = createOptimizer(this.network.params, options.optimizer);
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

  setLearningRate(lr: number): void {
    this.optimizer.lr = lr;
  }

  dispose(): void {}
}
