import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir, writeCourseFixture } from '../services/test-helpers';
import { cli } from './run-cli';

const dirs: Array<() => void> = [];
afterAll(() => dirs.forEach((d) => d()));

/** The test helpers' course fixture (train: 12 examples of classes 0–2 and one short file; dev: 6), then `edit`. */
function fixture(edit: (root: string) => void = () => undefined): string {
  const d = tempDir('lockstep-inspect-');
  dirs.push(d.cleanup);
  writeCourseFixture(d.path);
  edit(d.path);
  return d.path;
}

describe('inspect: exit 0 when files were only skipped, non-zero when the dataset cannot be used', () => {
  it('a dataset with a skipped (short) file: exit 0, the drop listed with its file', () => {
    const r = cli('inspect', '--data', fixture(), '--json');
    expect(r.status).toBe(0);
    expect(r.json.trainable).toBe(true);
    expect(r.json.splits.train).toMatchObject({ listed: 13, kept: 12, dropped: { short: 1 } });
    expect(r.json.splits.train.droppedExamples[0]).toMatchObject({ file: 'train/feat/short.txt', reason: 'short' });
  });

  it('a training split holding one class: exit 1, explained, the report still printed', () => {
    const root = fixture((r) => writeFileSync(join(r, 'train/lab/train.txt'), '2 train/feat/ex0.txt\n2 train/feat/ex1.txt\n'));
    const r = cli('inspect', '--data', root);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('train 2 listed, 2 kept');
    expect(r.stderr).toMatch(/the training split holds only one class \(D\); at least two are needed/);
  });

  it('no training examples left after the protocol (every file short): exit 1, explained', () => {
    const root = fixture((r) => writeFileSync(join(r, 'train/lab/train.txt'), '1 train/feat/short.txt\n'));
    const r = cli('inspect', '--data', root, '--json');
    expect(r.status).toBe(1);
    expect(r.json).toMatchObject({ trainable: false, reason: expect.stringMatching(/no training examples left after the protocol/) });
  });

  it('a dataset without a train split: exit 1; nothing usable at all: exit 1', () => {
    const devOnly = fixture((r) => rmSync(join(r, 'train'), { recursive: true }));
    const r = cli('inspect', '--data', devOnly);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no training examples/);
    const nothing = fixture((r) => {
      rmSync(join(r, 'dev'), { recursive: true });
      writeFileSync(join(r, 'train/lab/train.txt'), '0 train/feat/gone.txt\n');
    });
    const n = cli('inspect', '--data', nothing);
    expect(n.status).toBe(1);
    expect(n.stderr).toMatch(/no usable examples in any split/);
  });

  it('a broken labels file: exit 1, one line naming file, line and field', () => {
    const root = fixture((r) => {
      mkdirSync(join(r, 'train/lab'), { recursive: true });
      writeFileSync(join(r, 'train/lab/train.txt'), '0 train/feat/ex0.txt\n12 train/feat/ex1.txt\n');
    });
    const r = cli('inspect', '--data', root);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual(["lockstep: train/lab/train.txt, line 2, field label: expected an integer in 0–8, found '12'"]);
  });
});
