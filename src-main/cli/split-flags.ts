import type { SplitPolicy } from '../data/audio-clips';
import { intFlag, numberFlag, type FlagSpec } from './args';

/** The flags that set an audio folder's seeded split (when it has no train/ dev/ eval/ folders). */
export const SPLIT_FLAGS: FlagSpec = { 'dev-fraction': { type: 'string' }, 'split-seed': { type: 'string' } };

export const SPLIT_USAGE = '[--dev-fraction 0.2] [--split-seed 1]';

export function splitPolicy(flags: Record<string, unknown>): SplitPolicy {
  return {
    devFraction: numberFlag('dev-fraction', flags['dev-fraction'] as string | undefined),
    seed: intFlag('split-seed', flags['split-seed'] as string | undefined),
  };
}
