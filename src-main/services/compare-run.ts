import { ScratchEngine } from '../../shared/engine/scratch-engine';
import type { TfjsBackend } from '../../shared/tfjs/backend';
import { runLockstep, type TensorDiffs } from '../../shared/train/lockstep';
import type { TrainingSettings } from '../../shared/train/settings';
import { createTfjsEngine } from './engines';
import { setUpRun } from './run-setup';

export interface CompareRequest {
  data?: string;
  model: string;
  backend: TfjsBackend;
  steps: number;
  /** optimizer, lr, batch, seed: from the model's preset unless given. */
  settings: Partial<TrainingSettings>;
  bound?: number;
  /** Candidate synced to the reference's weights before every step (LockstepOptions.resync). */
  resync?: boolean;
}

export interface CompareResult {
  model: string;
  data: string;
  backend: TfjsBackend;
  engines: { scratch: string; tfjs: string };
  optimizer: string;
  lr: number;
  batch: number;
  seed: number;
  steps: number;
  bound: number;
  ok: boolean;
  firstFailingStep: number | null;
  maxAbsLossDiff: number;
  maxRelLossDiff: number;
  maxAbsWeightDiff: number;
  maxAbsGradDiff: number;
  scratchMsPerStep: number;
  tfjsMsPerStep: number;
  perStep: { scratchLoss: number[]; tfjsLoss: number[]; relLossDiff: number[]; scratchMs: number[]; tfjsMs: number[] };
  checks: TensorDiffs[];
}

/** Scratch against tfjs in lockstep for `steps` steps from the same initial weights on the same batches. */
export async function compareRun(
  request: CompareRequest,
  onStep?: (step: number, steps: number) => void,
): Promise<CompareResult> {
  const { settings, data, engineOptions } = await setUpRun(request.model, request.data, request.settings);
  const scratch = new ScratchEngine(engineOptions);
  const tfjs = await createTfjsEngine(request.backend, engineOptions);
  try {
    const r = runLockstep(scratch, tfjs, data.train, {
      steps: request.steps,
      batch: settings.batch,
      seed: settings.seed,
      bound: request.bound,
      resync: request.resync,
      onStep,
    });
    return {
      model: request.model,
      data: request.data ?? 'demo',
      backend: request.backend,
      engines: { scratch: r.reference, tfjs: r.candidate },
      optimizer: settings.optimizer,
      lr: settings.lr,
      batch: settings.batch,
      seed: settings.seed,
      steps: r.steps,
      bound: r.bound,
      ok: r.ok,
      firstFailingStep: r.firstFailingStep,
      maxAbsLossDiff: r.maxAbsLossDiff,
      maxRelLossDiff: r.maxRelLossDiff,
      maxAbsWeightDiff: r.maxAbsWeightDiff,
      maxAbsGradDiff: r.maxAbsGradDiff,
      scratchMsPerStep: r.referenceMsPerStep,
      tfjsMsPerStep: r.candidateMsPerStep,
      perStep: {
        scratchLoss: r.perStep.referenceLoss,
        tfjsLoss: r.perStep.candidateLoss,
        relLossDiff: r.perStep.relLossDiff,
        scratchMs: r.perStep.referenceMs,
        tfjsMs: r.perStep.candidateMs,
      },
      checks: r.checks,
    };
  } finally {
    tfjs.dispose();
  }
}
