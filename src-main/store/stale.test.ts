/**
 * Leftovers of killed processes are removed only when their owner is gone: a folder or temp file
 * named after a live process (this one) is being written and stays.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppServices } from '../services/app-services';
import { RunStore } from '../services/run-store';
import { runParams, tempDirsRemovedAfterAll } from '../services/test-helpers';
import { removeUnreferencedWeights } from './checkpoint-dir';
import { processIsGone, sweepStaleArchiveFolders } from './stale';

const tmp = tempDirsRemovedAfterAll('lockstep-stale-');

/** The pid of a process that has exited. */
function goneProcessPid(): number {
  const script = 'process.stdout.write(String(process.pid))';
  const pid = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' }).stdout;
  expect(processIsGone(Number(pid))).toBe(true);
  return Number(pid);
}

describe('stale leftovers', () => {
  it('archive extraction folders: those of gone processes are removed, a live one and unknown names stay', () => {
    const dir = tmp();
    const gone = goneProcessPid();
    const staying = [`lockstep-archive-${process.pid}-xYz789`, 'lockstep-archive-Qw3rty', 'other-1-abcdef'];
    for (const name of [`lockstep-archive-${gone}-AbC123`, ...staying]) {
      mkdirSync(join(dir, name, 'train'), { recursive: true });
      writeFileSync(join(dir, name, 'train', 'x.txt'), 'x');
    }
    expect(sweepStaleArchiveFolders(dir)).toEqual([`lockstep-archive-${gone}-AbC123`]);
    expect(readdirSync(dir).sort()).toEqual(staying);
  });

  it('a checkpoint folder: gone writers’ temp manifests and unreferenced weights go, a live one’s stay', () => {
    const dir = tmp();
    const gone = goneProcessPid();
    const live = process.ppid; // alive, and not this process: its files may still be committed
    writeFileSync(join(dir, 'checkpoint.json'), JSON.stringify({ weightsFile: `weights-${gone}-0-committed.bin` }));
    const names = [
      `weights-${gone}-0-committed.bin`,
      `weights-${gone}-0-old.bin`,
      `weights-${live}-0-inflight.bin`,
      `.checkpoint.json.${gone}.1796497651969.tmp`,
      `.checkpoint.json.${live}.1796497651969.tmp`,
    ];
    for (const name of names) writeFileSync(join(dir, name), 'x');
    removeUnreferencedWeights(dir);
    const staying = [names[0], names[2], names[4], 'checkpoint.json'];
    expect(readdirSync(dir).sort()).toEqual(staying.sort());
    expect(existsSync(join(dir, `weights-${gone}-0-old.bin`))).toBe(false);
  });
});

describe("at the app's start", () => {
  it('removes extraction folders and temp files in run and checkpoint folders of killed processes', async () => {
    const temp = tmp();
    const userData = tmp();
    const gone = goneProcessPid();
    const { spec, settings } = runParams();
    const dataset = { datasetId: 'demo', datasetName: 'demo' };
    const run = { id: 'run-1', name: 'r', engine: 'scratch', backend: 'cpu', state: 'finished' } as const;
    const progress = { createdAt: new Date().toISOString(), params: 1, epochsDone: 1 };
    new RunStore(join(userData, 'runs')).create({ ...run, ...dataset, ...progress, spec, settings });
    const runDir = join(userData, 'runs', 'run-1');
    mkdirSync(join(runDir, 'checkpoint'));
    const checkpoint = join(runDir, 'checkpoint');
    writeFileSync(join(checkpoint, 'checkpoint.json'), JSON.stringify({ weightsFile: `weights-${gone}-0-b.bin` }));
    const leftovers = [
      join(runDir, `.run.json.${gone}.1.tmp`),
      join(checkpoint, `.checkpoint.json.${gone}.2.tmp`),
      join(checkpoint, `weights-${gone}-0-a.bin`),
    ];
    for (const file of [...leftovers, join(checkpoint, `weights-${gone}-0-b.bin`)]) writeFileSync(file, 'x');
    mkdirSync(join(temp, `lockstep-archive-${gone}-AbC123`));
    const savedTemp = process.env.TMPDIR;
    process.env.TMPDIR = temp;
    try {
      const services = new AppServices(userData);
      await services.close();
    } finally {
      process.env.TMPDIR = savedTemp;
    }
    expect(readdirSync(temp)).toEqual([]);
    for (const file of leftovers) expect(existsSync(file)).toBe(false);
    expect(readdirSync(checkpoint).sort()).toEqual(['checkpoint.json', `weights-${gone}-0-b.bin`]);
  });
});
