import type { EngineOptions, TrainingEngine } from '../../shared/train/engine';
import { LockstepEngine } from '../../shared/train/lockstep';
import { createEngine, type EngineName } from './engines';

export type RunBackend = 'cpu' | 'wasm';

/** An engine that remembers its last step's loss and the time its steps took (lockstep runs report both engines). */
export class RecordingEngine implements TrainingEngine {
  lastLoss = NaN;
  /** Milliseconds of trainStep since the last `takeMs()`. */
  private ms = 0;
  /** Losses since the last `takeLosses()`. */
  private losses: number[] = [];

  constructor(readonly inner: TrainingEngine) {}

  get id(): string {
    return this.inner.id;
  }
  get paramCount(): number {
    return this.inner.paramCount;
  }
  trainStep(x: Float32Array, labels: Int32Array, batch: number): number {
    const t0 = performance.now();
    this.lastLoss = this.inner.trainStep(x, labels, batch);
    this.ms += performance.now() - t0;
    this.losses.push(this.lastLoss);
    return this.lastLoss;
  }
  takeMs(): number {
    const ms = this.ms;
    this.ms = 0;
    return ms;
  }
  takeLosses(): number[] {
    return this.losses.splice(0);
  }
  predict(x: Float32Array, batch: number, probs: Float32Array): void {
    this.inner.predict(x, batch, probs);
  }
  getWeights(): Map<string, Float32Array> {
    return this.inner.getWeights();
  }
  setWeights(weights: ReadonlyMap<string, ArrayLike<number>>): void {
    this.inner.setWeights(weights);
  }
  getGradients(): Map<string, Float32Array> {
    return this.inner.getGradients();
  }
  setLearningRate(lr: number): void {
    this.inner.setLearningRate(lr);
  }
  dispose(): void {
    this.inner.dispose();
  }
}

export interface RunEngines {
  /** What the trainer steps: the engine, or the lockstep pair as one engine (predicting through scratch). */
  engine: TrainingEngine;
  /** Lockstep runs: the two engines, so the worker can report both losses and compare their tensors. */
  pair?: { reference: RecordingEngine; candidate: RecordingEngine };
}

/**
 * The engines a run trains, built inside its worker by the engine factory (engines.ts).
 * For 'lockstep' the pair is assembled here around recording engines (scratch the reference,
 * tfjs on the chosen backend the candidate), and the worker compares their weights and
 * gradients itself (every `LOCKSTEP_CHECK_EVERY` steps and the last), so the pair's own
 * periodic check is switched off rather than done twice.
 */
export const LOCKSTEP_CHECK_EVERY = 10;

export async function createRunEngines(
  kind: EngineName,
  backend: RunBackend,
  options: EngineOptions,
): Promise<RunEngines> {
  if (kind !== 'lockstep') return { engine: await createEngine({ engine: kind, backend }, options) };
  const reference = new RecordingEngine(await createEngine({ engine: 'scratch', backend }, options));
  const candidate = new RecordingEngine(await createEngine({ engine: 'tfjs', backend }, options));
  const engine = new LockstepEngine(reference, candidate, { checkEvery: Number.MAX_SAFE_INTEGER });
  return { engine, pair: { reference, candidate } };
}
