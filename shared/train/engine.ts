import type { OptimizerSettings } from '../engine/optimizers';

/**
 * What the trainer, the CLI, the app and the benchmarks drive. The scratch engine and the
 * tfjs engine both implement it; nothing above it knows which one runs.
 * Inputs are `[batch, time, channels]` float32, labels class indices.
 */
export interface TrainingEngine {
  /** 'scratch', 'tfjs-cpu', 'tfjs-wasm'. */
  readonly id: string;
  readonly paramCount: number;
  /** Forward, backward and one optimizer update on a batch; returns the mean NLL before the update. */
  trainStep(x: Float32Array, labels: Int32Array, batch: number): number;
  /** Class probabilities for a batch, written into `probs` (`[batch, classes]`); returns nothing. */
  predict(x: Float32Array, batch: number, probs: Float32Array): void;
  /** Weights by tfjs name (`conv1d_1/kernel`). */
  getWeights(): Map<string, Float32Array>;
  setWeights(weights: ReadonlyMap<string, ArrayLike<number>>): void;
  /** Gradients of the last trainStep, by weight name. */
  getGradients(): Map<string, Float32Array>;
  setLearningRate(lr: number): void;
  dispose(): void;
}

export interface EngineOptions {
  spec: unknown;
  optimizer: OptimizerSettings;
  maxBatch: number;
  seed: number;
}
