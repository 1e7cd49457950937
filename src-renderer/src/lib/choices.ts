import type { EngineName, OptimizerName } from '../../../shared/names';

/** How the Train panel names each engine and optimizer (their names come from shared/names.ts). */
export const ENGINE_LABELS: Record<EngineName, string> = {
  scratch: 'scratch',
  tfjs: 'tfjs',
  lockstep: 'lockstep (both)',
};
export const OPTIMIZER_LABELS: Record<OptimizerName, string> = { sgd: 'SGD', momentum: 'SGD + momentum', adam: 'Adam' };
