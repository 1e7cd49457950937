import type { AudioFrontEnd } from '../audio/logmel';
import { classCounts, type Dataset, type Split, type SplitName, type Standardization } from '../data/dataset';
import { applyStandardization, fitStandardization } from '../data/standardize';
import { LockstepError } from '../errors';

export interface PreparedData {
  train: Split;
  dev?: Split;
  eval?: Split;
  standardization: Standardization | null;
  classes: string[];
  /** The audio front end that made the features (audio datasets only). */
  audio?: AudioFrontEnd;
}

/**
 * Why a dataset cannot train, from its training split's examples per class (undefined: no
 * train split), or null when it can: it needs examples of at least two classes.
 */
export function untrainableReason(name: string, classes: readonly string[], trainClassCounts: readonly number[] | undefined): string | null {
  const present = (trainClassCounts ?? []).flatMap((n, k) => (n > 0 ? [k] : []));
  if (present.length === 0) return `dataset ${name}: no training examples left after the protocol (a train split with usable files is needed)`;
  if (present.length < 2) return `dataset ${name}: the training split holds only one class (${classes[present[0]]}); at least two are needed`;
  return null;
}

/**
 * Makes a dataset ready to train on: checks there is something to learn, then fits the
 * standardisation on train alone and applies it to every split.
 */
export function prepareData(dataset: Dataset, standardize: boolean): PreparedData {
  const train = dataset.splits.train;
  const problem = untrainableReason(dataset.name, dataset.classes, train && classCounts(train.y, dataset.classes.length));
  if (problem !== null || !train) throw new LockstepError(problem!);
  const standardization = standardize ? fitStandardization(train) : null;
  const prep = (s: Split | undefined): Split | undefined => (s && standardization ? applyStandardization(s, standardization) : s);
  const pick = (name: SplitName): Split | undefined => {
    const s = dataset.splits[name];
    return s && s.n > 0 ? prep(s) : undefined;
  };
  const audio = dataset.audio ? { audio: dataset.audio } : {};
  const splits = { train: prep(train)!, dev: pick('dev'), eval: pick('eval') };
  return { ...splits, standardization, classes: dataset.classes, ...audio };
}
