import type { AudioFrontEnd } from '../audio/logmel';
import { classCounts, type Dataset, type Split, type SplitName, type Standardization } from '../data/dataset';
import { applyFrontEnd, NO_FRONT_END, type FrontEnd } from '../data/front-end';
import { applyStandardization, fitStandardization } from '../data/standardize';
import { LockstepError } from '../errors';
import type { TrainingSettings } from './settings';

export interface PreparedData {
  train: Split;
  dev?: Split;
  eval?: Split;
  frontEnd: FrontEnd;
  standardization: Standardization | null;
  classes: string[];
  /** The audio front end that made the features (audio datasets only). */
  audio?: AudioFrontEnd;
}

/** What a trained model does to raw features before its first layer: its front end, then its standardisation. */
export function modelInputs(split: Split, model: { frontEnd: FrontEnd; standardize: Standardization | null }): Split {
  const front = applyFrontEnd(split, model.frontEnd);
  return model.standardize ? applyStandardization(front, model.standardize) : front;
}

/**
 * Why a dataset cannot train, from its training split's examples per class (undefined: no
 * train split), or null when it can: it needs examples of at least two classes.
 */
export function untrainableReason(
  name: string,
  classes: readonly string[],
  trainClassCounts: readonly number[] | undefined,
): string | null {
  const present = (trainClassCounts ?? []).flatMap((n, k) => (n > 0 ? [k] : []));
  if (present.length === 0)
    return `dataset ${name}: no training examples left after the protocol (a train split with usable files is needed)`;
  if (present.length < 2)
    return `dataset ${name}: the training split holds only one class (${classes[present[0]]}); at least two are needed`;
  return null;
}

/**
 * Makes a dataset ready to train on: checks there is something to learn, passes every split
 * through the front end, then fits the standardisation on (the front end's) train alone and
 * applies it to every split.
 */
export function prepareData(
  dataset: Dataset,
  settings: Pick<TrainingSettings, 'standardize' | 'frontEnd'>,
): PreparedData {
  const train = dataset.splits.train;
  const problem = untrainableReason(
    dataset.name,
    dataset.classes,
    train && classCounts(train.y, dataset.classes.length),
  );
  if (problem !== null || !train) throw new LockstepError(problem!);
  const frontEnd = settings.frontEnd ?? NO_FRONT_END;
  const frontTrain = applyFrontEnd(train, frontEnd);
  const model = { frontEnd, standardize: settings.standardize ? fitStandardization(frontTrain) : null };
  const pick = (name: SplitName): Split | undefined => {
    const s = dataset.splits[name];
    return s && s.n > 0 ? modelInputs(s, model) : undefined;
  };
  const trainInputs = model.standardize ? applyStandardization(frontTrain, model.standardize) : frontTrain;
  const { classes } = dataset;
  const audio = dataset.audio ? { audio: dataset.audio } : {};
  const splits = { train: trainInputs, dev: pick('dev'), eval: pick('eval') };
  return { ...splits, frontEnd, standardization: model.standardize, classes, ...audio };
}
