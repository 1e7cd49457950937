import { ScratchEngine } from '../../shared/engine/scratch-engine';
import { resolveSpec } from '../../shared/engine/spec';
import { median } from '../../shared/median';
import { TFJS_BACKENDS, type TfjsBackend } from '../../shared/tfjs/backend';
import { TfjsEngine } from '../../shared/tfjs/tfjs-engine';
import type { TrainingEngine } from '../../shared/train/engine';
import {
  DEFAULT_LOSS_BOUND,
  firstStepOver,
  lossTrajectory,
  relativeLossDiff,
  runLockstep,
  type LockstepRunOptions,
} from '../../shared/train/lockstep';
import { nudgedByOneUlp } from '../../shared/train/perturb';
import { compareRun, type CompareRequest } from './compare-run';
import { wasmDirectory } from './engines';
import { setUpRun } from './run-setup';

export interface NullRun {
  /**
   * What was held against the unchanged engine: `tfjs-cpu-chunked3` (tfjs on the same backend, batch in 3 chunks),
   * `tfjs-wasm` (tfjs on the other backend), `scratch-reference` (the scratch engine's reference layers, against its
   * fast path), `scratch-ulp4` / `tfjs-cpu-ulp1` (the engine from weights one ulp away, seed 4 / 1).
   */
  candidate: string;
  maxRelLossDiff: number;
  firstFailingStep: number | null;
}

export interface NullModelOptions {
  /** tfjs on the request's backend with each batch summed in this many chunks (networks without batch normalisation). */
  chunkCounts?: readonly number[];
  /** Scratch runs from one-ulp-nudged weights (cheap: the sample that shows the spread). */
  scratchUlpSamples?: number;
  /** tfjs runs on the request's backend from one-ulp-nudged weights. */
  tfjsUlpSamples?: number;
  /** tfjs on the other backend (slow where that is cpu and the network convolves a lot). */
  otherBackend?: boolean;
}

const DEFAULT_NULL: Required<NullModelOptions> = {
  chunkCounts: [2, 3, 5],
  scratchUlpSamples: 16,
  tfjsUlpSamples: 2,
  otherBackend: true,
};

/**
 * The null model of a comparison: an engine against itself, same batches and dropout masks,
 * the same mathematics with only float32 rounding changed —
 *
 * - tfjs on the same backend, each batch's loss summed in k contiguous chunks (the batch
 *   reductions of every weight gradient reordered) — except where BatchNormalization couples
 *   the examples of a batch, so that a chunked batch would compute another function; there the
 *   scratch engine's readable reference layers against its fast WebAssembly path (every GEMM
 *   summed in another order), in lockstep;
 * - tfjs on the other backend (its JS kernels against its XNNPACK/WASM ones: every reduction,
 *   forward and backward, in another order). The backend is global to the process, so each
 *   trains alone and their losses are compared step by step;
 * - each engine from its initial weights moved by one ulp (`nudgedByOneUlp`), one sample per
 *   seed: a difference the size of one rounding, as a weather forecast's ensemble perturbs its
 *   initial state. Where a network's training is chaotic (kinks such as a ReLU at 0 flipped by
 *   rounding, amplified every step) the divergence after N steps is a random variable spread
 *   over a factor of two or more; one or two samples of it are no bound, sixteen show its spread.
 *
 * Its divergence is what rounding alone, amplified by the training dynamics, does to a
 * lockstep run; a scratch-vs-tfjs divergence within it is no evidence that the engines compute
 * different things.
 */
export async function nullDivergence(request: CompareRequest, options: NullModelOptions = {}): Promise<NullRun[]> {
  const { chunkCounts, scratchUlpSamples, tfjsUlpSamples, otherBackend } = { ...DEFAULT_NULL, ...options };
  const { settings, data, spec, engineOptions } = await setUpRun(request.model, request.data, request.settings);
  // Batch normalisation computes its statistics over the batch: a chunked batch is another function, not another order.
  const batchCoupled = resolveSpec(spec).layers.some((l) => l.config.type === 'BatchNormalization');
  const createTfjs = (backend: TfjsBackend, batchChunks = 1): Promise<TfjsEngine> =>
    TfjsEngine.create({ ...engineOptions, backend, wasmDir: wasmDirectory(), batchChunks });
  const run: LockstepRunOptions = {
    steps: request.steps,
    batch: settings.batch,
    seed: settings.seed,
    bound: request.bound,
  };
  const bound = request.bound ?? DEFAULT_LOSS_BOUND;
  const runs: NullRun[] = [];

  const lockstep = (reference: TrainingEngine, candidate: TrainingEngine, name = candidate.id): void => {
    try {
      const r = runLockstep(reference, candidate, data.train, run);
      runs.push({ candidate: name, maxRelLossDiff: r.maxRelLossDiff, firstFailingStep: r.firstFailingStep });
    } finally {
      reference.dispose();
      candidate.dispose();
    }
  };
  if (batchCoupled)
    lockstep(
      new ScratchEngine(engineOptions),
      new ScratchEngine({ ...engineOptions, kernels: 'reference' }),
      'scratch-reference',
    );
  else
    for (const chunks of chunkCounts)
      lockstep(await createTfjs(request.backend), await createTfjs(request.backend, chunks));

  /** The engine's losses alone; `nudgeSeed` starts it one ulp from the initial weights. */
  const trajectory = (engine: TrainingEngine, nudgeSeed?: number): number[] => {
    try {
      if (nudgeSeed !== undefined) engine.setWeights(nudgedByOneUlp(engine.getWeights(), nudgeSeed));
      return lossTrajectory(engine, data.train, run);
    } finally {
      engine.dispose();
    }
  };
  const against = (reference: number[], candidate: string, losses: number[]): void => {
    const diffs = reference.map((loss, i) => relativeLossDiff(loss, losses[i]));
    runs.push({ candidate, maxRelLossDiff: Math.max(...diffs), firstFailingStep: firstStepOver(diffs, bound) });
  };
  if (otherBackend || tfjsUlpSamples > 0) {
    const tfjsReference = trajectory(await createTfjs(request.backend));
    const other = TFJS_BACKENDS.find((b) => b !== request.backend) as TfjsBackend;
    if (otherBackend) against(tfjsReference, `tfjs-${other}`, trajectory(await createTfjs(other)));
    for (let seed = 1; seed <= tfjsUlpSamples; seed++) {
      against(tfjsReference, `tfjs-${request.backend}-ulp${seed}`, trajectory(await createTfjs(request.backend), seed));
    }
  }
  const scratchReference = trajectory(new ScratchEngine(engineOptions));
  for (let seed = 1; seed <= scratchUlpSamples; seed++) {
    against(scratchReference, `scratch-ulp${seed}`, trajectory(new ScratchEngine(engineOptions), seed));
  }
  return runs;
}

export interface NullJudgement {
  runs: NullRun[];
  /** The bound the free-running comparison is judged against: the larger of the requested bound and the null's largest divergence. */
  bound: number;
  /** The null runs' largest relative loss differences: smallest, median, largest. */
  spread: { min: number; median: number; max: number };
  /** How many null runs diverged further than the comparison: where it sits in what rounding alone does. */
  nullRunsFurther: number;
  /** The same comparison resynced before every step (LockstepOptions.resync), judged against the requested bound. */
  resynced: { maxRelLossDiff: number; firstFailingStep: number | null; ok: boolean };
  ok: boolean;
}

/**
 * A comparison beyond the requested bound passes only on two counts: free-running, it diverges
 * no further than the null model's largest divergence (rounding alone moves runs that far
 * apart); and resynced to identical weights before every step, every step stays within the
 * requested bound (each step computes the same thing — the drift is amplified rounding, not a
 * disagreement).
 */
export function judge(
  maxRelLossDiff: number,
  runs: NullRun[],
  resynced: NullJudgement['resynced'],
  requestedBound = DEFAULT_LOSS_BOUND,
): NullJudgement {
  const divergences = runs.map((r) => r.maxRelLossDiff);
  const spread = { min: Math.min(...divergences), median: median(divergences), max: Math.max(...divergences) };
  const bound = Math.max(requestedBound, spread.max);
  const nullRunsFurther = divergences.filter((d) => d > maxRelLossDiff).length;
  return { runs, bound, spread, nullRunsFurther, resynced, ok: maxRelLossDiff <= bound && resynced.ok };
}

/** Measures the null model and the resynced comparison of a free-running comparison, and judges it by them. */
export async function judgeAgainstNull(
  request: CompareRequest,
  maxRelLossDiff: number,
  options?: NullModelOptions,
): Promise<NullJudgement> {
  const runs = await nullDivergence(request, options);
  const r = await compareRun({ ...request, resync: true });
  return judge(
    maxRelLossDiff,
    runs,
    { maxRelLossDiff: r.maxRelLossDiff, firstFailingStep: r.firstFailingStep, ok: r.ok },
    request.bound,
  );
}
