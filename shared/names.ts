/**
 * Every choice a run is named by, defined once: the protocol's schemas, the CLI's flags, the
 * services and the engines all take their names from here.
 */

/** The engines a run trains with: Lockstep's own, TensorFlow.js, or both side by side. */
export const ENGINES = ['scratch', 'tfjs', 'lockstep'] as const;
export type EngineName = (typeof ENGINES)[number];

/** The engines an experiment's runs train with (a lockstep comparison is a run of its own). */
export const EXPERIMENT_ENGINES = ['scratch', 'tfjs'] as const satisfies readonly EngineName[];

/** tfjs's backends in Node. */
export const TFJS_BACKENDS = ['cpu', 'wasm'] as const;
export type TfjsBackend = (typeof TFJS_BACKENDS)[number];

/** tfjs's optimizers, whose update rules the scratch engine repeats (shared/engine/optimizers.ts). */
export const OPTIMIZERS = ['sgd', 'momentum', 'adam'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** Learning-rate schedules over a run (shared/train/schedule.ts). */
export const LR_SCHEDULES = ['constant', 'cosine', 'step'] as const;
export type LrScheduleName = (typeof LR_SCHEDULES)[number];
