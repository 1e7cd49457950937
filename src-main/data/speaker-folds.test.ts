import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError } from '../../shared/errors';
import { tempDirsRemovedAfterAll } from '../services/test-helpers';
import { featText } from './archive-fixtures';
import { loadEeSet } from './eeset';
import { assignSpeakerFolds, writeSpeakerFolds } from './speaker-folds';

const tmp = tempDirsRemovedAfterAll('speaker-folds-');
const SPEAKERS = ['AF1', 'AM2', 'BF1', 'BM3', 'CF2'];

/** A train split of 3 files per speaker, 72 frames each, named as the ee-set names them. */
function writeRoot(names: string[] = SPEAKERS.flatMap((s) => [0, 1, 2].map((i) => `${s}_${i}_fbc.txt`))): string {
  const root = tmp();
  fs.mkdirSync(path.join(root, 'train', 'fbc'), { recursive: true });
  fs.mkdirSync(path.join(root, 'train', 'lab'), { recursive: true });
  names.forEach((name, i) => fs.writeFileSync(path.join(root, 'train', 'fbc', name), featText(i, 72)));
  fs.writeFileSync(
    path.join(root, 'train', 'lab', 'labels.txt'),
    names.map((name, i) => `${i % 9} train/fbc/${name}\n`).join(''),
  );
  return root;
}

describe('assignSpeakerFolds', () => {
  it('deals every speaker to one fold, the folds within one speaker of each other in size, fixed by the seed', () => {
    const folds = assignSpeakerFolds(['c', 'a', 'b', 'a', 'e', 'd', 'g', 'f'], 3, 1);
    expect([...folds.keys()].sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    const sizes = [0, 1, 2].map((k) => [...folds.values()].filter((f) => f === k).length);
    expect(sizes.sort()).toEqual([2, 2, 3]);
    expect(assignSpeakerFolds(['g', 'f', 'e', 'd', 'c', 'b', 'a'], 3, 1)).toEqual(folds);
    const others = [2, 3, 4, 5].map((seed) =>
      JSON.stringify([...assignSpeakerFolds(['a', 'b', 'c', 'd', 'e', 'f', 'g'], 3, seed)].sort()),
    );
    expect(others.some((o) => o !== JSON.stringify([...folds].sort()))).toBe(true);
  });

  it('refuses fewer than 2 folds or more folds than speakers', () => {
    expect(() => assignSpeakerFolds(['a', 'b'], 3, 1)).toThrow(/expected an integer number of folds in 2–2.*found 3/);
    expect(() => assignSpeakerFolds(['a', 'b'], 1, 1)).toThrow(LockstepError);
  });
});

describe('writeSpeakerFolds', () => {
  it('writes dataset roots whose dev speakers are not among their train speakers, each example held out once', async () => {
    const root = writeRoot();
    const out = path.join(tmp(), 'folds');
    const folds = writeSpeakerFolds(root, out, 3, 1);
    expect(folds.map((f) => f.dir)).toEqual([0, 1, 2].map((k) => path.join(out, `fold${k}`)));
    expect(folds.flatMap((f) => f.heldOut).sort()).toEqual(SPEAKERS);

    const heldOutIds: string[] = [];
    for (const fold of folds) {
      const data = await loadEeSet(fold.dir);
      const speaker = (id: string) => path.basename(id).split('_')[0];
      const trainSpeakers = new Set(data.splits.train!.ids.map(speaker));
      const devSpeakers = new Set(data.splits.dev!.ids.map(speaker));
      expect([...devSpeakers].sort()).toEqual(fold.heldOut);
      expect(fold.heldOut.some((s) => trainSpeakers.has(s))).toBe(false);
      expect(data.splits.train!.ids.length + data.splits.dev!.ids.length).toBe(15);
      expect([fold.trainExamples, fold.devExamples]).toEqual([
        data.splits.train!.ids.length,
        data.splits.dev!.ids.length,
      ]);
      heldOutIds.push(...data.splits.dev!.ids);
      for (const id of data.splits.dev!.ids) {
        expect(fs.readFileSync(path.join(fold.dir, id), 'utf8')).toBe(fs.readFileSync(path.join(root, id), 'utf8'));
      }
    }
    expect(heldOutIds.sort()).toEqual(
      fs
        .readdirSync(path.join(root, 'train', 'fbc'))
        .map((n) => `train/fbc/${n}`)
        .sort(),
    );
  });

  it('names the labels line whose file name carries no speaker, and writes nothing', () => {
    const root = writeRoot(['AF1_0_fbc.txt', 'AM2_0_fbc.txt', 'nospeaker.txt']);
    const out = path.join(tmp(), 'folds');
    const error = (() => {
      try {
        writeSpeakerFolds(root, out, 2, 1);
      } catch (e) {
        return e as LockstepError;
      }
    })();
    expect(error).toBeInstanceOf(LockstepError);
    expect(error!.message).toMatch(
      /labels\.txt.*line 3.*path.*starts with its speaker and '_'.*found 'nospeaker\.txt'/,
    );
    expect(fs.existsSync(out)).toBe(false);
  });

  it('names the labels line of a feature file that is missing, and never writes over an existing folder', () => {
    const root = writeRoot(['AF1_0_fbc.txt', 'AM2_0_fbc.txt']);
    fs.rmSync(path.join(root, 'train', 'fbc', 'AM2_0_fbc.txt'));
    const out = path.join(tmp(), 'folds');
    expect(() => writeSpeakerFolds(root, out, 2, 1)).toThrow(
      /line 2.*path.*expected a readable feature file, found ENOENT/,
    );
    expect(fs.existsSync(out)).toBe(false);
    const existing = tmp();
    expect(() => writeSpeakerFolds(writeRoot(), existing, 2, 1)).toThrow(/does not exist yet/);
    expect(fs.readdirSync(existing)).toEqual([]);
  });
});
