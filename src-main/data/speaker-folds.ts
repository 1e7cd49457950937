/**
 * Speaker-disjoint folds of an ee-set root's train split, each written as a dataset root of its
 * own: `fold<k>/train` holds every speaker but fold k's, `fold<k>/dev` fold k's speakers. Any
 * command that takes `--data` then measures accuracy on speakers the network never heard, as the
 * course's dev split does (its 9 speakers are not among the 64 training speakers), but averaged
 * over every training speaker instead of 9.
 *
 * The speaker is the start of a feature file's name up to its first '_' (`AF1_35D_LB_C1_M1_fbc.txt`
 * is AF1's). Feature files are hard-linked into each fold where the file system allows it (no
 * copy: the loader accepts a hard link, whose real path is inside the fold), copied otherwise.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { Rng } from '../../shared/engine/rng';
import { LockstepError } from '../../shared/errors';
import { parseLabels, type Entry } from './eeset-labels';
import { errCode, findLabelsFile, makeRootContext } from './eeset-root';

export interface SpeakerFold {
  /** The fold's dataset root. */
  dir: string;
  /** Its dev split's speakers, sorted. */
  heldOut: string[];
  trainExamples: number;
  devExamples: number;
}

const SPEAKER = /^([^_/]+)_/;

/** Each speaker's fold: speakers sorted, shuffled by the seed, then dealt round-robin. */
export function assignSpeakerFolds(speakers: readonly string[], folds: number, seed: number): Map<string, number> {
  const order = [...new Set(speakers)].sort();
  if (!Number.isInteger(folds) || folds < 2 || folds > order.length) {
    throw new LockstepError(
      `expected an integer number of folds in 2–${order.length} (one speaker at least in each), found ${folds}`,
      {
        field: 'folds',
      },
    );
  }
  const index = order.map((_, i) => i);
  Rng.derive(seed, 'speaker-folds').shuffle(index);
  return new Map(index.map((speakerIndex, position) => [order[speakerIndex], position % folds]));
}

function speakerOf(entry: Entry, labelsFile: string): string {
  const name = nodePath.posix.basename(entry.id);
  const match = SPEAKER.exec(name);
  if (!match) {
    throw new LockstepError(`expected a file name that starts with its speaker and '_' (e.g. AF1_…), found '${name}'`, {
      file: labelsFile,
      line: entry.line,
      field: 'path',
    });
  }
  return match[1];
}

function checkReadable(entry: Entry, labelsFile: string): void {
  try {
    fs.accessSync(entry.abs, fs.constants.R_OK);
  } catch (e) {
    throw new LockstepError(`expected a readable feature file, found ${errCode(e)}`, {
      file: labelsFile,
      line: entry.line,
      field: 'path',
    });
  }
}

function linkOrCopy(from: string, to: string): void {
  fs.mkdirSync(nodePath.dirname(to), { recursive: true });
  try {
    fs.linkSync(from, to);
  } catch {
    fs.copyFileSync(from, to);
  }
}

function writeLabels(file: string, entries: readonly Entry[]): void {
  fs.mkdirSync(nodePath.dirname(file), { recursive: true });
  fs.writeFileSync(file, entries.map((e) => `${e.label} ${e.id}\n`).join(''));
}

/** Writes `out/fold0` … `out/fold<folds-1>` from `root`'s train split; `out` must not exist yet. */
export function writeSpeakerFolds(root: string, out: string, folds: number, seed: number): SpeakerFold[] {
  const labelsAbs = findLabelsFile(root, 'train');
  const labelsRel = nodePath.relative(root, labelsAbs);
  const entries = parseLabels(makeRootContext(root), labelsAbs, labelsRel);
  const speakers = entries.map((e) => speakerOf(e, labelsRel));
  const foldOf = assignSpeakerFolds(speakers, folds, seed);
  for (const entry of entries) checkReadable(entry, labelsRel);
  if (fs.existsSync(out)) {
    throw new LockstepError(
      'expected a folder that does not exist yet (folds are never written over), found one there',
      { file: out },
    );
  }
  return Array.from({ length: folds }, (_, k) => {
    const dir = nodePath.join(out, `fold${k}`);
    const held = entries.filter((_, i) => foldOf.get(speakers[i]) === k);
    const kept = entries.filter((_, i) => foldOf.get(speakers[i]) !== k);
    writeLabels(nodePath.join(dir, 'train', 'lab', 'train_labels.txt'), kept);
    writeLabels(nodePath.join(dir, 'dev', 'lab', 'dev_labels.txt'), held);
    for (const entry of entries) linkOrCopy(entry.abs, nodePath.join(dir, entry.id));
    const heldOut = [...foldOf]
      .filter(([, fold]) => fold === k)
      .map(([speaker]) => speaker)
      .sort();
    return { dir, heldOut, trainExamples: kept.length, devExamples: held.length };
  });
}
