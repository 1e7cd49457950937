/**
 * kill -9 of `train --out DIR` (a real CLI process) mid-training and mid-write of the
 * checkpoint, into a folder that already holds a checkpoint and into a fresh one: the folder
 * always holds one complete checkpoint that `eval` loads (the one from before, or the new one
 * if the kill came after it was committed), never a mix or a torn file. Also: a diverging
 * `train` stops with the step and the first non-finite layer. And kill -9 mid-extraction of an
 * archive: the next CLI run removes the extraction folder the killed one left in the temp folder.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { LockstepError } from '../../shared/errors';
import { tempDir, writeCourseFixture } from '../services/test-helpers';
import { readCheckpoint } from '../store/checkpoint-dir';
import { cli, kill9, REPO_ROOT, startTsx, TSX } from './run-cli';

const dirs: Array<() => void> = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  await Promise.all(children.map((c) => kill9(c))); // none is left running, even when a test fails
  dirs.forEach((d) => d());
});

/** A wide network (≈ 0.5 M weights, a 2 MB weights file) on 20 frames of the demo data: writing its checkpoint takes a moment. */
const WIDE = {
  input: [20, 16],
  layers: [
    { type: 'Flatten' },
    { type: 'Dense', units: 1500, activation: 'relu' },
    { type: 'Dense', units: 9, activation: 'softmax' },
  ],
};

function setup(): { specFile: string; root: string } {
  const d = tempDir('lockstep-cli-crash-');
  dirs.push(d.cleanup);
  const specFile = join(d.path, 'wide.json');
  writeFileSync(
    specFile,
    JSON.stringify({
      name: 'wide',
      spec: WIDE,
      training: { optimizer: 'adam', lr: 0.001, batch: 100, epochs: 1, frames: 20, standardize: true, seed: 1 },
    }),
  );
  return { specFile, root: d.path };
}

function train(specFile: string, out: string, seed: number, epochs = 1): ReturnType<typeof startTsx> {
  const child = startTsx('src-main/cli/main.ts', [
    'train',
    '--model',
    specFile,
    '--frames',
    '20',
    '--epochs',
    String(epochs),
    '--seed',
    String(seed),
    '--out',
    out,
  ]);
  children.push(child);
  return child;
}

/** The checkpoint in `dir`, loaded as eval would, with the name of its weights file. */
function loaded(dir: string): { weightsFile: string; weights: number[] } {
  const c = readCheckpoint(dir);
  return {
    weightsFile: c.manifest.weightsFile,
    weights: [...c.weights.values()].flatMap((w) => Array.from(w.subarray(0, 8))),
  };
}

describe('kill -9 of train --out DIR', () => {
  it('mid-training and mid-write, over an existing checkpoint and into a fresh folder: one complete, loadable checkpoint or none', async () => {
    const { specFile, root } = setup();
    const out = join(root, 'ckpt');

    // A fresh folder killed mid-training holds no checkpoint at all (never a partial one).
    const fresh = train(specFile, out, 1, 50);
    await new Promise<void>((resolve) =>
      fresh.stderr.on('data', (d: Buffer) => /train/.test(d.toString()) && resolve()),
    );
    expect(await kill9(fresh)).toBe('SIGKILL');
    expect(() => readCheckpoint(out)).toThrow(LockstepError);

    // A first checkpoint, written by a run that finishes.
    const first = cli(
      'train',
      '--model',
      specFile,
      '--frames',
      '20',
      '--epochs',
      '1',
      '--seed',
      '1',
      '--out',
      out,
      '--json',
    );
    expect(first.status).toBe(0);
    const original = loaded(out);

    // Killed mid-training: the folder still holds the first checkpoint, untouched.
    const busy = train(specFile, out, 2, 50);
    await new Promise<void>((resolve) =>
      busy.stderr.on('data', (d: Buffer) => /train/.test(d.toString()) && resolve()),
    );
    expect(await kill9(busy)).toBe('SIGKILL');
    expect(loaded(out)).toEqual(original);

    // Killed the moment the new weights file appears, while it is being written.
    const writer = train(specFile, out, 3);
    await new Promise<void>((resolve) => {
      const watcher = watch(out, (_event, name) => {
        if (name && /^weights-.*\.bin$/.test(name) && name !== original.weightsFile) {
          watcher.close();
          writer.kill('SIGKILL');
          resolve();
        }
      });
    });
    expect(await kill9(writer)).toBe('SIGKILL');
    const after = loaded(out);
    // Either the first checkpoint, whole, or (if the kill landed after the commit) the new one, whole.
    if (after.weightsFile === original.weightsFile) expect(after).toEqual(original);
    else expect(after.weights).not.toEqual(original.weights);

    // The CLI itself loads what is there, and a later run replaces it cleanly.
    const evaluated = cli('eval', '--checkpoint', out, '--json');
    expect(evaluated.status).toBe(0);
    expect(evaluated.json).toMatchObject({ split: 'dev', n: 270 });
    const again = cli(
      'train',
      '--model',
      specFile,
      '--frames',
      '20',
      '--epochs',
      '1',
      '--seed',
      '4',
      '--out',
      out,
      '--json',
    );
    expect(again.status).toBe(0);
    expect(loaded(out).weightsFile).not.toBe(after.weightsFile);
  }, 240_000);
});

describe('divergence in the CLI', () => {
  it('train stops with the step, the first non-finite layer and a lower learning rate; exit 1, no checkpoint', () => {
    const { specFile, root } = setup();
    const out = join(root, 'diverged');
    const r = cli(
      'train',
      '--model',
      specFile,
      '--frames',
      '20',
      '--epochs',
      '5',
      '--optimizer',
      'sgd',
      '--lr',
      '1000',
      '--out',
      out,
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /lockstep: training diverged at step \d+ \(epoch \d\): the scratch loss became (NaN|Infinity); the first non-finite value is in layer dense_1 \(its (weights|gradients): dense_1\/(kernel|bias)\[\d+\] = (NaN|-?Infinity)\)\. Try a lower learning rate \(this run used lr 1000\)\./,
    );
    expect(() => readCheckpoint(out)).toThrow(LockstepError);
  });
});

describe('kill -9 during archive extraction', () => {
  it('leaves an extraction folder in the temp folder that the next CLI run removes', async () => {
    const { root } = setup();
    const course = join(root, 'course');
    writeCourseFixture(course);
    const entries: Record<string, Uint8Array> = {};
    for (const entry of readdirSync(course, { recursive: true, withFileTypes: true })) {
      const file = join(entry.parentPath, entry.name);
      if (entry.isFile()) entries[relative(course, file)] = readFileSync(file);
    }
    // 256 MB of zeros (a few hundred kB zipped): extracting it takes long enough to be killed midway.
    entries['padding.bin'] = new Uint8Array(256 * 2 ** 20);
    const archive = join(root, 'course.zip');
    writeFileSync(archive, zipSync(entries));
    const temp = join(root, 'tmp');
    mkdirSync(temp);
    const env = { ...process.env, TMPDIR: temp };

    const args = ['--import', 'tsx', 'src-main/cli/main.ts', 'inspect', '--data', archive];
    const inspect = spawn(process.execPath, args, { cwd: REPO_ROOT, env });
    children.push(inspect);
    await new Promise<void>((resolve) => {
      const watcher = watch(temp, (_event, name) => {
        if (name?.startsWith(`lockstep-archive-${inspect.pid}-`)) {
          watcher.close();
          inspect.kill('SIGKILL');
          resolve();
        }
      });
    });
    expect(await kill9(inspect)).toBe('SIGKILL');
    // tsx keeps its cache in the temp folder too.
    const extractionFolders = (): string[] => readdirSync(temp).filter((name) => name.startsWith('lockstep-archive-'));
    expect(extractionFolders()).toEqual([expect.stringMatching(new RegExp(`^lockstep-archive-${inspect.pid}-`))]);

    const next = spawnSync(TSX, ['src-main/cli/main.ts', 'inspect', '--data', course], { cwd: REPO_ROOT, env });
    expect(next.status).toBe(0);
    expect(extractionFolders()).toEqual([]);
  }, 120_000);
});
