import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../shared/protocol';
import { readCheckpoint } from '../store/checkpoint-dir';
import { AppServices, type AppServicesOptions } from './app-services';
import type { WorkerFault } from './worker-protocol';
import {
  nextEvent,
  runParams,
  tempDir,
  untilEpoch,
  waitForEnd,
  waitForState,
  writeCourseFixture,
} from './test-helpers';

const dirs: Array<() => void> = [];
const open: AppServices[] = [];
function services(options: AppServicesOptions = {}): AppServices {
  const dir = tempDir();
  dirs.push(dir.cleanup);
  const s = new AppServices(dir.path, { ...options, training: { progressIntervalMs: 10, ...options.training } });
  open.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});
afterAll(() => dirs.forEach((d) => d()));

function weightsBytes(s: AppServices, run: RunSummary): Buffer {
  const dir = join(s.userData, 'runs', run.id, 'checkpoint');
  const manifest = JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as { weightsFile: string };
  return readFileSync(join(dir, manifest.weightsFile));
}

describe('training sessions', () => {
  it('a network too large for memory is refused when the run is asked for: no run, no worker', async () => {
    const s = services();
    const dense = { type: 'Dense' as const, units: 4096, activation: 'relu' as const };
    const hidden = Array.from({ length: 62 }, () => dense);
    const output = { type: 'Dense' as const, units: 9, activation: 'softmax' as const };
    const spec = { input: [70, 16] as [number, number], layers: [{ type: 'Flatten' as const }, ...hidden, output] };
    await expect(s.invoke('runs.start', { ...runParams(), spec })).rejects.toThrow(
      /^the network needs 15\.\d GiB \(at least: .* parameters .*\); one network may use at most 4\.0 GiB/,
    );
    expect(await s.invoke('runs.list', {})).toEqual([]);
  });

  it("early stopping (patience) ends the run before its epochs, with the best dev epoch's weights", async () => {
    const s = services();
    const run = await waitForEnd(s, (await s.invoke('runs.start', runParams({ epochs: 300, patience: 2 }))).id, 60_000);
    expect(run.state).toBe('finished');
    const detail = await s.invoke('runs.get', { runId: run.id });
    const dev = detail.epochs.map((e) => e.devAccuracy ?? 0);
    expect(dev.length).toBeLessThan(300);
    const bestEpoch = dev.indexOf(Math.max(...dev));
    // It stopped exactly `patience` epochs after the best one, and its results are the best epoch's.
    expect(dev.length - 1 - bestEpoch).toBe(2);
    expect(detail.results?.dev?.accuracy).toBe(dev[bestEpoch]);
  });

  it('pause and resume continue exactly: bit-identical to an uninterrupted run', async () => {
    const s = services();
    const params = runParams({ epochs: 5, seed: 42 });
    const a = await waitForEnd(s, (await s.invoke('runs.start', params)).id);
    expect(a.state).toBe('finished');

    const started = await s.invoke('runs.start', params);
    await nextEvent(s, 'run.progress', started.id);
    for (let round = 0; round < 2; round++) {
      const paused = await s.invoke('runs.pause', { runId: started.id });
      expect(paused.state).toBe('paused');
      const stepsAtPause = (await s.invoke('runs.get', { runId: started.id })).steps.length;
      await new Promise((r) => setTimeout(r, 150));
      expect((await s.invoke('runs.get', { runId: started.id })).steps.length).toBe(stepsAtPause);
      expect(stepsAtPause).toBeLessThan(150);
      const resumed = await s.invoke('runs.resume', { runId: started.id });
      expect(resumed.state).toBe('running');
      await nextEvent(s, 'run.progress', started.id);
    }
    const b = await waitForEnd(s, started.id);
    expect(b.state).toBe('finished');

    const da = await s.invoke('runs.get', { runId: a.id });
    const db = await s.invoke('runs.get', { runId: b.id });
    expect(db.steps.length).toBe(150);
    expect(db.steps.map((p) => p.losses.scratch)).toEqual(da.steps.map((p) => p.losses.scratch));
    expect(db.epochs.map(({ ms: _, ...p }) => p)).toEqual(da.epochs.map(({ ms: _, ...p }) => p));
    expect(b.results).toEqual(a.results);
    expect(weightsBytes(s, b).equals(weightsBytes(s, a))).toBe(true);
  });

  it('an interrupted run keeps its last epoch: it exports, and resumes to the uninterrupted weights', async () => {
    const dir = tempDir();
    dirs.push(dir.cleanup);
    // Progress batched for a minute: only the end of an epoch sends its points (before its weights).
    const training = { progressIntervalMs: 60_000 };
    const open = (fault?: WorkerFault): AppServices =>
      new AppServices(dir.path, { host: 'electron', training: { ...training, fault } });
    let s = open();
    const epochs = 30;
    const params = runParams({ epochs, seed: 42 });
    const whole = await waitForEnd(s, (await s.invoke('runs.start', params)).id, 120_000);
    await s.close();
    // The cut run hangs in its third epoch (30 steps an epoch) until the services close: however fast the
    // worker and however slow the test, it is interrupted there.
    s = open({ atStep: 75, kind: 'hang' });
    const cut = await s.invoke('runs.start', params);
    await untilEpoch(s, cut.id, 1);
    await s.close();
    s = open();
    const interrupted = await s.invoke('runs.get', { runId: cut.id });
    expect(interrupted.state).toBe('interrupted');
    const saved = readCheckpoint(s.runs.checkpointDir(cut.id));
    expect(saved.manifest.metrics.length).toBeGreaterThanOrEqual(1);
    // Every saved epoch is in the run's metrics, with all of its steps.
    expect(interrupted.epochs.length).toBeGreaterThanOrEqual(saved.manifest.metrics.length);
    expect(interrupted.steps.length).toBeGreaterThanOrEqual(saved.manifest.metrics.length * 30);
    expect(saved.manifest.metrics.length).toBeLessThan(epochs);
    expect(saved.optimizerState?.buffers.length).toBeGreaterThan(0); // Adam's m and v
    const npz = join(dir.path, 'cut.npz');
    expect((await s.invoke('runs.export', { runId: cut.id, format: 'npz', path: npz })).files).toEqual([npz]);

    const resumed = await s.invoke('runs.resume', { runId: cut.id });
    expect(['queued', 'running']).toContain(resumed.state);
    const end = await waitForEnd(s, cut.id, 120_000);
    expect(end.state).toBe('finished');
    expect(end.error).toBeUndefined();
    const [a, b] = [await s.invoke('runs.get', { runId: whole.id }), await s.invoke('runs.get', { runId: cut.id })];
    // Every step and epoch once, in order: what was trained past the saved epoch was dropped and trained again.
    expect(b.steps.map((p) => p.step)).toEqual(a.steps.map((p) => p.step));
    expect(b.epochs.map((p) => p.epoch)).toEqual(a.epochs.map((p) => p.epoch));
    expect(b.steps.map((p) => p.losses.scratch)).toEqual(a.steps.map((p) => p.losses.scratch));
    expect(b.results).toEqual(a.results);
    expect(weightsBytes(s, end).equals(weightsBytes(s, whole))).toBe(true);
    await s.close();
  }, 240_000);

  it("an interrupted tfjs run resumes from its last epoch's weights (its optimizer restarts)", async () => {
    const dir = tempDir();
    dirs.push(dir.cleanup);
    let s = new AppServices(dir.path);
    const cut = await s.invoke('runs.start', { ...runParams({ epochs: 8 }), engine: 'tfjs' });
    await untilEpoch(s, cut.id, 2);
    await s.close();
    s = new AppServices(dir.path);
    open.push(s);
    const saved = readCheckpoint(s.runs.checkpointDir(cut.id));
    expect(saved.optimizerState).toBeUndefined();
    await s.invoke('runs.resume', { runId: cut.id });
    const end = await waitForEnd(s, cut.id, 120_000);
    expect(end.state).toBe('finished');
    const detail = await s.invoke('runs.get', { runId: cut.id });
    expect(detail.epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(detail.epochs.slice(0, saved.manifest.metrics.length).map((e) => e.trainLoss)).toEqual(
      saved.manifest.metrics.map((m) => m.trainLoss),
    );
  }, 240_000);

  it('an interrupted run with nothing saved says so when asked to resume', async () => {
    const s = services();
    const recorded = await s.invoke('runs.start', runParams({ epochs: 1000 }));
    const run = s.runs.create({ ...recorded, id: 'run-unsaved', state: 'interrupted' });
    await expect(s.invoke('runs.resume', { runId: run.id })).rejects.toThrow(
      /cannot be resumed: it was interrupted before it completed an epoch: nothing was saved to resume from/,
    );
  });

  it('stops within 200 ms, keeping results for what was trained', async () => {
    const s = services();
    const started = await s.invoke('runs.start', runParams({ epochs: 1000 }));
    await nextEvent(s, 'run.progress', started.id);
    const t0 = performance.now();
    const stopped = await s.invoke('runs.stop', { runId: started.id });
    const elapsed = performance.now() - t0;
    expect(stopped.state).toBe('stopped');
    expect(elapsed).toBeLessThan(200);
    const end = await waitForEnd(s, started.id);
    expect(end.state).toBe('stopped');
    expect(end.results?.dev?.n).toBe(270);
    const detail = await s.invoke('runs.get', { runId: started.id });
    expect(detail.steps.length).toBeGreaterThan(0);
    expect(detail.steps.length).toBeLessThan(30_000);
    await expect(s.invoke('runs.pause', { runId: started.id })).rejects.toThrow(/stopped; only an active run/);
  });

  it('stops a worker stuck in a step within 200 ms by ending it', async () => {
    // Every step is reported at once; the worker hangs when it starts step 3.
    const s = services({ training: { fault: { atStep: 3, kind: 'hang' }, progressIntervalMs: 0 } });
    const started = await s.invoke('runs.start', runParams({ epochs: 50 }));
    await new Promise<void>((resolve) => {
      const off = s.on('run.progress', (p) => {
        if (p.runId === started.id && p.step === 2) {
          off();
          resolve();
        }
      });
    });
    await new Promise((r) => setTimeout(r, 300)); // by now the worker is stuck in step 3
    expect((await s.invoke('runs.get', { runId: started.id })).steps).toHaveLength(2);
    const t0 = performance.now();
    const stopped = await s.invoke('runs.stop', { runId: started.id });
    expect(performance.now() - t0).toBeLessThan(200);
    expect(stopped.state).toBe('stopped');
    const end = await waitForEnd(s, started.id);
    expect(end.state).toBe('stopped');
    expect(end.results).toBeUndefined();
  });

  it('a worker that throws fails its run with the reason; the app goes on', async () => {
    const s = services({ training: { fault: { atStep: 5, kind: 'throw' } } });
    const run = await waitForEnd(s, (await s.invoke('runs.start', runParams())).id);
    expect(run.state).toBe('failed');
    expect(run.error).toMatch(/the training worker failed: injected fault at step 5/);
    expect((await s.invoke('runs.list', {}))[0].state).toBe('failed');
    expect((await s.invoke('datasets.list', {}))[0].id).toBe('demo');
  });

  it('a worker killed from outside mid-run fails that run with the reason; the other run and the app go on', async () => {
    const s = services({ training: { maxConcurrent: 2 } });
    const victim = await s.invoke('runs.start', runParams({ epochs: 1000 }));
    const other = await s.invoke('runs.start', runParams({ epochs: 3 }));
    await nextEvent(s, 'run.progress', victim.id);
    // A worker thread cannot be sent a signal: terminate() is the thread's kill -9 (it stops at
    // whatever instruction it is on, without running any of the worker's code), here done behind
    // TrainingSessions' back, as a crash would.
    const sessions = (s.sessions as unknown as { sessions: Map<string, { worker: Worker }> }).sessions;
    await sessions.get(victim.id)!.worker.terminate();
    const killed = await waitForEnd(s, victim.id);
    expect(killed.state).toBe('failed');
    expect(killed.error).toBe('the training worker stopped unexpectedly (exit code 1)');
    expect((await s.invoke('runs.get', { runId: victim.id })).steps.length).toBeGreaterThan(0);
    expect((await waitForEnd(s, other.id)).state).toBe('finished');
    const next = await waitForEnd(s, (await s.invoke('runs.start', runParams({ epochs: 1 }))).id);
    expect(next.state).toBe('finished');
  });

  it('a worker that exits fails its run', async () => {
    const s = services({ training: { fault: { atStep: 2, kind: 'exit' } } });
    const run = await waitForEnd(s, (await s.invoke('runs.start', runParams())).id);
    expect(run.state).toBe('failed');
    expect(run.error).toMatch(/stopped unexpectedly \(exit code 3\)/);
  });

  it('divergence (a non-finite loss) fails the run, naming the step and suggesting a lower learning rate', async () => {
    const s = services({ training: { fault: { atStep: 4, kind: 'nan' } } });
    const run = await waitForEnd(s, (await s.invoke('runs.start', runParams({ lr: 0.5 }))).id);
    expect(run.state).toBe('failed');
    expect(run.error).toMatch(/diverged at step 4 \(epoch 1\).*NaN.*lower learning rate.*lr 0\.5/);
    expect((await s.invoke('runs.get', { runId: run.id })).steps.at(-1)?.step).toBe(4);
  });

  it.each(['scratch', 'tfjs'] as const)(
    'a genuinely exploding %s run fails as diverged, naming the step and the first layer',
    async (engine) => {
      const s = services();
      const spec = {
        input: [70, 16] as [number, number],
        layers: [
          { type: 'Flatten' },
          { type: 'Dense', units: 50, activation: 'relu' },
          { type: 'Dense', units: 9, activation: 'softmax' },
        ],
      };
      const run = await waitForEnd(
        s,
        (await s.invoke('runs.start', { ...runParams({ optimizer: 'sgd', lr: 100, epochs: 20 }), engine, spec })).id,
      );
      expect(run.state).toBe('failed');
      // Both engines train the same weights on the same batches, so both blow up at the same step.
      expect(run.error).toBe(
        `training diverged at step 11 (epoch 1): the ${engine === 'tfjs' ? 'tfjs-cpu' : 'scratch'} loss became NaN; ` +
          'the first non-finite value is in layer dense_1 (its weights: dense_1/kernel[0] = NaN). Try a lower learning rate (this run used lr 100).',
      );
      expect((await s.invoke('runs.get', { runId: run.id })).steps.at(-1)?.step).toBe(11);
    },
  );

  it('queues runs beyond the limit; a queued run can be stopped; deleting an active run ends it', async () => {
    const s = services({ training: { maxConcurrent: 1 } });
    const first = await s.invoke('runs.start', runParams({ epochs: 1000 }));
    const second = await s.invoke('runs.start', runParams());
    const third = await s.invoke('runs.start', runParams({ epochs: 1 }));
    expect(second.state).toBe('queued');
    await expect(s.invoke('runs.pause', { runId: second.id })).rejects.toThrow(/queued/);
    expect((await s.invoke('runs.stop', { runId: second.id })).state).toBe('stopped');
    await nextEvent(s, 'run.progress', first.id);
    expect(await s.invoke('runs.delete', { runId: first.id })).toEqual({ removed: true });
    expect((await s.invoke('runs.list', {})).map((r) => r.id)).not.toContain(first.id);
    // The freed slot goes to the next queued run.
    const end = await waitForEnd(s, third.id);
    expect(end.state).toBe('finished');
  });

  it('runs tfjs and lockstep runs in the worker; lockstep reports both engines and their drift', async () => {
    const s = services();
    const fixture = tempDir();
    dirs.push(fixture.cleanup);
    writeCourseFixture(fixture.path);
    const ds = await s.invoke('datasets.importPath', { path: fixture.path });
    const params = { ...runParams({ epochs: 4, batch: 4 }, ds.id) }; // 3 steps an epoch
    const lockstep = await s.invoke('runs.start', { ...params, engine: 'lockstep' });
    const tfjs = await s.invoke('runs.start', { ...params, engine: 'tfjs' });
    const [l, t] = await Promise.all([waitForEnd(s, lockstep.id), waitForEnd(s, tfjs.id)]);
    expect(l.error).toBeUndefined();
    expect(l.state).toBe('finished');
    expect(t.state).toBe('finished');
    const detail = await s.invoke('runs.get', { runId: lockstep.id });
    expect(detail.steps).toHaveLength(12);
    expect(Object.keys(detail.steps[0].losses).sort()).toEqual(['scratch', 'tfjs-cpu']);
    expect(Math.abs(detail.steps[0].losses.scratch - detail.steps[0].losses['tfjs-cpu'])).toBeLessThan(1e-3);
    expect(detail.steps[0].maxAbsWeightDiff).toBeUndefined();
    expect(detail.steps[9].maxAbsWeightDiff).toBeLessThan(1e-3);
    expect(detail.steps[11].maxAbsGradDiff).toBeLessThan(1e-3);
    expect(detail.epochs.map((p) => p.engine)).toEqual(Array.from({ length: 4 }, () => ['scratch', 'tfjs-cpu']).flat());
    const tDetail = await s.invoke('runs.get', { runId: tfjs.id });
    expect(Object.keys(tDetail.steps[0].losses)).toEqual(['tfjs-cpu']);
    expect(t.results?.dev?.n).toBe(6);
  });

  it('batches progress and epoch events to at most ~20 a second, however short the epochs', async () => {
    const s = services({ training: { progressIntervalMs: 50 } });
    const fixture = tempDir();
    dirs.push(fixture.cleanup);
    writeCourseFixture(fixture.path);
    const ds = await s.invoke('datasets.importPath', { path: fixture.path });
    const times: number[] = [];
    let steps = 0,
      points = 0;
    const run = await s.invoke('runs.start', {
      ...runParams({ epochs: 400, batch: 12 }, ds.id),
      spec: { input: [70, 16], layers: [{ type: 'Flatten' }, { type: 'Dense', units: 9, activation: 'softmax' }] },
    });
    s.on('run.progress', (p) => {
      if (p.runId !== run.id) return;
      times.push(performance.now());
      steps += p.steps.length;
    });
    s.on('run.epoch', (p) => {
      if (p.runId !== run.id) return;
      times.push(performance.now());
      points += p.points.length;
    });
    const end = await waitForEnd(s, run.id);
    expect(end.state).toBe('finished');
    expect(steps).toBe(400);
    expect(points).toBe(400);
    expect(end.epochsDone).toBe(400);
    const seconds = (times.at(-1)! - times[0]) / 1000;
    expect(times.length).toBeLessThanOrEqual(2 * (20 * seconds + 2));
    expect(times.length).toBeLessThan(400);
  });

  it('a dataset that cannot train is explained before training: nothing left refuses the import, one class or no train split refuses the start', async () => {
    const s = services();
    const done = await waitForEnd(s, (await s.invoke('runs.start', runParams({ epochs: 1 }))).id);
    const course = (edit: (root: string) => void): string => {
      const d = tempDir();
      dirs.push(d.cleanup);
      writeCourseFixture(d.path);
      edit(d.path);
      return d.path;
    };
    const allShort = course((r) => {
      writeFileSync(join(r, 'train/lab/train.txt'), '1 train/feat/short.txt\n');
      rmSync(join(r, 'dev'), { recursive: true });
    });
    await expect(s.invoke('datasets.importPath', { path: allShort })).rejects.toThrow(
      /no usable examples \(1 listed, all dropped by the protocol; the first: train\/feat\/short.txt line 20: 20 frames, at least 70 needed\)/,
    );
    const oneClass = await s.invoke('datasets.importPath', {
      path: course((r) =>
        writeFileSync(join(r, 'train/lab/train.txt'), '2 train/feat/ex0.txt\n2 train/feat/ex1.txt\n'),
      ),
    });
    await expect(s.invoke('runs.start', runParams({}, oneClass.id))).rejects.toThrow(
      /the training split holds only one class \(D\); at least two are needed/,
    );
    const devOnly = await s.invoke('datasets.importPath', {
      path: course((r) => rmSync(join(r, 'train'), { recursive: true })),
    });
    await expect(s.invoke('runs.start', runParams({}, devOnly.id))).rejects.toThrow(
      /no training examples left after the protocol/,
    );
    // No run was recorded for the refused starts; what was there is untouched.
    expect((await s.invoke('runs.list', {})).map((r) => [r.id, r.state])).toEqual([[done.id, 'finished']]);
    expect((await s.invoke('datasets.list', {})).map((d) => d.id)).toEqual(['demo', oneClass.id, devOnly.id]);
  });

  it('marks active runs interrupted when the services close', async () => {
    const s = services();
    const started = await s.invoke('runs.start', runParams({ epochs: 1000 }));
    await waitForState(s, started.id, (r) => r.state === 'running');
    await s.close();
    expect(s.runs.get(started.id).state).toBe('interrupted');
  });
});
