import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventName, Events, ExperimentSpec } from '../../shared/protocol';
import { AppServices } from '../services/app-services';
import { nextEvent, SMALL_SPEC, tempDir } from '../services/test-helpers';

/** Two small scratch networks on the demo data: quick, no timing. */
const SMALL: ExperimentSpec = {
  name: 'two',
  base: { spec: SMALL_SPEC, settings: { optimizer: 'adam', lr: 0.01, batch: 30, epochs: 2, seed: 7 } },
  grid: { 'layers.0.filters': [2, 3] },
};

describe('experiments through the protocol', () => {
  const dir = tempDir();
  let services: AppServices;
  const events: Array<{ event: EventName; payload: Events[EventName] }> = [];

  beforeAll(() => {
    services = new AppServices(join(dir.path, 'user'), { training: { progressIntervalMs: 20, maxConcurrent: 2 } });
    services.onAny((event, payload) => events.push({ event, payload }));
  });
  afterAll(async () => {
    try {
      await services?.close();
    } finally {
      dir.cleanup();
    }
  });

  it('lists the built-in course experiment and rejects a malformed or misfitting experiment with a message naming it', async () => {
    const builtins = await services.invoke('experiments.builtins', {});
    expect(builtins.map((e) => e.name)).toEqual(['course']);
    await expect(
      services.handle('experiments.start', { datasetId: 'demo', experiment: { name: 'x', grid: { lr: 3 } } }),
    ).rejects.toThrow(/^experiments\.start: experiment/);
    await expect(services.invoke('experiments.start', { datasetId: 'demo', experiment: 'nope' })).rejects.toThrow(
      "no built-in experiment 'nope' (expected one of course, or an experiment spec)",
    );
    const wrongClasses: ExperimentSpec = { name: 'w', base: { model: 'tdnn' }, grid: { 'layers.3.units': [5] } };
    await expect(services.invoke('experiments.start', { datasetId: 'demo', experiment: wrongClasses })).rejects.toThrow(
      'experiment "w", run main_layers.3.units=5_scratch on dataset demo: layer 4 Dense: units 5 must equal the number of classes, 9',
    );
    expect(await services.invoke('experiments.list', {})).toEqual([]);
  });

  it('queues every run as an ordinary run, fills the rows as runs end, and writes the report', async () => {
    const started = await services.invoke('experiments.start', { datasetId: 'demo', experiment: SMALL });
    expect(started.state).toBe('running');
    expect(started.rows.map((r) => r.label)).toEqual(['main layers.0.filters=2', 'main layers.0.filters=3']);
    expect(started.rows.every((r) => r.runId !== null)).toBe(true);
    await expect(services.invoke('experiments.report', { experimentId: started.id })).rejects.toThrow(
      /has no report yet/,
    );
    const done = await services.experiments.finished(started.id);
    expect(done.state).toBe('finished');
    for (const row of done.rows) {
      const run = await services.invoke('runs.get', { runId: row.runId! });
      expect(run.state).toBe('finished');
      expect(run.name).toBe(`two: ${row.label} · custom · scratch · demo`);
      expect(row).toMatchObject({
        state: 'finished',
        epochsDone: 2,
        params: run.params,
        devAccuracy: run.results!.dev!.accuracy,
        trainAccuracy: run.results!.train!.accuracy,
      });
      expect(row.msPerEpoch).toBeGreaterThan(0);
    }
    expect(done.rows.map((r) => r.agreement)).toEqual([null, null]); // one engine: nothing to compare
    expect(done.outDir).toBe(join(services.userData, 'experiments', started.id));
    expect(done.reportFiles).toContain('report.html');
    expect(existsSync(join(done.outDir, 'report.md'))).toBe(true);
    const { html } = await services.invoke('experiments.report', { experimentId: started.id });
    expect(html).toBe(readFileSync(join(done.outDir, 'report.html'), 'utf8'));
    expect(html).toContain('<h1>Lockstep experiment: two</h1>');
    // Each row's end was announced, and the last state event is the final summary.
    const rowEvents = events
      .filter((e) => e.event === 'experiment.row')
      .map((e) => e.payload as Events['experiment.row']);
    for (const row of done.rows)
      expect(
        rowEvents.some((e) => e.experimentId === started.id && e.row.key === row.key && e.row.state === 'finished'),
      ).toBe(true);
    const states = events
      .filter((e) => e.event === 'experiment.state')
      .map((e) => (e.payload as Events['experiment.state']).state);
    expect(states[0]).toBe('running');
    expect(states.slice(-2)).toEqual(['reporting', 'finished']);
    expect(await services.invoke('experiments.get', { experimentId: started.id })).toEqual(done);
    expect((await services.invoke('experiments.list', {})).map((e) => e.id)).toEqual([started.id]);
    await expect(services.invoke('experiments.stop', { experimentId: started.id })).rejects.toThrow(
      'experiment two is finished; only a running experiment can be stopped',
    );
  });

  it('stops the runs still queued or running and reports what there is', async () => {
    const long: ExperimentSpec = {
      ...SMALL,
      name: 'long',
      base: { ...SMALL.base, settings: { ...SMALL.base!.settings, epochs: 50_000 } },
      grid: { seed: [1, 2, 3] },
    };
    const started = await services.invoke('experiments.start', { datasetId: 'demo', experiment: long });
    await nextEvent(services, 'run.epoch', started.rows[0].runId!);
    const stopped = await services.invoke('experiments.stop', { experimentId: started.id });
    expect(stopped.state).toBe('stopped');
    expect(stopped.rows.map((r) => r.state)).toEqual(['stopped', 'stopped', 'stopped']);
    expect(stopped.rows[0].epochsDone).toBeGreaterThanOrEqual(1);
    expect(stopped.rows[2].epochsDone).toBe(0); // it was still queued (2 at a time)
    expect(readFileSync(join(stopped.outDir, 'report.html'), 'utf8')).toContain('state stopped');
  });

  it('marks an experiment interrupted when the app restarts during it', async () => {
    const started = await services.invoke('experiments.start', {
      datasetId: 'demo',
      experiment: {
        ...SMALL,
        name: 'cut',
        base: { ...SMALL.base, settings: { ...SMALL.base!.settings, epochs: 50_000 } },
      },
    });
    await services.close();
    const final = JSON.parse(readFileSync(join(started.outDir, 'experiment.json'), 'utf8'));
    expect(final.state).toBe('interrupted');
    services = new AppServices(join(dir.path, 'user'));
    expect((await services.invoke('experiments.get', { experimentId: started.id })).state).toBe('interrupted');
  });

  it('after a kill mid-experiment, marks the experiment and every unfinished row interrupted', async () => {
    const settings = { ...SMALL.base!.settings, epochs: 50_000 };
    const grid = { 'layers.0.filters': [2, 3, 4] };
    const experiment = { ...SMALL, name: 'killed', grid, base: { ...SMALL.base, settings } };
    const started = await services.invoke('experiments.start', { datasetId: 'demo', experiment });
    const file = join(started.outDir, 'experiment.json');
    await nextEvent(services, 'run.progress', started.rows[1].runId!);
    // What a kill -9 leaves on disk: the experiment as it was, its rows running and queued.
    const onDisk = readFileSync(file, 'utf8');
    expect(JSON.parse(onDisk).rows.map((r: { state: string }) => r.state)).toEqual(['running', 'running', 'queued']);
    await services.close();
    writeFileSync(file, onDisk);
    services = new AppServices(join(dir.path, 'user'));
    const after = await services.invoke('experiments.get', { experimentId: started.id });
    expect(after.state).toBe('interrupted');
    expect(after.rows.map((r) => [r.state, r.error])).toEqual([
      ['interrupted', 'interrupted: the app stopped while this run was running'],
      ['interrupted', 'interrupted: the app stopped while this run was running'],
      ['interrupted', 'interrupted: the app stopped while this run was queued'],
    ]);
    const rows: Array<{ state: string }> = JSON.parse(readFileSync(file, 'utf8')).rows;
    expect(rows.every((r) => r.state === 'interrupted')).toBe(true);
  });
});
