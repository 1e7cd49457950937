import { copyFileSync, mkdirSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
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
    const root = fixture((r) =>
      writeFileSync(join(r, 'train/lab/train.txt'), '2 train/feat/ex0.txt\n2 train/feat/ex1.txt\n'),
    );
    const r = cli('inspect', '--data', root);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('train 2 listed, 2 kept');
    expect(r.stderr).toMatch(/the training split holds only one class \(D\); at least two are needed/);
  });

  it('no training examples left after the protocol (every file short): exit 1, explained', () => {
    const root = fixture((r) => writeFileSync(join(r, 'train/lab/train.txt'), '1 train/feat/short.txt\n'));
    const r = cli('inspect', '--data', root, '--json');
    expect(r.status).toBe(1);
    expect(r.json).toMatchObject({
      trainable: false,
      reason: expect.stringMatching(/no training examples left after the protocol/),
    });
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
    expect(n.stderr.trim()).toMatch(
      /no usable examples \(1 listed, all dropped by the protocol; the first: train\/feat\/gone.txt: /,
    );
  });

  it('an empty labels file: the refusal names it', () => {
    const root = fixture((r) => {
      rmSync(join(r, 'dev'), { recursive: true });
      writeFileSync(join(r, 'train/lab/train.txt'), '');
    });
    const r = cli('inspect', '--data', root);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(
      /^lockstep: dataset lockstep-inspect-\w+: no usable examples \(train\/lab\/train.txt lists none\)$/,
    );
  });

  it('a short file is reported as "N frames, at least M needed", with its file and line', () => {
    const r = cli('inspect', '--data', fixture());
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('- train/feat/short.txt line 20: 20 frames, at least 70 needed');
  });

  it('file names holding ANSI escapes or a CR are printed escaped, in the report and in error lines', () => {
    const evil = 'train/feat/\x1b[31mred\rfake.txt';
    const root = fixture((r) => {
      renameSync(join(r, 'train/feat/short.txt'), join(r, evil));
      writeFileSync(
        join(r, 'train/lab/train.txt'),
        `0 train/feat/ex0.txt\n1 train/feat/ex1.txt\n2 train/feat/ex2.txt\n1 ${evil}\n`,
      );
    });
    const r = cli('inspect', '--data', root);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('- train/feat/\\x1b[31mred\\rfake.txt line 20: 20 frames');
    expect(r.stdout).not.toMatch(/[\x1b\r]/); // eslint-disable-line no-control-regex
    writeFileSync(join(root, 'train/lab/train.txt'), '0 /tmp/\x1b[2J\rx.txt\n');
    const bad = cli('inspect', '--data', root);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("found the absolute path '/tmp/\\x1b[2J\\rx.txt'");
    expect(bad.stderr).not.toMatch(/[\x1b\r]/); // eslint-disable-line no-control-regex
  });

  it('a labels file over the size limit is refused at once by its size, naming the file (no read, no hang)', () => {
    // 513 MiB: past what the UTF-8 decoder accepts as one string; sparse, so it costs no disk.
    const root = fixture((r) => truncateSync(join(r, 'train/lab/train.txt'), 513 * 1024 * 1024));
    const r = cli('inspect', '--data', root);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(
      "lockstep: train/lab/train.txt: expected a labels file of at most 64 MiB (one '<label> <path>' line per example), found 513 MiB",
    );
  });

  it('a labels file of 300 lines with one bad line: inspect and train print the error and exit (no thread left running)', () => {
    const root = fixture((r) => {
      const lines: string[] = [];
      for (let i = 0; i < 300; i++) {
        copyFileSync(join(r, `train/feat/ex${i % 12}.txt`), join(r, `train/feat/copy${i}.txt`));
        lines.push(`${i % 3} train/feat/copy${i}.txt`);
      }
      writeFileSync(join(r, 'train/lab/train.txt'), lines.join('\n') + '\n0 /etc/passwd\n');
    });
    const expected =
      "lockstep: train/lab/train.txt, line 301, field path: expected a path relative to the dataset root, found the absolute path '/etc/passwd'";
    for (const args of [
      ['inspect', '--data', root],
      ['train', '--data', root, '--model', 'tdnn', '--epochs', '1'],
    ]) {
      const r = cli(...args);
      expect(r.status, `${args[0]} exited`).toBe(1);
      expect(r.stderr.trim()).toBe(expected);
    }
  });

  it('a broken labels file: exit 1, one line naming file, line and field', () => {
    const root = fixture((r) => {
      mkdirSync(join(r, 'train/lab'), { recursive: true });
      writeFileSync(join(r, 'train/lab/train.txt'), '0 train/feat/ex0.txt\n12 train/feat/ex1.txt\n');
    });
    const r = cli('inspect', '--data', root);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      "lockstep: train/lab/train.txt, line 2, field label: expected an integer in 0–8, found '12'",
    ]);
  });
});
