import { LockstepError } from '../errors';
import { OPTIMIZERS, type OptimizerName, type OptimizerSettings } from '../engine/optimizers';

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
}

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
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new LockstepError(`${name} must be an integer ≥ 1, got ${JSON.stringify(v)}`);
  return v;
}

function nonNegativeNumber(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new LockstepError(`${name} must be a number ≥ 0, got ${JSON.stringify(v)}`);
  return v;
}

/** Checks a settings object (from a preset, a checkpoint, flags or the UI) and fills defaults. */
export function resolveSettings(raw: Partial<Record<keyof TrainingSettings, unknown>>): TrainingSettings {
  const s = { ...DEFAULT_SETTINGS, ...Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)) } as Record<string, unknown>;
  if (!OPTIMIZERS.includes(s.optimizer as OptimizerName)) {
    throw new LockstepError(`optimizer must be one of ${OPTIMIZERS.join(', ')}, got ${JSON.stringify(s.optimizer)}`);
  }
  const lr = s.lr;
  if (typeof lr !== 'number' || !(lr > 0) || !Number.isFinite(lr)) throw new LockstepError(`lr must be a positive number, got ${JSON.stringify(lr)}`);
  if (typeof s.standardize !== 'boolean') throw new LockstepError(`standardize must be true or false, got ${JSON.stringify(s.standardize)}`);
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
    if (typeof s.nesterov !== 'boolean') throw new LockstepError(`nesterov must be true or false, got ${JSON.stringify(s.nesterov)}`);
    settings.nesterov = s.nesterov;
  }
  if (s.weightDecay !== undefined) settings.weightDecay = nonNegativeNumber('weightDecay', s.weightDecay);
  return settings;
}

export function optimizerSettings(s: TrainingSettings): OptimizerSettings {
  return { optimizer: s.optimizer, lr: s.lr, momentum: s.momentum, nesterov: s.nesterov, weightDecay: s.weightDecay };
}
