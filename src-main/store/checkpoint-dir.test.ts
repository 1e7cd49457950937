/**
 * The checkpoint folder under hostile or concurrent use: every field of checkpoint.json is
 * checked before it is used, and any number of processes writing into one folder at once leave
 * it consistent (checkpoint.json names a weights file that is there), whatever order they run in.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LockstepError } from '../../shared/errors';
import type { NetworkSpec } from '../../shared/engine/spec';
import { PRESETS } from '../../shared/presets';
import { randomModel, saveCheckpoint } from '../export/test-fixtures';
import { cli, REPO_ROOT } from '../cli/run-cli';
import { tempDirsRemovedAfterAll } from '../services/test-helpers';
import { MANIFEST_FILE, readCheckpoint, removeUnreferencedWeights } from './checkpoint-dir';

const tmp = tempDirsRemovedAfterAll('lockstep-ckpt-');
const SPEC = PRESETS.get('fnn-10-relu')!.spec as NetworkSpec;

/** A valid checkpoint folder whose checkpoint.json is then edited by `edit`. */
function tampered(edit: (manifest: Record<string, unknown>, dir: string) => void): string {
  const dir = saveCheckpoint(randomModel(SPEC, 1), tmp());
  const file = join(dir, MANIFEST_FILE);
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(manifest, dir);
  writeFileSync(file, JSON.stringify(manifest));
  return dir;
}

function readError(dir: string): string {
  try {
    readCheckpoint(dir);
  } catch (e) {
    expect(e).toBeInstanceOf(LockstepError);
    return (e as Error).message;
  }
  throw new Error('expected readCheckpoint to refuse the folder');
}

describe('every field of checkpoint.json is checked', () => {
  it.each([
    ['..', /checkpoint\.json: field weightsFile: expected the name of a file in the checkpoint folder, found "\.\."/],
    ['.', /field weightsFile: .* found "\."/],
    ['../../etc/passwd', /field weightsFile: .* found "\.\.\/\.\.\/etc\/passwd"/],
    ['/etc/passwd', /field weightsFile: .* found "\/etc\/passwd"/],
    [7, /field weightsFile: .* found 7/],
  ])('weightsFile %j is refused, naming the file and the field', (weightsFile, message) => {
    const dir = tampered((m) => (m.weightsFile = weightsFile));
    expect(readError(dir)).toMatch(message);
  });

  it('eval on a checkpoint naming ".." exits 1 with the one-line reason, no stack trace', () => {
    const dir = tampered((m) => (m.weightsFile = '..'));
    const r = cli('eval', '--checkpoint', dir);
    expect(r.status).toBe(1);
    const reason = 'field weightsFile: expected the name of a file in the checkpoint folder, found ".."';
    expect(r.stderr).toBe(`lockstep: ${join(dir, MANIFEST_FILE)}: ${reason}\n`);
  });

  it('a weights file that is a folder, a link or a FIFO is refused without being followed or waited on', () => {
    const folder = tampered((m, dir) => {
      mkdirSync(join(dir, 'weights-folder.bin'));
      m.weightsFile = 'weights-folder.bin';
    });
    expect(readError(folder)).toMatch(/weights-folder\.bin, field weightsFile: expected the weights file, found some/);
    const link = tampered((m, dir) => {
      symlinkSync('/etc/passwd', join(dir, 'weights-link.bin'));
      m.weightsFile = 'weights-link.bin';
    });
    expect(readError(link)).toMatch(/weights-link\.bin, field weightsFile: expected .*, a regular file, found ELOOP/);
    const fifo = tampered((m, dir) => {
      execFileSync('mkfifo', [join(dir, 'weights-fifo.bin')]);
      m.weightsFile = 'weights-fifo.bin';
    });
    expect(readError(fifo)).toMatch(/weights-fifo\.bin, field weightsFile: expected the weights file, found something/);
  });

  type Edit = (m: Record<string, unknown>) => void;
  it.each<[string, Edit, RegExp]>([
    ['frames', (m) => (m.frames = 71), /field frames: expected 70 \(the spec's input\), found 71/],
    ['channels', (m) => (m.channels = '16'), /field channels: expected 16 \(the spec's input\), found "16"/],
    ['settings', (m) => (m.settings = null), /field settings: expected an object of settings/],
    ['settings.lr', (m) => (m.settings = { lr: -1 }), /field settings: lr must be a positive number, got -1/],
    ['metrics', (m) => (m.metrics = {}), /field metrics: expected an array of epoch records/],
    ['tensors', (m) => ((m.tensors as Array<{ shape: number[] }>)[0].shape = [1]), /field tensors\[0\]: expected/],
  ])('%s', (_field, edit, message) => {
    expect(readError(tampered(edit))).toMatch(message);
  });
});

/** Runs `writers` processes that each write `count` checkpoints into `dir` at once; resolves when all exited 0. */
async function writeConcurrently(dir: string, writers: number, count: number, whileRunning: () => void): Promise<void> {
  const exits = Array.from({ length: writers }, (_, seed) => {
    const args = ['--import', 'tsx', 'src-main/store/checkpoint-writer.fixture.ts', dir, String(count), String(seed)];
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    return new Promise<number | null>((resolve) => child.once('exit', resolve));
  });
  let running = true;
  const all = Promise.all(exits).finally(() => (running = false));
  while (running) {
    whileRunning();
    await new Promise((r) => setImmediate(r));
  }
  expect(await all).toEqual(Array(writers).fill(0));
}

describe('concurrent writers into one checkpoint folder', () => {
  it('3 processes writing 40 checkpoints each: every read sees a whole checkpoint, one weights file left', async () => {
    const dir = tmp();
    saveCheckpoint(randomModel(SPEC, 99), dir);
    let reads = 0;
    await writeConcurrently(dir, 3, 40, () => {
      readCheckpoint(dir); // throws on a checkpoint.json naming a removed weights file
      reads++;
    });
    expect(reads).toBeGreaterThan(0);
    // A writer that exits right after its commit was overtaken leaves its file to the next writer's sweep.
    removeUnreferencedWeights(dir);
    const { manifest } = readCheckpoint(dir);
    expect(readdirSync(dir).filter((f) => f.startsWith('weights-'))).toEqual([manifest.weightsFile]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 120_000);
});
