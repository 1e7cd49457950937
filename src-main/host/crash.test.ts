/**
 * kill -9 of the browser host (src-main/host/serve.ts, a real process with a temp --user-data)
 * in the middle of training, of an import and of an export; after each, the host is started
 * again on the same folder and everything from before the crash must be there and readable:
 * finished runs with their metrics, results and per-example predictions; imported datasets
 * with their examples; the run that was training marked 'interrupted', with its steps up to
 * the crash and its last completed epoch's weights, which export and resume from that epoch; no
 * half-imported dataset and no half-written export left behind.
 */
import { watch, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import type { RunDetail, RunSummary } from '../../shared/protocol';
import { createWireClient, wireUrl, type WireClient } from '../../shared/wire';
import { kill9, startTsx } from '../cli/run-cli';
import { droppedFolder, runParams, tempDir, writeCourseFixture } from '../services/test-helpers';
import { readCheckpoint } from '../store/checkpoint-dir';

const dirs: Array<() => void> = [];
const children: ChildProcessWithoutNullStreams[] = [];
const clients: WireClient[] = [];
afterEach(async () => {
  clients.splice(0).forEach((c) => c.close());
  await Promise.all(children.splice(0).map((c) => kill9(c)));
});
afterAll(() => dirs.forEach((d) => d()));

interface Host {
  child: ChildProcessWithoutNullStreams;
  client: WireClient;
}

/** Starts serve.ts on a free port and connects to it. */
async function startHost(userData: string): Promise<Host> {
  const child = startTsx('src-main/host/serve.ts', ['--port', '0', '--user-data', userData]);
  children.push(child);
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Open (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => reject(new Error(`serve.ts exited (${code}) before listening: ${err}`)));
  });
  const client = createWireClient(new WebSocket(wireUrl(url)) as unknown as Parameters<typeof createWireClient>[0]);
  clients.push(client);
  return { child, client };
}

async function crash(host: Host): Promise<void> {
  host.client.close();
  expect(await kill9(host.child)).toBe('SIGKILL');
}

/** Resolves once `predicate` holds for a run.state event of `runId`. */
function untilState(client: WireClient, runId: string, predicate: (r: RunSummary) => boolean): Promise<RunSummary> {
  return new Promise((resolve) => {
    const off = client.on('run.state', (r) => {
      if (r.id === runId && predicate(r)) {
        off();
        resolve(r);
      }
    });
  });
}

/** Resolves with the path of the first entry created in `dir` whose name matches, as soon as it appears. */
function firstCreated(dir: string, name: RegExp): Promise<string> {
  mkdirSync(dir, { recursive: true });
  return new Promise((resolve) => {
    const watcher = watch(dir, (_event, file) => {
      if (file && name.test(file)) {
        watcher.close();
        resolve(file);
      }
    });
  });
}

/** A course-layout dataset of `n` training files of 72 rows (big enough that importing it takes a while). */
function bigCourseFixture(root: string, n: number): void {
  const row = Array.from({ length: 16 }, (_, c) => (Math.sin(c) * 3).toExponential(7)).join(' ');
  const text = Array.from({ length: 72 }, () => row).join('\n') + '\n';
  mkdirSync(join(root, 'train/feat'), { recursive: true });
  mkdirSync(join(root, 'train/lab'), { recursive: true });
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    writeFileSync(join(root, `train/feat/ex${i}.txt`), text);
    labels.push(`${i % 9} train/feat/ex${i}.txt`);
  }
  writeFileSync(join(root, 'train/lab/train.txt'), labels.join('\n') + '\n');
}

describe('kill -9 of the browser host', () => {
  it('mid-training, mid-import and mid-export: every earlier run and dataset stays readable, the training run is interrupted with its steps', async () => {
    const dir = tempDir('lockstep-crash-');
    dirs.push(dir.cleanup);
    const userData = join(dir.path, 'user');
    writeCourseFixture(join(dir.path, 'course'));

    // Before the first crash: one imported dataset, one finished run, one run training.
    let host = await startHost(userData);
    const dataset = await host.client.uploadFiles('course', droppedFolder(join(dir.path, 'course'), 'course'));
    const finishedStart = await host.client.invoke('runs.start', runParams({ epochs: 2 }, dataset.id));
    const finishedRun =
      finishedStart.state === 'finished'
        ? finishedStart
        : await untilState(host.client, finishedStart.id, (r) => r.state === 'finished');
    const before = await host.client.invoke('runs.get', { runId: finishedRun.id });
    expect(before.epochs.length).toBe(2);
    const training = await host.client.invoke('runs.start', runParams({ epochs: 100_000, batch: 10 }));
    let stepsSeen = 0;
    await new Promise<void>((resolve) => {
      const off = host.client.on('run.progress', (p) => {
        if (p.runId !== training.id) return;
        stepsSeen = p.step;
        if (stepsSeen >= 30) {
          off();
          resolve();
        }
      });
    });
    // Epoch 2's point comes after epoch 1's weights were saved: the run has an epoch to keep.
    await new Promise<void>((resolve) => {
      const off = host.client.on('run.epoch', (e) => {
        if (e.runId === training.id && e.points.some((p) => p.epoch >= 2)) {
          off();
          resolve();
        }
      });
    });
    await crash(host);

    host = await startHost(userData);
    const runs = await host.client.invoke('runs.list', {});
    expect(runs.map((r) => [r.id, r.state])).toEqual([
      [training.id, 'interrupted'],
      [finishedRun.id, 'finished'],
    ]);
    expect(runs[0].error).toBe('interrupted: the app stopped while this run was running');
    const interrupted = await host.client.invoke('runs.get', { runId: training.id });
    // Every step reported before the crash was on disk (metrics are appended as they arrive).
    expect(interrupted.steps.length).toBeGreaterThanOrEqual(stepsSeen);
    expect(interrupted.steps.map((s) => s.step)).toEqual(
      Array.from({ length: interrupted.steps.length }, (_, i) => i + 1),
    );
    expect(interrupted.steps.every((s) => Number.isFinite(s.losses.scratch))).toBe(true);
    await expectEarlierWorkIntact(host.client, finishedRun.id, before, dataset.id);

    // The interrupted run kept its last completed epoch: it exports, and resumes from that epoch.
    const savedEpochs = readCheckpoint(join(userData, 'runs', training.id, 'checkpoint')).manifest.metrics.length;
    expect(savedEpochs).toBeGreaterThanOrEqual(1);
    expect(interrupted.epochs.length).toBeGreaterThanOrEqual(savedEpochs);
    expect((await host.client.invoke('runs.export', { runId: training.id, format: 'npz' })).files.length).toBe(1);
    const nextEpoch = new Promise<number>((resolve) => {
      const off = host.client.on('run.epoch', (e) => {
        if (e.runId === training.id) {
          off();
          resolve(e.points[0].epoch);
        }
      });
    });
    await host.client.invoke('runs.resume', { runId: training.id });
    expect(await nextEpoch).toBe(savedEpochs + 1);
    await host.client.invoke('runs.stop', { runId: training.id });
    const resumed = await host.client.invoke('runs.get', { runId: training.id });
    expect(resumed.state).toBe('stopped');
    expect(resumed.epochs.map((e) => e.epoch)).toEqual(Array.from({ length: resumed.epochs.length }, (_, i) => i + 1));
    expect(resumed.steps.map((s) => s.step)).toEqual(Array.from({ length: resumed.steps.length }, (_, i) => i + 1));

    // Mid-import: killed as the imported dataset is being written.
    bigCourseFixture(join(dir.path, 'big'), 1500);
    const writing = firstCreated(join(userData, 'datasets'), /^\.tmp-/);
    void host.client.uploadFiles('big', droppedFolder(join(dir.path, 'big'), 'big')).catch(() => undefined);
    await writing;
    await crash(host);
    host = await startHost(userData);
    // The half-written import is gone: either no trace of it, or (had the kill come after its
    // commit) the whole dataset, readable.
    const listed = (await host.client.invoke('datasets.list', {})).map((d) => d.id);
    expect(listed.slice(0, 2)).toEqual(['demo', dataset.id]);
    expect(readdirSync(join(userData, 'datasets')).sort()).toEqual(listed.slice(1).sort());
    for (const id of listed.slice(2))
      expect(
        (await host.client.invoke('datasets.example', { datasetId: id, split: 'train', index: 1499 })).frames,
      ).toBe(70);
    await expectEarlierWorkIntact(host.client, finishedRun.id, before, dataset.id);

    // Mid-export: killed as the export folder is being written.
    const exporting = firstCreated(join(userData, 'exports'), /./);
    void host.client.invoke('runs.export', { runId: finishedRun.id, format: 'tfjs' }).catch(() => undefined);
    await exporting;
    await crash(host);
    host = await startHost(userData);
    await expectEarlierWorkIntact(host.client, finishedRun.id, before, dataset.id);
    expect(readdirSync(userData)).not.toContain('exports'); // leftovers of a killed export are cleared at start
    const exported = await host.client.invoke('runs.export', { runId: finishedRun.id, format: 'tfjs' });
    expect(exported.files.length).toBeGreaterThan(0);
    await crash(host);
  }, 180_000);
});

async function expectEarlierWorkIntact(
  client: WireClient,
  runId: string,
  before: RunDetail,
  datasetId: string,
): Promise<void> {
  const after = await client.invoke('runs.get', { runId });
  expect(after).toEqual(before);
  const examples = await client.invoke('runs.examples', { runId, split: 'dev', trueClass: 0, predictedClass: 0 });
  expect(Array.isArray(examples.examples)).toBe(true);
  const example = await client.invoke('datasets.example', { datasetId, split: 'train', index: 0 });
  expect(example.values.length).toBe(example.frames * example.channels);
}
