import { join } from 'node:path';
import { median } from '../../shared/median';
import { LockstepError } from '../../shared/errors';
import { DEFAULT_TFJS_BACKEND } from '../../shared/protocol';
import { buildCheckpoint } from '../../shared/model/checkpoint';
import type { TfjsBackend } from '../../shared/tfjs/backend';
import { divergenceMessage, type DivergenceContext } from '../../shared/train/divergence';
import type { TrainingEngine } from '../../shared/train/engine';
import { evaluateSplit, type Evaluation } from '../../shared/train/evaluate';
import { LockstepEngine, type LockstepReport } from '../../shared/train/lockstep';
import type { TrainingSettings } from '../../shared/train/settings';
import { Trainer, type EpochRecord } from '../../shared/train/trainer';
import { writeFileAtomic } from '../store/atomic';
import { writeCheckpoint } from '../store/checkpoint-dir';
import { createEngine, type EngineName } from './engines';
import type { SplitPolicy } from '../data/audio-clips';
import { setUpRun } from './run-setup';

export const LOCKSTEP_FILE = 'lockstep.json';

export interface TrainRunRequest {
  data?: string;
  model: string;
  /** Default scratch; lockstep trains scratch and tfjs side by side and records their divergence. */
  engine?: EngineName;
  /** tfjs's backend for the tfjs and lockstep engines; default DEFAULT_TFJS_BACKEND. */
  backend?: TfjsBackend;
  /** Lockstep: the per-step relative loss difference allowed (default 1e-4). */
  bound?: number;
  settings: Partial<TrainingSettings>;
  out?: string;
  /** An audio folder's seeded split (when it has no split folders). */
  split?: SplitPolicy;
}

export interface TrainRunEvents {
  onStep?(step: number, totalSteps: number, loss: number): void;
  /** `train`: the training split evaluated at the epoch's end (record.trainLoss is the running mean of its batches). */
  onEpoch?(record: EpochRecord, train: Omit<Evaluation, 'confusion'>): void;
}

export interface TrainRunResult {
  /** The engine's id ('scratch', 'tfjs-wasm', 'lockstep(scratch,tfjs-cpu)'). */
  engine: string;
  params: number;
  epochs: number;
  /** With early stopping (settings.patience): the epoch whose weights and results these are. */
  bestEpoch: number | null;
  settings: TrainingSettings;
  train: Omit<Evaluation, 'confusion'>;
  dev: Omit<Evaluation, 'confusion'> | null;
  /** The eval split, when the dataset has one, evaluated with the final weights. */
  eval: Omit<Evaluation, 'confusion'> | null;
  msPerEpoch: number;
  metrics: EpochRecord[];
  checkpoint: string | null;
  /** A lockstep run's comparison (also saved as lockstep.json beside the checkpoint). */
  lockstep: LockstepReport | null;
  lockstepFile: string | null;
}

function summary(e: Evaluation): Omit<Evaluation, 'confusion'> {
  return { n: e.n, loss: e.loss, accuracy: e.accuracy };
}

function stopIfDiverged(engine: TrainingEngine, context: DivergenceContext): void {
  const message = divergenceMessage(engine, context);
  if (message !== null) throw new LockstepError(message);
}

/** Loads the data, builds the engine and trains it, epoch by epoch; saves a checkpoint (and a lockstep record) if asked. */
export async function trainRun(request: TrainRunRequest, events: TrainRunEvents = {}): Promise<TrainRunResult> {
  const { settings, data, spec, engineOptions } = await setUpRun(
    request.model,
    request.data,
    request.settings,
    request.split,
  );
  const backend = request.backend ?? DEFAULT_TFJS_BACKEND;
  const choice = { engine: request.engine ?? 'scratch', backend, bound: request.bound };
  const engine = await createEngine(choice, engineOptions);
  try {
    const trainer = new Trainer(engine, data.train, settings.batch, settings.seed, settings);
    const metrics: EpochRecord[] = [];
    const totalSteps = trainer.stepsPerEpoch * settings.epochs;
    let last: ReturnType<Trainer['finishEpoch']> | null = null;
    for (let epoch = 0; epoch < settings.epochs; epoch++) {
      for (;;) {
        const { loss, epochDone } = trainer.trainStep();
        events.onStep?.(trainer.step, totalSteps, loss);
        stopIfDiverged(engine, { step: trainer.step, epoch: epoch + 1, lr: settings.lr, engineId: engine.id, loss });
        if (epochDone) break;
      }
      stopIfDiverged(engine, { step: trainer.step, epoch: epoch + 1, lr: settings.lr, engineId: engine.id });
      last = trainer.finishEpoch(data.dev, data.classes.length);
      const { trainEval: _t, devEval: _d, ...record } = last;
      metrics.push(record);
      events.onEpoch?.(record, summary(last.trainEval));
      if (trainer.stopEarly) break;
    }
    // Early stopping (settings.patience) ends with the best dev epoch's weights and results.
    last = trainer.restoreBest() ?? last;
    const trainEval = last!.trainEval;
    const devEval = data.dev ? last!.devEval! : null;
    const evalEval = data.eval ? evaluateSplit(engine, data.eval, data.classes.length, settings.batch) : null;
    let checkpoint: string | null = null;
    if (request.out) {
      const { manifest, bytes } = buildCheckpoint({ spec, data, settings, engine, metrics });
      checkpoint = writeCheckpoint(request.out, manifest, bytes);
    }
    const lockstep = engine instanceof LockstepEngine ? engine.report() : null;
    let lockstepFile: string | null = null;
    if (lockstep && request.out) {
      lockstepFile = join(request.out, LOCKSTEP_FILE);
      writeFileAtomic(lockstepFile, JSON.stringify(lockstep));
    }
    return {
      engine: engine.id,
      params: engine.paramCount,
      epochs: metrics.length,
      bestEpoch: settings.patience !== undefined ? last!.epoch : null,
      settings,
      train: summary(trainEval),
      dev: devEval ? summary(devEval) : null,
      eval: evalEval ? summary(evalEval) : null,
      msPerEpoch: median(metrics.map((m) => m.ms)),
      metrics,
      checkpoint,
      lockstep,
      lockstepFile,
    };
  } finally {
    engine.dispose();
  }
}
