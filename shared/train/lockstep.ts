import type { Split } from '../data/dataset';
import type { TrainingEngine } from './engine';
import { Trainer } from './trainer';

/**
 * A lockstep run: two engines, one initial state (the reference's weights copied into the
 * candidate), the same batches in the same order, and a record of how far apart they drift.
 * Every step records both losses, their relative difference |Lr − Lc| / max(|Lc|, 1e-12) and
 * each engine's time; every `checkEvery`-th step (and the last) records the max absolute
 * difference of every weight tensor and every gradient tensor. The run is `ok` when every
 * step's relative loss difference is within `bound`.
 *
 * It is itself a TrainingEngine (predicting and saving through the reference), so the trainer,
 * the CLI and the app run it like any other engine.
 */
export const DEFAULT_LOSS_BOUND = 1e-4;
export const DEFAULT_CHECK_EVERY = 10;

export interface LockstepOptions {
  bound?: number;
  checkEvery?: number;
  /**
   * Before every step the candidate takes the reference's weights (its optimizer state stays its
   * own), so every step compares the engines from identical weights. Rounding differences then
   * cannot accumulate: where a plain run drifts apart chaotically (a ReLU or max-pool decision
   * flipped by rounding, amplified by training), this tells a real disagreement from that drift.
   */
  resync?: boolean;
}

export interface TensorDiffs {
  step: number;
  /** Max |reference − candidate| per weight tensor, after the step's update. */
  weights: Record<string, number>;
  /** Max |reference − candidate| per gradient tensor of the step. */
  gradients: Record<string, number>;
}

export interface LockstepReport {
  reference: string;
  candidate: string;
  steps: number;
  bound: number;
  ok: boolean;
  /** The first step (1-based) whose relative loss difference exceeds the bound, or null. */
  firstFailingStep: number | null;
  maxAbsLossDiff: number;
  maxRelLossDiff: number;
  maxAbsWeightDiff: number;
  maxAbsGradDiff: number;
  /** Mean wall time of one trainStep. */
  referenceMsPerStep: number;
  candidateMsPerStep: number;
  perStep: {
    referenceLoss: number[];
    candidateLoss: number[];
    relLossDiff: number[];
    referenceMs: number[];
    candidateMs: number[];
  };
  checks: TensorDiffs[];
}

/** The largest value; a NaN counts as an infinite difference rather than none. */
function maxOf(values: Iterable<number>): number {
  let m = 0;
  for (const v of values) if (!(v <= m)) m = Number.isNaN(v) ? Infinity : v;
  return m;
}

function* absDiffs(x: Float32Array, y: Float32Array): Generator<number> {
  for (let i = 0; i < x.length; i++) yield Math.abs(x[i] - y[i]);
}

function maxAbsDiffs(a: Map<string, Float32Array>, b: Map<string, Float32Array>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, x] of a) {
    const y = b.get(name);
    if (!y || y.length !== x.length) throw new Error(`lockstep: the engines disagree on tensor ${name}`);
    out[name] = maxOf(absDiffs(x, y));
  }
  return out;
}

/** |reference − candidate| / max(|candidate|, 1e-12): how a lockstep step's losses are judged. */
export function relativeLossDiff(reference: number, candidate: number): number {
  return Math.abs(reference - candidate) / Math.max(Math.abs(candidate), 1e-12);
}

/** The first 1-based step whose relative loss difference is beyond `bound` (NaN counts as beyond), or null. */
export function firstStepOver(relLossDiffs: readonly number[], bound: number): number | null {
  const failing = relLossDiffs.findIndex((d) => !(d <= bound));
  return failing < 0 ? null : failing + 1;
}

const mean = (values: number[]): number => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN);

export class LockstepEngine implements TrainingEngine {
  readonly id: string;
  readonly paramCount: number;
  readonly bound: number;
  private readonly checkEvery: number;
  private readonly resync: boolean;
  private readonly perStep: LockstepReport['perStep'] = {
    referenceLoss: [],
    candidateLoss: [],
    relLossDiff: [],
    referenceMs: [],
    candidateMs: [],
  };
  private readonly checks: TensorDiffs[] = [];

  constructor(
    readonly reference: TrainingEngine,
    readonly candidate: TrainingEngine,
    options: LockstepOptions = {},
  ) {
    if (reference.paramCount !== candidate.paramCount)
      throw new Error(
        `lockstep: ${reference.id} has ${reference.paramCount} params, ${candidate.id} ${candidate.paramCount}`,
      );
    this.id = `lockstep(${reference.id},${candidate.id})`;
    this.paramCount = reference.paramCount;
    this.bound = options.bound ?? DEFAULT_LOSS_BOUND;
    this.checkEvery = options.checkEvery ?? DEFAULT_CHECK_EVERY;
    this.resync = options.resync ?? false;
    candidate.setWeights(reference.getWeights());
  }

  get steps(): number {
    return this.perStep.referenceLoss.length;
  }

  /** Both engines take the step on the same batch; returns the reference's loss. */
  trainStep(x: Float32Array, labels: Int32Array, batch: number): number {
    if (this.resync) this.candidate.setWeights(this.reference.getWeights());
    const t0 = performance.now();
    const reference = this.reference.trainStep(x, labels, batch);
    const t1 = performance.now();
    const candidate = this.candidate.trainStep(x, labels, batch);
    const t2 = performance.now();
    const s = this.perStep;
    s.referenceLoss.push(reference);
    s.candidateLoss.push(candidate);
    s.relLossDiff.push(relativeLossDiff(reference, candidate));
    s.referenceMs.push(t1 - t0);
    s.candidateMs.push(t2 - t1);
    if (this.steps % this.checkEvery === 0) this.checkTensors();
    return reference;
  }

  predict(x: Float32Array, batch: number, probs: Float32Array): void {
    this.reference.predict(x, batch, probs);
  }

  getWeights(): Map<string, Float32Array> {
    return this.reference.getWeights();
  }

  setWeights(weights: ReadonlyMap<string, ArrayLike<number>>): void {
    this.reference.setWeights(weights);
    this.candidate.setWeights(weights);
  }

  getGradients(): Map<string, Float32Array> {
    return this.reference.getGradients();
  }

  setLearningRate(lr: number): void {
    this.reference.setLearningRate(lr);
    this.candidate.setLearningRate(lr);
  }

  dispose(): void {
    this.reference.dispose();
    this.candidate.dispose();
  }

  /** The run so far; checks the weights and gradients of the last step if that step was not checked yet. */
  report(): LockstepReport {
    const last = this.checks[this.checks.length - 1];
    if (this.steps > 0 && last?.step !== this.steps) this.checkTensors();
    const s = this.perStep;
    const firstFailingStep = firstStepOver(s.relLossDiff, this.bound);
    return {
      reference: this.reference.id,
      candidate: this.candidate.id,
      steps: this.steps,
      bound: this.bound,
      ok: this.steps > 0 && firstFailingStep === null,
      firstFailingStep,
      maxAbsLossDiff: maxOf(s.referenceLoss.map((l, i) => Math.abs(l - s.candidateLoss[i]))),
      maxRelLossDiff: maxOf(s.relLossDiff),
      maxAbsWeightDiff: maxOf(this.checks.flatMap((c) => Object.values(c.weights))),
      maxAbsGradDiff: maxOf(this.checks.flatMap((c) => Object.values(c.gradients))),
      referenceMsPerStep: mean(s.referenceMs),
      candidateMsPerStep: mean(s.candidateMs),
      perStep: {
        referenceLoss: [...s.referenceLoss],
        candidateLoss: [...s.candidateLoss],
        relLossDiff: [...s.relLossDiff],
        referenceMs: [...s.referenceMs],
        candidateMs: [...s.candidateMs],
      },
      checks: [...this.checks],
    };
  }

  private checkTensors(): void {
    this.checks.push({
      step: this.steps,
      weights: maxAbsDiffs(this.reference.getWeights(), this.candidate.getWeights()),
      gradients: maxAbsDiffs(this.reference.getGradients(), this.candidate.getGradients()),
    });
  }
}

export interface LockstepRunOptions extends LockstepOptions {
  steps: number;
  batch: number;
  /** Seeds the batch order (the trainer's shuffle stream). */
  seed: number;
  onStep?(step: number, steps: number): void;
}

/** `steps` lockstep steps over `train` in the trainer's seeded batch order (epochs wrap). */
export function runLockstep(
  reference: TrainingEngine,
  candidate: TrainingEngine,
  train: Split,
  options: LockstepRunOptions,
): LockstepReport {
  const lockstep = new LockstepEngine(reference, candidate, options);
  const trainer = new Trainer(lockstep, train, options.batch, options.seed);
  for (let i = 1; i <= options.steps; i++) {
    trainer.trainStep();
    options.onStep?.(i, options.steps);
  }
  return lockstep.report();
}

/**
 * One engine trained alone for `steps` steps in the same batch order as `runLockstep`; its
 * losses. Two such trajectories compare like a lockstep run's losses, for engines that cannot
 * run side by side (tfjs on two backends: its backend is global to the process).
 */
export function lossTrajectory(engine: TrainingEngine, train: Split, options: LockstepRunOptions): number[] {
  const trainer = new Trainer(engine, train, options.batch, options.seed);
  const losses: number[] = [];
  for (let i = 1; i <= options.steps; i++) {
    losses.push(trainer.trainStep().loss);
    options.onStep?.(i, options.steps);
  }
  return losses;
}
