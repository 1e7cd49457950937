import type { TrainingSettings } from './settings';

export type ScheduleSettings = Pick<
  TrainingSettings,
  'lr' | 'epochs' | 'lrSchedule' | 'warmupEpochs' | 'decayEvery' | 'decayFactor'
>;

/**
 * The learning rate of every step (0-based) of a run of `stepsPerEpoch`·epochs steps:
 * warm-up, W = warmupEpochs·stepsPerEpoch steps:  lr_s = lr·(s + 1)/W;
 * then 'constant': lr;  'cosine': lr·½(1 + cos(π·(s − W)/(S − W))), S = every step of the run,
 * falling to 0 at the end;  'step': lr·decayFactor^⌊epoch/decayEvery⌋.
 * Null when the rate never changes (no schedule, no warm-up): the engine keeps its own.
 */
export function learningRateSchedule(s: ScheduleSettings, stepsPerEpoch: number): ((step: number) => number) | null {
  const schedule = s.lrSchedule ?? 'constant';
  const warmup = (s.warmupEpochs ?? 0) * stepsPerEpoch;
  if (schedule === 'constant' && warmup === 0) return null;
  const total = s.epochs * stepsPerEpoch;
  return (step) => {
    if (step < warmup) return s.lr * ((step + 1) / warmup);
    switch (schedule) {
      case 'constant':
        return s.lr;
      case 'cosine':
        return s.lr * 0.5 * (1 + Math.cos((Math.PI * (step - warmup)) / (total - warmup)));
      case 'step':
        return s.lr * (s.decayFactor ?? 0.5) ** Math.floor(Math.floor(step / stepsPerEpoch) / s.decayEvery!);
    }
  };
}
