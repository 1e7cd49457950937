import { LockstepError } from '../errors';
import { OPTIMIZERS, type OptimizerName, type OptimizerSettings } from '../engine/optimizers';
import { LR_SCHEDULES, type LrScheduleName } from '../names';
import { parseFrontEnd, type FrontEnd } from '../data/front-end';

/** Everything that fixes a training run besides the spec and the data. */
export interface TrainingSettings {
  optimizer: OptimizerName;
  lr: number;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  batch: number;
  epochs: number;
  seed: number;
  /** Frames kept per example (the course keeps 70). */
  frames: number;
  /** Per-channel standardisation fitted on train. */
  standardize: boolean;
  /** Input normalisation before the standardisation (shared/data/front-end.ts); none when absent. */
  frontEnd?: FrontEnd;
  /** Learning-rate schedule over the run (default constant); see shared/train/schedule.ts. */
  lrSchedule?: LrScheduleName;
  /** Epochs of linear warm-up from lr/steps to lr before the schedule (default 0). */
  warmupEpochs?: number;
  /** 'step' schedule: multiply the rate by `decayFactor` (default 0.5) every `decayEvery` epochs. */
  decayEvery?: number;
  decayFactor?: number;
  /** Augmentation of training batches (default off); see shared/train/augment.ts. Largest relative change of speed (0.1: ×0.9…×1.1). */
  timeStretch?: number;
  /** Largest time shift, ± frames. */
  timeShift?: number;
  /** Widest run of frames (time mask) and of channels (frequency mask) zeroed per example. */
  timeMask?: number;
  freqMask?: number;
  /** Early stopping: stop after this many epochs without a better dev accuracy and restore the best epoch's weights. */
  patience?: number;
}

/** Largest time stretch: a speed factor beyond 1 ± 0.5 no longer resembles the same speech. */
export const MAX_TIME_STRETCH = 0.5;

/** A time stretch, checked: a number in 0…MAX_TIME_STRETCH. */
export function checkTimeStretch(f: unknown): number {
  if (typeof f !== 'number' || !(f >= 0 && f <= MAX_TIME_STRETCH))
    throw new LockstepError(`timeStretch must be a number in 0…${MAX_TIME_STRETCH}, got ${JSON.stringify(f)}`);
  return f;
}

/** The optional settings the Trainer applies itself (schedule, augmentation, early stopping). */
export const TRAINING_AID_KEYS = [
  'lrSchedule',
  'warmupEpochs',
  'decayEvery',
  'decayFactor',
  'timeStretch',
  'timeShift',
  'timeMask',
  'freqMask',
  'patience',
] as const;

export { LR_SCHEDULES, type LrScheduleName };

export const DEFAULT_SETTINGS: TrainingSettings = {
  optimizer: 'sgd',
  lr: 0.1,
  batch: 50,
  epochs: 10,
  seed: 1,
  frames: 70,
  standardize: true,
};

function positiveInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new LockstepError(`${name} must be an integer ≥ 1, got ${JSON.stringify(v)}`);
  return v;
}

function nonNegativeInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw new LockstepError(`${name} must be an integer ≥ 0, got ${JSON.stringify(v)}`);
  return v;
}

function nonNegativeNumber(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    throw new LockstepError(`${name} must be a number ≥ 0, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * The rules between settings, defined once: the protocol's settings schema (what the UI checks
 * before it starts a run, and the services check on every request) and resolveSettings (the CLI,
 * presets, checkpoints and the training worker) both apply them. Returns the first broken one.
 */
export function crossSettingProblem(s: {
  epochs: number;
  warmupEpochs?: number;
  lrSchedule?: LrScheduleName;
  decayEvery?: number;
}): { field: 'warmupEpochs' | 'decayEvery'; message: string } | null {
  if (s.warmupEpochs !== undefined && s.warmupEpochs >= s.epochs) {
    return {
      field: 'warmupEpochs',
      message: `warmupEpochs must be less than epochs (${s.epochs}), got ${s.warmupEpochs}`,
    };
  }
  if (s.lrSchedule === 'step' && s.decayEvery === undefined) {
    return { field: 'decayEvery', message: `lrSchedule 'step' needs decayEvery (epochs between decays)` };
  }
  return null;
}

/** Checks a settings object (from a preset, a checkpoint, flags or the UI) and fills defaults. */
export function resolveSettings(raw: Partial<Record<keyof TrainingSettings, unknown>>): TrainingSettings {
  const s = {
    ...DEFAULT_SETTINGS,
    ...Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)),
  } as Record<string, unknown>;
  if (!OPTIMIZERS.includes(s.optimizer as OptimizerName)) {
    throw new LockstepError(`optimizer must be one of ${OPTIMIZERS.join(', ')}, got ${JSON.stringify(s.optimizer)}`);
  }
  const lr = s.lr;
  if (typeof lr !== 'number' || !(lr > 0) || !Number.isFinite(lr))
    throw new LockstepError(`lr must be a positive number, got ${JSON.stringify(lr)}`);
  if (typeof s.standardize !== 'boolean')
    throw new LockstepError(`standardize must be true or false, got ${JSON.stringify(s.standardize)}`);
  const settings: TrainingSettings = {
    optimizer: s.optimizer as OptimizerName,
    lr,
    batch: positiveInt('batch', s.batch),
    epochs: positiveInt('epochs', s.epochs),
    seed: nonNegativeNumber('seed', s.seed),
    frames: positiveInt('frames', s.frames),
    standardize: s.standardize,
  };
  if (!Number.isInteger(settings.seed)) throw new LockstepError(`seed must be an integer ≥ 0, got ${settings.seed}`);
  if (s.momentum !== undefined) settings.momentum = nonNegativeNumber('momentum', s.momentum);
  if (s.nesterov !== undefined) {
    if (typeof s.nesterov !== 'boolean')
      throw new LockstepError(`nesterov must be true or false, got ${JSON.stringify(s.nesterov)}`);
    settings.nesterov = s.nesterov;
  }
  if (s.weightDecay !== undefined) settings.weightDecay = nonNegativeNumber('weightDecay', s.weightDecay);
  if (s.lrSchedule !== undefined) {
    if (!LR_SCHEDULES.includes(s.lrSchedule as LrScheduleName))
      throw new LockstepError(
        `lrSchedule must be one of ${LR_SCHEDULES.join(', ')}, got ${JSON.stringify(s.lrSchedule)}`,
      );
    settings.lrSchedule = s.lrSchedule as LrScheduleName;
  }
  if (s.warmupEpochs !== undefined) settings.warmupEpochs = nonNegativeInt('warmupEpochs', s.warmupEpochs);
  if (s.decayEvery !== undefined) settings.decayEvery = positiveInt('decayEvery', s.decayEvery);
  if (s.decayFactor !== undefined) {
    const f = s.decayFactor;
    if (typeof f !== 'number' || !(f > 0 && f <= 1))
      throw new LockstepError(`decayFactor must be a number in (0, 1], got ${JSON.stringify(f)}`);
    settings.decayFactor = f;
  }
  if (s.timeStretch !== undefined) settings.timeStretch = checkTimeStretch(s.timeStretch);
  for (const key of ['timeShift', 'timeMask', 'freqMask'] as const)
    if (s[key] !== undefined) settings[key] = nonNegativeInt(key, s[key]);
  if (s.patience !== undefined) settings.patience = positiveInt('patience', s.patience);
  if (s.frontEnd !== undefined) {
    const parsed = parseFrontEnd(s.frontEnd);
    if (!parsed.ok) throw new LockstepError(parsed.message);
    settings.frontEnd = parsed.frontEnd;
  }
  const problem = crossSettingProblem(settings);
  if (problem) throw new LockstepError(problem.message);
  return settings;
}

export function optimizerSettings(s: TrainingSettings): OptimizerSettings {
  return { optimizer: s.optimizer, lr: s.lr, momentum: s.momentum, nesterov: s.nesterov, weightDecay: s.weightDecay };
}
