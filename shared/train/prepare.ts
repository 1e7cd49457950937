import type { Dataset, Split, SplitName, Standardization } from '../data/dataset';
import { applyStandardization, fitStandardization } from '../data/standardize';
import { LockstepError } from '../errors';

export interface PreparedData {
  train: Split;
  dev?: Split;
  eval?: Split;
  standardization: Standardization | null;
  classes: string[];
}

/**
 * Makes a dataset ready to train on: checks there is something to learn, then fits the
 * standardisation on train alone and applies it to every split.
 */
export function prepareData(dataset: Dataset, standardize: boolean): PreparedData {
  const train = dataset.splits.train;
  if (!train || train.n === 0) {
    throw new LockstepError(`dataset ${dataset.name}: no training examples left after the protocol (a train split with usable files is needed)`);
  }
  const present = new Set(train.y);
  if (present.size < 2) throw new LockstepError(`dataset ${dataset.name}: the training split holds only one class (${dataset.classes[train.y[0]]}); at least two are needed`);
  const standardization = standardize ? fitStandardization(train) : null;
  const prep = (s: Split | undefined): Split | undefined => (s && standardization ? applyStandardization(s, standardization) : s);
  const pick = (name: SplitName): Split | undefined => {
    const s = dataset.splits[name];
    return s && s.n > 0 ? prep(s) : undefined;
  };
  return { train: prep(train)!, dev: pick('dev'), eval: pick('eval'), standardization, classes: dataset.classes };
}
