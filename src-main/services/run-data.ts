import { SPLIT_NAMES, type Dataset, type Split } from '../../shared/data/dataset';
import { demoDataset } from '../../shared/data/demo';
import { LockstepError } from '../../shared/errors';
import { readSplits } from '../store/split-file';
import type { DatasetRef } from './dataset-library';

/** The first `frames` frames of every example of a split (a dataset stored with more). */
export function cropFrames(split: Split, frames: number, datasetName: string): Split {
  if (frames === split.frames) return split;
  if (frames > split.frames) {
    throw new LockstepError(
      `dataset ${datasetName} was imported with ${split.frames} frames per example; a run can keep at most that many (settings.frames is ${frames})`,
    );
  }
  const C = split.channels;
  const x = new Float32Array(split.n * frames * C);
  for (let i = 0; i < split.n; i++)
    x.set(split.x.subarray(i * split.frames * C, (i * split.frames + frames) * C), i * frames * C);
  return { ...split, x, frames };
}

/**
 * A run's dataset, as the worker trains on it: the demo regenerated with the run's frame count,
 * or an import read back from its split file and cropped to the run's frame count.
 */
export function loadRunDataset(ref: DatasetRef, frames: number): Dataset {
  if (ref.kind === 'demo') return demoDataset(frames);
  const stored = readSplits(ref.file);
  const audio = ref.audio ? { audio: ref.audio } : {};
  const dataset: Dataset = { name: ref.name, classes: [...ref.classes], splits: {}, reports: {}, ...audio };
  for (const name of SPLIT_NAMES) {
    const s = stored.get(name);
    if (s) dataset.splits[name] = cropFrames(s, frames, ref.name);
  }
  return dataset;
}
