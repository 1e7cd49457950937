import { ScratchEngine } from '../../shared/engine/scratch-engine';
import { resolveSpec } from '../../shared/engine/spec';
import { TFJS_BACKENDS, type TfjsBackend } from '../../shared/tfjs/backend';
import { TfjsEngine } from '../../shared/tfjs/tfjs-engine';
import { DEFAULT_LOSS_BOUND, lossTrajectory, relativeLossDiff, runLockstep } from '../../shared/train/lockstep';
import type { CompareRequest } from './compare-run';
import { wasmDirectory } from './engines';
import { setUpRun } from './run-setup';

export interface NullRun {
  /**
   * What was held against the unchanged engine: `tfjs-cpu-chunked3` (tfjs on the same backend, batch in 3 chunks),
   * `tfjs-wasm` (tfjs on the other backend) or `scratch-reference` (the scratch engine's reference layers, against its fast path).
   */
  candidate: string;
  maxRelLossDiff: number;
  firstFailingStep: number | null;
}

/**
 * The null model of a comparison: an engine against itself, same weights, batches and dropout
 * masks, the same mathematics in another float32 summation order —
 *
 * - tfjs on the same backend, each batch's loss summed in k contiguous chunks (the batch
 *   reductions of every weight gradient reordered) — except where BatchNormalization couples
 *   the examples of a batch, so that a chunked batch would compute another function;
 * - tfjs on the other backend (its JS kernels against its XNNPACK/WASM ones: every reduction,
 *   forward and backward, in another order). The two cannot run side by side in one process
 *   (the backend is global), so each trains alone and their losses are compared step by step;
 * - for batch-normalised networks, in place of the chunked batches, the scratch engine's
 *   readable reference layers against its fast WebAssembly path (every GEMM summed in another
 *   order), in lockstep — so that such a network's bound, too, rests on more than one sample of
 *   a divergence that, once kinks flip, is chaotic.
 *
 * Its divergence is what rounding alone, amplified by the training dynamics, does to a
 * lockstep run; a scratch-vs-tfjs divergence within it is no evidence that the engines compute
 * different things.
 */
export async function nullDivergence(request: CompareRequest, chunkCounts: readonly number[] = [2, 3, 5]): Promise<NullRun[]> {
  const { settings, data, spec, engineOptions } = await setUpRun(request.model, request.data, request.settings);
  // Batch normalisation computes its statistics over the batch: a chunked batch is another function, not another order.
  const batchCoupled = resolveSpec(spec).layers.some((l) => l.config.type === 'BatchNormalization');
  const create = (backend: TfjsBackend, batchChunks = 1): Promise<TfjsEngine> =>
    TfjsEngine.create({ ...engineOptions, backend, wasmDir: wasmDirectory(), batchChunks });
  const run = { steps: request.steps, batch: settings.batch, seed: settings.seed, bound: request.bound };
  const runs: NullRun[] = [];
  if (batchCoupled) {
    const r = runLockstep(new ScratchEngine(engineOptions), new ScratchEngine({ ...engineOptions, kernels: 'reference' }), data.train, run);
    runs.push({ candidate: 'scratch-reference', maxRelLossDiff: r.maxRelLossDiff, firstFailingStep: r.firstFailingStep });
  }
  for (const chunks of batchCoupled ? [] : chunkCounts) {
    const reference = await create(request.backend);
    const candidate = await create(request.backend, chunks);
    try {
      const r = runLockstep(reference, candidate, data.train, run);
      runs.push({ candidate: r.candidate, maxRelLossDiff: r.maxRelLossDiff, firstFailingStep: r.firstFailingStep });
    } finally {
      reference.dispose();
      candidate.dispose();
    }
  }
  const trajectory = async (backend: TfjsBackend): Promise<number[]> => {
    const engine = await create(backend);
    try {
      return lossTrajectory(engine, data.train, run);
    } finally {
      engine.dispose();
    }
  };
  const other = TFJS_BACKENDS.find((b) => b !== request.backend) as TfjsBackend;
  const reference = await trajectory(request.backend);
  const candidate = await trajectory(other);
  const diffs = reference.map((loss, i) => relativeLossDiff(loss, candidate[i]));
  const bound = request.bound ?? DEFAULT_LOSS_BOUND;
  const failing = diffs.findIndex((d) => !(d <= bound));
  runs.push({ candidate: `tfjs-${other}`, maxRelLossDiff: Math.max(...diffs), firstFailingStep: failing < 0 ? null : failing + 1 });
  return runs;
}

export interface NullJudgement {
  runs: NullRun[];
  /** The bound the comparison is judged against: the larger of the requested bound and the null's largest divergence. */
  bound: number;
  ok: boolean;
}

/** Judges a comparison's largest relative loss difference against the bound its null model sets. */
export async function judgeAgainstNull(request: CompareRequest, maxRelLossDiff: number): Promise<NullJudgement> {
  const runs = await nullDivergence(request);
  const bound = Math.max(request.bound ?? DEFAULT_LOSS_BOUND, ...runs.map((r) => r.maxRelLossDiff));
  return { runs, bound, ok: maxRelLossDiff <= bound };
}
