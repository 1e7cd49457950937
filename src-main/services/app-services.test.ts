import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DatasetSummary, EventName, Events, RunSummary } from '../../shared/protocol';
import { readCheckpoint } from '../store/checkpoint-dir';
import { AppServices } from './app-services';
import { runParams, tempDir, waitForEnd, writeCourseFixture } from './test-helpers';

describe('AppServices', () => {
  const dir = tempDir();
  const userData = join(dir.path, 'user');
  const fixture = join(dir.path, 'course');
  let services: AppServices;
  const events: Array<{ event: EventName; payload: Events[EventName] }> = [];

  beforeAll(() => {
    writeCourseFixture(fixture);
    services = new AppServices(userData, { training: { progressIntervalMs: 20 } });
    services.onAny((event, payload) => events.push({ event, payload }));
  });
  afterAll(async () => {
    try {
      await services?.close();
    } finally {
      dir.cleanup();
    }
  });

  it('answers app.info and always lists the demo dataset', async () => {
    const info = await services.invoke('app.info', {});
    expect(info.host).toBe('browser');
    expect(info.presets.map((p) => p.name)).toContain('tdnn');
    expect(info.classes).toHaveLength(9);
    const list = await services.invoke('datasets.list', {});
    expect(list[0]).toMatchObject({ id: 'demo', frames: 70, channels: 16 });
    expect(list[0].splits.train?.kept).toBe(900);
  });

  it('rejects unknown methods and bad params with a message naming the field', async () => {
    await expect(services.handle('nope', {})).rejects.toThrow("unknown method 'nope'");
    await expect(services.handle('runs.get', { runId: '../x' })).rejects.toThrow(/runs\.get: runId/);
    await expect(services.handle('datasets.list', { extra: 1 })).rejects.toThrow(/datasets\.list/);
    await expect(services.invoke('runs.get', { runId: 'missing' })).rejects.toThrow(/no run with id 'missing'/);
  });

  it('imports a course-layout folder, remembers it and serves its examples', async () => {
    const summary = await services.invoke('datasets.importPath', { path: fixture });
    expect(summary.name).toBe('course');
    expect(summary.splits.train).toMatchObject({ listed: 13, kept: 12, dropped: { short: 1 } });
    expect(summary.splits.train?.droppedExamples[0]).toMatchObject({ file: 'train/feat/short.txt', reason: 'short' });
    expect(summary.splits.dev?.kept).toBe(6);
    expect(existsSync(join(userData, 'datasets', summary.id, 'data.bin'))).toBe(true);
    const changed = events.filter((e) => e.event === 'datasets.changed').pop();
    expect((changed?.payload as Events['datasets.changed']).map((d) => d.id)).toEqual(['demo', summary.id]);

    const ex = await services.invoke('datasets.example', { datasetId: summary.id, split: 'dev', index: 2 });
    expect(ex).toMatchObject({ id: 'dev/feat/ex2.txt', label: 2, frames: 70, channels: 16 });
    const text = readFileSync(join(fixture, 'dev/feat/ex2.txt'), 'utf8').split('\n')[0].split(' ').map(Number);
    expect(ex.values.slice(0, 16)).toEqual(text.map((v) => Math.fround(v)));
    const demoEx = await services.invoke('datasets.example', { datasetId: 'demo', split: 'train', index: 4 });
    expect(demoEx.values).toHaveLength(70 * 16);
    await expect(
      services.invoke('datasets.example', { datasetId: summary.id, split: 'dev', index: 6 }),
    ).rejects.toThrow(/examples 0–5/);
    await expect(services.invoke('datasets.importPath', { path: join(dir.path, 'nothing') })).rejects.toThrow(
      /found nothing there/,
    );
  });

  it('quotes a labels file only once it is known for one, by a parsed line or by its place', async () => {
    // A file that is not a dataset (as /etc/shadow or /proc/self/environ would be): nothing of it is shown.
    const secret = join(dir.path, 'shadow');
    writeFileSync(secret, 'root:$6$s3cret:19000:0:99999:7:::\n');
    const refused = services.invoke('datasets.importPath', { path: secret });
    const notShown = /\/shadow, line 1, field label: expected .* \(not shown: no line of this file is a labels line\)$/;
    await expect(refused).rejects.toThrow(notShown);
    await expect(refused).rejects.not.toThrow(/s3cret/);
    writeFileSync(secret, 'SECRET_TOKEN=abc\0PATH=/bin\0');
    await expect(services.invoke('datasets.importPath', { path: secret })).rejects.not.toThrow(/SECRET|abc/);
    // A labels file, known by a line that parsed or by its place in the course layout: quoted, to be fixed.
    writeFileSync(secret, '0 ex0.txt\nQ ex1.txt\n');
    const known = services.invoke('datasets.importPath', { path: secret });
    await expect(known).rejects.toThrow(/shadow, line 2, field label: expected an integer in 0–8, found 'Q'$/);
    const labels = join(fixture, 'train', 'lab', 'bad.txt');
    writeFileSync(labels, 'Q train/feat/ex1.txt\n');
    const placed = services.invoke('datasets.importPath', { path: labels });
    await expect(placed).rejects.toThrow(
      /^train\/lab\/bad\.txt, line 1, field label: expected an integer .* found 'Q'/,
    );
    rmSync(labels);
  });

  let finished: RunSummary;
  it('trains on the demo in a worker: progress, epochs, states, results with confusion', async () => {
    const before = events.length;
    const started = await services.invoke('runs.start', { ...runParams({ epochs: 2 }), name: 'first' });
    expect(started).toMatchObject({ name: 'first', datasetId: 'demo', state: 'running', epochsDone: 0 });
    expect(started.params).toBeGreaterThan(0);
    finished = await waitForEnd(services, started.id);
    expect(finished.state).toBe('finished');
    expect(finished.epochsDone).toBe(2);
    const mine = events
      .slice(before)
      .filter(
        (e) =>
          (e.payload as { runId?: string; id?: string }).runId === started.id ||
          (e.payload as RunSummary).id === started.id,
      );
    const states = mine.filter((e) => e.event === 'run.state').map((e) => (e.payload as RunSummary).state);
    expect(states[0]).toBe('queued');
    expect(states).toContain('running');
    expect(states.at(-1)).toBe('finished');
    const progress = mine.filter((e) => e.event === 'run.progress').map((e) => e.payload as Events['run.progress']);
    expect(progress.length).toBeGreaterThan(0);
    const steps = progress.flatMap((p) => p.steps);
    expect(steps.map((s) => s.step)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1)); // 900 / 30 × 2
    expect(progress.at(-1)).toMatchObject({ step: 60, totalSteps: 60 });
    const epochs = mine
      .filter((e) => e.event === 'run.epoch')
      .flatMap((e) => (e.payload as Events['run.epoch']).points);
    expect(epochs.map((p) => p.epoch)).toEqual([1, 2]);
    expect(epochs[1]).toMatchObject({ engine: 'scratch' });
    expect(epochs[1].devAccuracy).toBeGreaterThan(0);

    const train = finished.results?.train,
      dev = finished.results?.dev;
    expect(train?.n).toBe(900);
    expect(dev?.n).toBe(270);
    expect(dev?.confusion).toHaveLength(9);
    expect(dev!.confusion.flat().reduce((a, b) => a + b, 0)).toBe(270);
    const diagonal = dev!.confusion.reduce((s, row, i) => s + row[i], 0);
    expect(diagonal / 270).toBeCloseTo(dev!.accuracy, 10);

    const detail = await services.invoke('runs.get', { runId: started.id });
    expect(detail.steps).toHaveLength(60);
    expect(detail.epochs).toHaveLength(2);
    expect(detail.steps[0].losses.scratch).toBeGreaterThan(0);

    // The examples of one confusion cell: an off-diagonal one with examples, and the diagonal.
    let cell: [number, number] = [0, 0];
    dev!.confusion.forEach((row, t) => row.forEach((count, p) => t !== p && count > 0 && (cell = [t, p])));
    const { examples } = await services.invoke('runs.examples', {
      runId: started.id,
      split: 'dev',
      trueClass: cell[0],
      predictedClass: cell[1],
    });
    expect(examples).toHaveLength(dev!.confusion[cell[0]][cell[1]]);
    for (const ex of examples) {
      expect(ex.id).toMatch(/^demo\/dev\//);
      expect(ex.probabilities).toHaveLength(9);
      expect(ex.probabilities.indexOf(Math.max(...ex.probabilities))).toBe(cell[1]);
    }
    const ckpt = readCheckpoint(join(userData, 'runs', started.id, 'checkpoint'));
    expect(ckpt.manifest.metrics).toHaveLength(2);
    expect(ckpt.manifest.standardize?.mean).toHaveLength(16);
  });

  it('exports as downloads (browser host) and to a chosen path (Electron host)', async () => {
    for (const format of ['checkpoint', 'tfjs', 'npz', 'onnx'] as const) {
      const out = await services.invoke('runs.export', { runId: finished.id, format });
      expect(out.downloadUrl).toBeUndefined(); // no host URL maker in these tests
      expect(out.files.length).toBeGreaterThan(0);
      const entry = services.exportEntry(
        /ex-[a-z0-9]+-[0-9a-f]{12}/.exec(JSON.stringify(readdirSync(join(userData, 'exports'))))![0],
      );
      expect(entry).not.toBeNull();
      // The one file the browser receives: a folder export arrives zipped.
      expect(out.downloadName).toBe(entry!.downloadName);
      // A single-file format arrives as that file.
      expect(out.downloadName).toMatch(format === 'npz' || format === 'onnx' ? new RegExp(`\\.${format}$`) : /\.zip$/);
      rmSync(join(userData, 'exports'), { recursive: true });
    }
    await expect(
      services.invoke('runs.export', { runId: finished.id, format: 'checkpoint', path: join(dir.path, 'x') }),
    ).rejects.toThrow(/download/);

    const electron = new AppServices(userData, { host: 'electron' });
    try {
      const ck = await electron.invoke('runs.export', {
        runId: finished.id,
        format: 'checkpoint',
        path: join(dir.path, 'out', 'ck'),
      });
      expect(readCheckpoint(join(dir.path, 'out', 'ck')).manifest.metrics).toHaveLength(2);
      expect(ck.files.every((f) => existsSync(f))).toBe(true);
      const tf = await electron.invoke('runs.export', {
        runId: finished.id,
        format: 'tfjs',
        path: join(dir.path, 'out', 'tf'),
      });
      expect(tf.files.map((f) => f.split(/[\\/]/).pop()).sort()).toEqual([
        'metadata.json',
        'model.json',
        'weights.bin',
      ]);
      const npz = await electron.invoke('runs.export', {
        runId: finished.id,
        format: 'npz',
        path: join(dir.path, 'out', 'w.npz'),
      });
      expect(readFileSync(npz.files[0]).subarray(0, 2).toString()).toBe('PK');
      await expect(electron.invoke('runs.export', { runId: finished.id, format: 'npz' })).rejects.toThrow(
        /path is needed/,
      );
      const onnx = await electron.invoke('runs.export', {
        runId: finished.id,
        format: 'onnx',
        path: join(dir.path, 'out', 'm.onnx'),
      });
      expect(onnx.files).toEqual([join(dir.path, 'out', 'm.onnx')]);
      expect(readFileSync(onnx.files[0]).subarray(0, 2)).toEqual(Buffer.from([0x08, 0x07])); // ir_version 7
    } finally {
      await electron.close();
    }
  });

  it('trains on an imported course-layout dataset', async () => {
    const ds = (await services.invoke('datasets.list', {})).find((d) => d.name === 'course')!;
    const run = await services.invoke('runs.start', runParams({ epochs: 3, batch: 4 }, ds.id));
    // Unnamed, a run is named by shared/run-name.ts: its network (not a preset here), engine and data.
    expect(run.name).toBe('custom · scratch · course');
    const end = await waitForEnd(services, run.id);
    expect(end.state).toBe('finished');
    expect(end.results?.train?.n).toBe(12);
    expect(end.results?.dev?.n).toBe(6);
  });

  it('trains with the front end the UI sent, records it in the checkpoint, and refuses a bad one naming the field', async () => {
    const pcen = {
      normalize: 'pcen',
      pcen: { smoothing: 0.2, alpha: 0.9, delta: 2, root: 0.5, epsilon: 1e-6 },
    } as const;
    const run = await services.invoke('runs.start', runParams({ epochs: 1, frontEnd: pcen }));
    expect((await waitForEnd(services, run.id)).state).toBe('finished');
    expect(readCheckpoint(join(userData, 'runs', run.id, 'checkpoint')).manifest.frontEnd).toEqual(pcen);
    const bad = runParams({ frontEnd: { normalize: 'pcen', pcen: { ...pcen.pcen, root: 2 } } });
    await expect(services.invoke('runs.start', bad)).rejects.toThrow(/settings\.frontEnd\.pcen\.root/);
  });

  it('refuses a spec that does not fit the data before starting anything', async () => {
    const bad = {
      ...runParams(),
      spec: {
        input: [70, 16] as [number, number],
        layers: [{ type: 'Flatten' }, { type: 'Dense', units: 3, activation: 'softmax' }],
      },
    };
    await expect(services.invoke('runs.start', bad)).rejects.toThrow(/units 3 must equal the number of classes, 9/);
    await expect(services.invoke('runs.start', runParams({}, 'nope'))).rejects.toThrow(/no dataset with id 'nope'/);
  });

  it('fails a run whose data cannot train, with the reason', async () => {
    // Settings asking for more frames than the import holds.
    const ds = (await services.invoke('datasets.list', {})).find((d) => d.name === 'course')!;
    await expect(services.invoke('runs.start', runParams({ frames: 80 }, ds.id))).rejects.toThrow(/at most that/);
  });

  it('lists runs and datasets after a restart; marks runs left running as interrupted; skips corrupt run files', async () => {
    await services.close();
    const runsDir = join(userData, 'runs');
    // A run a crashed process left 'running', and two unreadable run folders.
    const crashed = JSON.parse(readFileSync(join(runsDir, finished.id, 'run.json'), 'utf8')) as RunSummary;
    mkdirSync(join(runsDir, 'run-crashed'));
    writeFileSync(
      join(runsDir, 'run-crashed', 'run.json'),
      JSON.stringify({ ...crashed, id: 'run-crashed', state: 'running', results: undefined }),
    );
    mkdirSync(join(runsDir, 'run-corrupt'));
    writeFileSync(join(runsDir, 'run-corrupt', 'run.json'), '{"id": "run-corrupt", "state": ');
    mkdirSync(join(runsDir, 'run-wrong'));
    writeFileSync(
      join(runsDir, 'run-wrong', 'run.json'),
      JSON.stringify({ ...crashed, id: 'run-wrong', state: 'sleeping' }),
    );

    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    services = new AppServices(userData);
    const warned = warn.mock.calls.map((c) => String(c[0]));
    warn.mockRestore();
    expect(warned.some((w) => w.includes('run-corrupt'))).toBe(true);
    expect(warned.some((w) => w.includes('run-wrong') && w.includes('state'))).toBe(true);

    const runs = await services.invoke('runs.list', {});
    const ids = runs.map((r) => r.id);
    expect(ids).toContain(finished.id);
    expect(ids).not.toContain('run-corrupt');
    const again = runs.find((r) => r.id === finished.id)!;
    expect(again.state).toBe('finished');
    expect(again.results?.dev?.confusion).toEqual(finished.results?.dev?.confusion);
    const interrupted = runs.find((r) => r.id === 'run-crashed')!;
    expect(interrupted.state).toBe('interrupted');
    expect(interrupted.error).toMatch(/interrupted/);
    expect(JSON.parse(readFileSync(join(runsDir, 'run-crashed', 'run.json'), 'utf8')).state).toBe('interrupted');
    expect((await services.invoke('runs.get', { runId: finished.id })).steps).toHaveLength(60);
    expect((await services.invoke('datasets.list', {})).map((d) => d.name)).toEqual(['demo', 'course']);
  });

  it('renames an imported dataset, validated, kept across a restart; never the demo, never to a taken name', async () => {
    const course = (await services.invoke('datasets.list', {})).find((d) => d.name === 'course')!;
    const changed: string[][] = [];
    services.onAny((event, payload) => {
      if (event === 'datasets.changed') changed.push((payload as DatasetSummary[]).map((d) => d.name));
    });
    const rename = (datasetId: string, name: string) => services.invoke('datasets.rename', { datasetId, name });
    expect((await rename(course.id, '  course, 2nd import  ')).name).toBe('course, 2nd import');
    expect(changed).toEqual([['demo', 'course, 2nd import']]);
    await expect(rename(course.id, ' ')).rejects.toThrow(/datasets.rename: name: expected a name of 1 to 128/);
    await expect(rename(course.id, 'a\nb')).rejects.toThrow(/name: expected a name without control/);
    await expect(rename(course.id, 'demo')).rejects.toThrow(/already called demo/);
    await expect(rename('demo', 'mine')).rejects.toThrow(/demo dataset cannot be renamed/);
    await services.close();
    services = new AppServices(userData);
    expect((await services.invoke('datasets.list', {})).map((d) => d.name)).toEqual(['demo', 'course, 2nd import']);
  });

  it('deletes runs and removes datasets (never the demo)', async () => {
    expect(await services.invoke('runs.delete', { runId: 'run-crashed' })).toEqual({ removed: true });
    expect(existsSync(join(userData, 'runs', 'run-crashed'))).toBe(false);
    expect(await services.invoke('runs.delete', { runId: 'run-crashed' })).toEqual({ removed: false });
    const course = (await services.invoke('datasets.list', {})).find((d) => d.name === 'course, 2nd import')!;
    expect(await services.invoke('datasets.remove', { datasetId: course.id })).toEqual({ removed: true });
    expect(await services.invoke('datasets.remove', { datasetId: 'demo' })).toEqual({ removed: false });
    expect((await services.invoke('datasets.list', {})).map((d) => d.id)).toEqual(['demo']);
    expect(existsSync(join(userData, 'datasets', course.id))).toBe(false);
  });
});
