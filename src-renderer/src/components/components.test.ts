import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PRESETS } from '../../../shared/presets';
import type { LabApi } from '../lib/api';
import { lab } from '../lib/lab.svelte';
import ConfusionMatrix from './ConfusionMatrix.svelte';
import NetworkEditor from './NetworkEditor.svelte';
import RunsPanel from './RunsPanel.svelte';
import TrainPanel from './TrainPanel.svelte';

const demo = {
  id: 'demo',
  name: 'demo',
  source: 'built-in',
  importedAt: '2026-01-01T00:00:00Z',
  classes: ['B', 'C', 'D', 'E', 'G', 'P', 'T', 'V', 'Z'],
  frames: 70,
  channels: 16,
  splits: {
    train: {
      listed: 900,
      kept: 900,
      dropped: { nonFinite: 0, short: 0, missing: 0, malformed: 0 },
      droppedExamples: [],
      classCounts: new Array(9).fill(100),
    },
  },
};

function fakeApi(): LabApi {
  const results: Record<string, unknown> = {
    'app.info': { version: 't', host: 'browser', presets: [...PRESETS.values()], classes: demo.classes },
    'datasets.list': [demo],
    'runs.list': [],
    'runs.start': {
      id: 'r1',
      name: 'run',
      state: 'running',
      datasetId: 'demo',
      engine: 'scratch',
      createdAt: '2026-01-01T00:00:00Z',
    },
  };
  return {
    host: 'browser',
    invoke: vi.fn(async (m: string) => results[m]) as unknown as LabApi['invoke'],
    on: () => () => {},
  };
}

afterEach(() => cleanup());

describe('ConfusionMatrix', () => {
  it('labels rows and columns with the class letters and reports clicks', async () => {
    const onselect = vi.fn();
    render(ConfusionMatrix, {
      matrix: [
        [5, 1],
        [0, 4],
      ],
      classes: ['B', 'C'],
      onselect,
    });
    expect(screen.getByTestId('cm-row-0').textContent).toBe('B');
    expect(screen.getByTestId('cm-col-1').textContent).toBe('C');
    expect((screen.getByTestId('cm-cell-1-0') as HTMLButtonElement).disabled).toBe(true);
    // Per-class recall, as the HTML report prints it: B 5 of 6, C 4 of 4.
    expect(screen.getByTestId('cm-recall-0').textContent).toBe('83%');
    expect(screen.getByTestId('cm-recall-1').textContent).toBe('100%');
    await fireEvent.click(screen.getByTestId('cm-cell-0-1'));
    expect(onselect).toHaveBeenCalledWith(0, 1);
  });
});

describe('NetworkEditor', () => {
  it('edits the spec and keeps the shape table live', async () => {
    await lab.init(fakeApi());
    expect(lab.ready).toBe(true);
    expect(lab.datasetId).toBe('demo');
    render(NetworkEditor);
    expect(screen.getByTestId('param-total').textContent).toBe('551');
    await fireEvent.input(screen.getByTestId('field-0-filters'), { target: { value: '4' } });
    expect(screen.getByTestId('shape-out-0').textContent).toBe('[68, 4]');
    expect(screen.getByTestId('param-total').textContent).toBe(String(3 * 16 * 4 + 4 + 5 * 4 * 3 + 3 + 36));
    await fireEvent.click(screen.getByTestId('layer-remove-2'));
    expect(screen.getByTestId('spec-error').textContent).toMatch(/layer 3 Dense: expects a flat input/);
    expect(lab.canTrain).toBe(false);
    await fireEvent.click(screen.getByTestId('add-layer'));
    expect((screen.getByTestId('layer-type-2') as HTMLSelectElement).value).toBe('Conv1D');
    await fireEvent.change(screen.getByTestId('layer-type-2'), { target: { value: 'TimeSum' } });
    expect(screen.getByTestId('spec-ok')).toBeTruthy();
    expect(lab.canTrain).toBe(true);
    await fireEvent.click(screen.getByTestId('layer-up-2'));
    expect((screen.getByTestId('layer-type-1') as HTMLSelectElement).value).toBe('TimeSum');
    expect(screen.getByTestId('spec-error').textContent).toMatch(
      /layer 3 Conv1D: expects a \[time, channels\] input, got \[4\]/,
    );
  });
  it('adds a layer where the network stays valid, and labels the partial total', async () => {
    await lab.init(fakeApi());
    lab.applyPreset('tdnn');
    render(NetworkEditor);
    // tdnn: Conv1D, Conv1D, TimeSum, Dense(softmax). A pooling layer after TimeSum would break it.
    await fireEvent.change(screen.getByTestId('add-layer-type'), { target: { value: 'MaxPooling1D' } });
    await fireEvent.click(screen.getByTestId('add-layer'));
    expect(lab.spec.layers.map((l) => l.type)).toEqual(['Conv1D', 'Conv1D', 'MaxPooling1D', 'TimeSum', 'Dense']);
    expect(screen.getByTestId('spec-ok')).toBeTruthy();
    expect(screen.getByTestId('param-total-label').textContent).toBe('total');
    await fireEvent.click(screen.getByTestId('layer-remove-3'));
    expect(screen.getByTestId('param-total-label').textContent).toBe('total (valid layers only)');
    // The name field is as wide as the automatic name it shows as a placeholder.
    const name = screen.getByTestId('field-2-name') as HTMLInputElement;
    expect(parseFloat(name.style.width)).toBeGreaterThanOrEqual(name.placeholder.length + 2);
  });
});

describe('TrainPanel', () => {
  it('will not start a run the worker would refuse: warm-up as long as the run, a step schedule without decayEvery', async () => {
    await lab.init(fakeApi());
    const { unmount } = render(TrainPanel);
    const set = (id: string, value: string) => fireEvent.input(screen.getByTestId(id), { target: { value } });
    await set('set-epochs', '5');
    await set('set-warmup', '5');
    expect(lab.settingsError).toBe('warmupEpochs: warmupEpochs must be less than epochs (5), got 5');
    expect(lab.canTrain).toBe(false);
    await set('set-warmup', '');
    await fireEvent.change(screen.getByTestId('set-lr-schedule'), { target: { value: 'step' } });
    expect(lab.settingsError).toBe("decayEvery: lrSchedule 'step' needs decayEvery (epochs between decays)");
    expect(lab.canTrain).toBe(false);
    await set('set-decay-every', '2');
    expect(lab.settingsError).toBeNull();
    unmount();
  });

  it('sends the training aids the user set, and names a setting out of range before training', async () => {
    const api = fakeApi();
    await lab.init(api);
    const { unmount } = render(TrainPanel);
    const set = (id: string, value: string) => fireEvent.input(screen.getByTestId(id), { target: { value } });
    await fireEvent.change(screen.getByTestId('set-lr-schedule'), { target: { value: 'cosine' } });
    await set('set-warmup', '1');
    await set('set-time-stretch', '0.6');
    expect(lab.settingsError).toMatch(/^timeStretch: /);
    expect(lab.canTrain).toBe(false);
    await set('set-time-stretch', '0.15');
    await set('set-time-shift', '2');
    await set('set-time-mask', '4');
    await set('set-freq-mask', '2');
    await set('set-patience', '3');
    expect(lab.settingsError).toBeNull();
    unmount(); // the run's live charts would draw after the test: chart.js has no canvas here
    await lab.start();
    const start = vi.mocked(api.invoke).mock.calls.find(([m]) => m === 'runs.start');
    expect(start?.[1]).toMatchObject({
      settings: {
        lrSchedule: 'cosine',
        warmupEpochs: 1,
        timeStretch: 0.15,
        timeShift: 2,
        timeMask: 4,
        freqMask: 2,
        patience: 3,
      },
    });
  });

  it('sends the front end chosen under "Front end", PCEN with its parameters, and names a bad parameter', async () => {
    const api = fakeApi();
    await lab.init(api);
    lab.currentRunId = lab.activeRunId = null; // the previous test's run would draw its charts (no canvas here)
    const { unmount } = render(TrainPanel);
    expect(screen.queryByTestId('set-pcen-alpha')).toBeNull();
    await fireEvent.change(screen.getByTestId('set-front-end'), { target: { value: 'utteranceMean' } });
    expect(lab.settings.frontEnd).toEqual({ normalize: 'utteranceMean' });
    await fireEvent.change(screen.getByTestId('set-front-end'), { target: { value: 'pcen' } });
    expect((screen.getByTestId('set-pcen-alpha') as HTMLInputElement).value).toBe('0.98');
    await fireEvent.input(screen.getByTestId('set-pcen-alpha'), { target: { value: '1.5' } });
    expect(lab.settingsError).toMatch(/^frontEnd\.pcen\.alpha: /);
    expect(lab.canTrain).toBe(false);
    await fireEvent.input(screen.getByTestId('set-pcen-alpha'), { target: { value: '0.9' } });
    await fireEvent.input(screen.getByTestId('set-pcen-smoothing'), { target: { value: '0.2' } });
    expect(lab.settingsError).toBeNull();
    unmount();
    await lab.start();
    const start = vi.mocked(api.invoke).mock.calls.find(([m]) => m === 'runs.start');
    expect(start?.[1]).toMatchObject({
      settings: {
        standardize: true,
        frontEnd: { normalize: 'pcen', pcen: { smoothing: 0.2, alpha: 0.9, delta: 2, root: 0.5, epsilon: 1e-6 } },
      },
    });
  });
});

describe('RunsPanel', () => {
  const interrupted = {
    id: 'r9',
    name: 'tdnn · scratch · demo',
    datasetId: 'demo',
    datasetName: 'demo',
    engine: 'scratch' as const,
    backend: 'cpu' as const,
    state: 'interrupted' as const,
    createdAt: '2026-01-01T00:00:00Z',
    spec: PRESETS.get('tdnn')!.spec,
    settings: { optimizer: 'sgd' as const, lr: 0.1, batch: 10, epochs: 5, seed: 1, frames: 70, standardize: true },
    params: 100,
    epochsDone: 2,
  };

  it('offers Resume on an interrupted run with saved epochs; resuming follows the run', async () => {
    const api = fakeApi();
    const resumed = { ...interrupted, state: 'running' };
    vi.mocked(api.invoke).mockImplementation((async (m: string) => {
      if (m === 'runs.list') return [interrupted, { ...interrupted, id: 'r8', epochsDone: 0 }];
      if (m === 'runs.resume') return resumed;
      if (m === 'runs.get') return { ...resumed, epochs: [], steps: [] };
      if (m === 'datasets.list') return [demo];
      if (m === 'app.info')
        return { version: 't', host: 'browser', presets: [...PRESETS.values()], classes: demo.classes };
      return undefined;
    }) as unknown as LabApi['invoke']);
    await lab.init(api);
    lab.currentRunId = lab.activeRunId = null; // an open run would draw its charts (no canvas here)
    lab.compareIds = [];
    render(RunsPanel);
    // Only the run that saved an epoch can be resumed.
    expect(screen.getAllByTestId('run-resume')).toHaveLength(1);
    expect(screen.getByTestId('run-resume').getAttribute('title')).toContain('last saved epoch (2)');
    cleanup(); // the resumed run's charts need a canvas, which jsdom lacks
    await lab.resumeRun('r9');
    expect(lab.activeRunId).toBe('r9');
    expect(vi.mocked(api.invoke).mock.calls.find(([m]) => m === 'runs.resume')?.[1]).toEqual({ runId: 'r9' });
    expect(lab.isTraining).toBe(true);
  });
});
