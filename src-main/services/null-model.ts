import { TfjsEngine } from '../../shared/tfjs/tfjs-engine';
import { runLockstep } from '../../shared/train/lockstep';
import type { CompareRequest } from './compare-run';
import { wasmDirectory } from './engines';
import { setUpRun } from './run-setup';

export interface NullRun {
  /** The candidate summed each batch in this many chunks. */
  chunks: number;
  maxRelLossDiff: number;
  firstFailingStep: number | null;
}

/**
 * The null model of a comparison: tfjs against itself on the same backend, weights, batches and
 * dropout masks, the candidate summing each batch's loss in k contiguous chunks — the same
 * mathematics in another float32 summation order. Its divergence is what rounding alone,
 * amplified by the training dynamics, does to a lockstep run; a scratch-vs-tfjs divergence
 * within it is no evidence that the engines compute different things.
 */
export async function nullDivergence(request: CompareRequest, chunkCounts: readonly number[] = [2, 3, 5]): Promise<NullRun[]> {
  const { settings, data, engineOptions } = await setUpRun(request.model, request.data, request.settings);
  const runs: NullRun[] = [];
  for (const chunks of chunkCounts) {
    const make = (batchChunks: number): Promise<TfjsEngine> => TfjsEngine.create({ ...engineOptions, backend: request.backend, wasmDir: wasmDirectory(), batchChunks });
    const reference = await make(1);
    const candidate = await make(chunks);
    try {
      const r = runLockstep(reference, candidate, data.train, { steps: request.steps, batch: settings.batch, seed: settings.seed, bound: request.bound });
      runs.push({ chunks, maxRelLossDiff: r.maxRelLossDiff, firstFailingStep: r.firstFailingStep });
    } finally {
      reference.dispose();
      candidate.dispose();
    }
  }
  return runs;
}
