import type { CheckpointManifest } from '../../shared/model/checkpoint';
import type { EpochPoint, Events, Params, SplitResult } from '../../shared/protocol';
import type { DatasetRef } from './dataset-library';

/**
 * Messages between TrainingSessions (main thread) and a training worker.
 *
 * Control goes the other way through one shared Int32 (`control`), not messages: the worker's
 * loop is synchronous, and reads the word between any two steps (a message would wait for the
 * loop to yield). Pausing parks the worker in `Atomics.wait` on that word, so a paused run
 * resumes exactly where it was: nothing is recomputed, reseeded or reordered.
 */
export const CONTROL_RUN = 0;
export const CONTROL_PAUSE = 1;
export const CONTROL_STOP = 2;

/** Test hooks: make the worker fail on purpose at a given step. */
export interface WorkerFault {
  atStep: number;
  kind: 'throw' | 'exit' | 'nan' | 'hang';
}

export interface WorkerInput {
  runId: string;
  dataset: DatasetRef;
  spec: Params<'runs.start'>['spec'];
  settings: Params<'runs.start'>['settings'];
  engine: Params<'runs.start'>['engine'];
  backend: Params<'runs.start'>['backend'];
  /** An Int32Array's buffer of length 1: CONTROL_RUN | CONTROL_PAUSE | CONTROL_STOP. */
  control: SharedArrayBuffer;
  /** Minimum time between progress messages. */
  progressIntervalMs: number;
  /** Keep training an interrupted run from the last epoch saved in this checkpoint folder. */
  resumeFrom?: string;
  fault?: WorkerFault;
}

export interface Resumed {
  epochs: number;
  steps: number;
}

/** A checkpoint to save: the manifest (less its weights file name) and the weights' bytes. */
export interface CheckpointOut {
  manifest: Omit<CheckpointManifest, 'weightsFile'>;
  bytes: Uint8Array;
}

export interface PredictionsOut {
  /** `[n, classes]` class probabilities. */
  probs: Float32Array;
  labels: Int32Array;
  ids: string[];
  classes: number;
}

export type WorkerMessage =
  /** `resumed`: a resumed run's epochs and steps already done (its metrics past them are to be dropped). */
  | { type: 'ready'; params: number; totalSteps: number; stepsPerEpoch: number; engines: string[]; resumed?: Resumed }
  /** `epoch`: the epoch the steps belong to, 1-based (as EpochPoint.epoch). */
  | ({ type: 'progress' } & Omit<Events['run.progress'], 'runId'>)
  | { type: 'epoch'; points: EpochPoint[]; epochsDone: number }
  /** At an epoch's end (at most once a second): its weights and the scratch optimizer's state, to export or resume. */
  | { type: 'checkpoint'; checkpoint: CheckpointOut }
  | { type: 'paused'; step: number }
  | { type: 'resumed'; step: number }
  | { type: 'stopped'; step: number }
  /** A problem the user can act on (divergence, a dataset or spec that cannot train): the run failed. */
  | { type: 'failed'; message: string }
  | {
      type: 'results';
      results: Partial<Record<'train' | 'dev' | 'eval', SplitResult>>;
      predictions: Partial<Record<'train' | 'dev' | 'eval', PredictionsOut>>;
      checkpoint: CheckpointOut;
    }
  | { type: 'done' };
