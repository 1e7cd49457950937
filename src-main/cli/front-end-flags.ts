import { DEFAULT_PCEN, parseFrontEnd, type FrontEnd, type PcenParams } from '../../shared/data/front-end';
import { LockstepError } from '../../shared/errors';
import { numberFlag, type FlagSpec } from './args';

/** `--front-end` names (kebab-case) and the front ends they stand for; standardize: no normalisation before it. */
const FRONT_END_FLAG_VALUES = { standardize: 'none', pcen: 'pcen', 'utterance-mean': 'utteranceMean' } as const;
const PCEN_FLAGS = Object.keys(DEFAULT_PCEN).map((k) => [`pcen-${k}`, k as keyof PcenParams] as const);

export const FRONT_END_USAGE =
  '[--front-end standardize|pcen|utterance-mean] [--pcen-smoothing 0.1] [--pcen-alpha 0.98] [--pcen-delta 2] ' +
  '[--pcen-root 0.5] [--pcen-epsilon 1e-6]';

export const FRONT_END_FLAGS: FlagSpec = Object.fromEntries(
  ['front-end', ...PCEN_FLAGS.map(([flag]) => flag)].map((flag) => [flag, { type: 'string' }]),
);

/** The front end the flags ask for, or undefined (the preset's) when `--front-end` is absent. */
export function frontEndFromFlags(f: Record<string, string | undefined>): FrontEnd | undefined {
  const name = f['front-end'];
  const given = PCEN_FLAGS.filter(([flag]) => f[flag] !== undefined);
  if (name === undefined) {
    if (given.length) throw new LockstepError(`--${given[0][0]} needs --front-end pcen`);
    return undefined;
  }
  const normalize = FRONT_END_FLAG_VALUES[name as keyof typeof FRONT_END_FLAG_VALUES];
  if (normalize === undefined) {
    throw new LockstepError(
      `--front-end must be one of ${Object.keys(FRONT_END_FLAG_VALUES).join(', ')}, got '${name}'`,
    );
  }
  if (normalize !== 'pcen' && given.length)
    throw new LockstepError(`--${given[0][0]} needs --front-end pcen, got '${name}'`);
  const pcen = Object.fromEntries(given.map(([flag, key]) => [key, numberFlag(flag, f[flag])]));
  const parsed = parseFrontEnd(normalize === 'pcen' ? { normalize, pcen } : { normalize });
  // The schema names the field (frontEnd.pcen.alpha); the user typed the flag (--pcen-alpha).
  if (!parsed.ok) throw new LockstepError(parsed.message.replace(/^frontEnd\.pcen\.(\w+):/, '--pcen-$1:'));
  return parsed.frontEnd;
}
