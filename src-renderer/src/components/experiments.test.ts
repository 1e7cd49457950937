import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { COURSE_EXPERIMENT } from '../../../shared/experiment/course';
import { PRESETS } from '../../../shared/presets';
import type { EventName, Events, ExperimentRow, ExperimentSummary } from '../../../shared/protocol';
import type { LabApi } from '../lib/api';
import { experiments } from '../lib/experiments.svelte';
import { row } from '../lib/experiments-test-rows';
import { lab } from '../lib/lab.svelte';
import ExperimentSetup from './ExperimentSetup.svelte';
import ExperimentsPanel from './ExperimentsPanel.svelte';
import ExperimentTable from './ExperimentTable.svelte';

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

function summary(rows: ExperimentRow[], over: Partial<ExperimentSummary> = {}): ExperimentSummary {
  return {
    id: 'exp-1',
    name: 'lr-sweep',
    datasetId: 'demo',
    datasetName: 'demo',
    state: 'running',
    createdAt: '2026-11-27T08:00:00Z',
    outDir: '/tmp/exp-1',
    rows,
    timing: [],
    bestKey: null,
    reportFiles: [],
    ...over,
  };
}

/** An API whose answers the test sets, and whose events the test sends. */
function fakeApi(answers: Record<string, unknown>) {
  const listeners = new Map<string, Array<(p: unknown) => void>>();
  const invoke = vi.fn(async (method: string, _params: unknown) => {
    if (!(method in answers)) throw new Error(`unexpected ${method}`);
    const a = answers[method];
    return typeof a === 'function' ? (a as (p: unknown) => unknown)(_params) : a;
  });
  const api: LabApi = {
    host: 'browser',
    invoke: invoke as unknown as LabApi['invoke'],
    on: ((event: string, l: (p: unknown) => void) => {
      listeners.set(event, [...(listeners.get(event) ?? []), l]);
      return () => {};
    }) as LabApi['on'],
  };
  const emit = <E extends EventName>(event: E, payload: Events[E]): void =>
    listeners.get(event)?.forEach((l) => l(payload));
  return { api, invoke, emit };
}

const base = {
  'app.info': { version: 't', host: 'browser', presets: [...PRESETS.values()], classes: demo.classes },
  'datasets.list': [demo],
  'runs.list': [],
  'experiments.builtins': [COURSE_EXPERIMENT],
};

const texts = (testid: string): string[] => screen.queryAllByTestId(testid).map((e) => e.textContent?.trim() ?? '');
const rowKeys = (): string[] => screen.queryAllByTestId('exp-row').map((e) => e.dataset.key!);

afterEach(() => cleanup());

const rows: ExperimentRow[] = [
  row({
    key: 'fnn_h10_scratch',
    label: 'fnn hidden=10',
    runId: 'r1',
    state: 'finished',
    trainAccuracy: 0.6,
    devAccuracy: 0.41,
    msPerEpoch: 50,
    agreement: 2e-7,
  }),
  row({
    key: 'fnn_h10_tfjs-wasm',
    label: 'fnn hidden=10',
    engine: 'tfjs-wasm',
    runId: 'r2',
    state: 'finished',
    trainAccuracy: 0.61,
    devAccuracy: 0.43,
    msPerEpoch: 70,
    agreement: 2e-7,
  }),
  row({
    key: 'fnn_h50_scratch',
    label: 'fnn hidden=50',
    runId: 'r3',
    state: 'finished',
    trainAccuracy: 0.8,
    devAccuracy: 0.47,
    msPerEpoch: 150,
  }),
  row({ key: 'tdnn_sum_scratch', label: 'tdnn output=sum', part: 'tdnn', runId: 'r4', state: 'running' }),
  row({ key: 'tdnn_sum_tfjs-wasm', label: 'tdnn output=sum', part: 'tdnn', engine: 'tfjs-wasm', state: 'planned' }),
];

describe('ExperimentTable', () => {
  it('sorts by a column header, both ways, unknown values last', async () => {
    render(ExperimentTable, { rows, onopen: () => {} });
    expect(rowKeys()).toEqual([
      'fnn_h10_scratch',
      'fnn_h10_tfjs-wasm',
      'fnn_h50_scratch',
      'tdnn_sum_scratch',
      'tdnn_sum_tfjs-wasm',
    ]);
    await fireEvent.click(screen.getByTestId('exp-sort-devAccuracy'));
    expect(rowKeys()).toEqual([
      'fnn_h50_scratch',
      'fnn_h10_tfjs-wasm',
      'fnn_h10_scratch',
      'tdnn_sum_scratch',
      'tdnn_sum_tfjs-wasm',
    ]);
    expect(screen.getByTestId('exp-sort-devAccuracy').closest('th')!.getAttribute('aria-sort')).toBe('descending');
    await fireEvent.click(screen.getByTestId('exp-sort-devAccuracy'));
    expect(rowKeys()).toEqual([
      'fnn_h10_scratch',
      'fnn_h10_tfjs-wasm',
      'fnn_h50_scratch',
      'tdnn_sum_scratch',
      'tdnn_sum_tfjs-wasm',
    ]);
    await fireEvent.click(screen.getByTestId('exp-sort-msPerEpoch'));
    expect(rowKeys().slice(0, 3)).toEqual(['fnn_h10_scratch', 'fnn_h10_tfjs-wasm', 'fnn_h50_scratch']);
    await fireEvent.click(screen.getByTestId('exp-sort-engine'));
    expect(rowKeys()).toEqual([
      'fnn_h10_scratch',
      'fnn_h50_scratch',
      'tdnn_sum_scratch',
      'fnn_h10_tfjs-wasm',
      'tdnn_sum_tfjs-wasm',
    ]);
    expect(texts('exp-row-devAccuracy')).toEqual(['41.0%', '47.0%', '–', '43.0%', '–']);
    expect(texts('exp-row-agreement')).toEqual(['2.0e-7', '–', '–', '2.0e-7', '–']);
    // The agreement column says what it measures and its unit: in its header, its tooltip and a legend.
    const header = screen.getByTestId('exp-sort-agreement');
    expect(header.textContent).toContain('rel. Δloss');
    expect(header.closest('th')!.title).toMatch(/relative difference of the training loss.*ratio without unit/);
    expect(screen.getByTestId('exp-agreement-legend').textContent).toMatch(
      /other engine.*1e-4 being the lockstep bound/,
    );
  });

  it('filters by text, part and engine, and counts what it shows', async () => {
    render(ExperimentTable, { rows, onopen: () => {} });
    await fireEvent.input(screen.getByTestId('exp-filter'), { target: { value: 'hidden=10' } });
    expect(rowKeys()).toEqual(['fnn_h10_scratch', 'fnn_h10_tfjs-wasm']);
    expect(screen.getByTestId('exp-shown').textContent).toBe('2 of 5 runs');
    await fireEvent.input(screen.getByTestId('exp-filter'), { target: { value: '' } });
    await fireEvent.change(screen.getByTestId('exp-filter-part'), { target: { value: 'tdnn' } });
    expect(rowKeys()).toEqual(['tdnn_sum_scratch', 'tdnn_sum_tfjs-wasm']);
    await fireEvent.change(screen.getByTestId('exp-filter-engine'), { target: { value: 'tfjs-wasm' } });
    expect(rowKeys()).toEqual(['tdnn_sum_tfjs-wasm']);
    await fireEvent.input(screen.getByTestId('exp-filter'), { target: { value: 'nothing-like-this' } });
    expect(rowKeys()).toEqual([]);
    expect(screen.getByTestId('exp-table').textContent).toContain('No run matches the filter.');
  });

  it('marks the best row by dev accuracy among those shown, and opens it', async () => {
    const onopen = vi.fn();
    render(ExperimentTable, { rows, onopen });
    expect(
      screen
        .queryAllByTestId('exp-row')
        .filter((r) => r.dataset.best === 'true')
        .map((r) => r.dataset.key),
    ).toEqual(['fnn_h50_scratch']);
    expect(screen.getByTestId('exp-open-best').textContent).toContain('fnn hidden=50 · scratch (47.0%)');
    await fireEvent.click(screen.getByTestId('exp-open-best'));
    expect(onopen).toHaveBeenLastCalledWith(expect.objectContaining({ key: 'fnn_h50_scratch' }));
    // Narrowed to hidden=10, the best is the tfjs run.
    await fireEvent.input(screen.getByTestId('exp-filter'), { target: { value: 'hidden=10' } });
    expect(
      screen
        .queryAllByTestId('exp-row')
        .filter((r) => r.dataset.best === 'true')
        .map((r) => r.dataset.key),
    ).toEqual(['fnn_h10_tfjs-wasm']);
    // Nothing with results shown: no best.
    await fireEvent.input(screen.getByTestId('exp-filter'), { target: { value: 'tdnn' } });
    expect(screen.queryByTestId('exp-open-best')).toBeNull();
    // A row's own Open; a run not started yet cannot be opened.
    const buttons = screen.getAllByTestId('exp-row-open') as HTMLButtonElement[];
    expect(buttons.map((b) => b.disabled)).toEqual([false, true]);
    await fireEvent.click(buttons[0]);
    expect(onopen).toHaveBeenLastCalledWith(expect.objectContaining({ key: 'tdnn_sum_scratch' }));
  });
});

describe('ExperimentSetup', () => {
  it('checks the grid as it is typed: syntax with line and column, schema fields, then the run count; Start sends the spec', async () => {
    const { api, invoke } = fakeApi({
      ...base,
      'experiments.list': [],
      'experiments.start': (p: { experiment: { name: string } }) => summary([], { name: p.experiment.name }),
    });
    await lab.init(api);
    await experiments.init(api);
    render(ExperimentSetup);
    // The built-in course: its description and its size, Start ready.
    expect(screen.getByTestId('exp-description').textContent).toMatch(/six fully-connected networks/);
    expect(screen.getByTestId('exp-run-count').textContent).toBe('16');
    expect((screen.getByTestId('exp-start') as HTMLButtonElement).disabled).toBe(false);

    await fireEvent.change(screen.getByTestId('exp-source'), { target: { value: '' } });
    const editor = screen.getByTestId('exp-json') as HTMLTextAreaElement;
    expect(screen.getByTestId('exp-run-count').textContent).toBe('4');
    await fireEvent.input(editor, { target: { value: '{\n  "name": "x",\n  "grid": { "lr": [0.1,] }\n}' } });
    expect(texts('exp-problem')).toEqual([
      "JSON, line 3, column 24: expected a value (an object, array, string, number, true, false or null), found ']'",
    ]);
    expect(editor.getAttribute('aria-invalid')).toBe('true');
    expect((screen.getByTestId('exp-start') as HTMLButtonElement).disabled).toBe(true);
    // Clicking the problem puts the caret there.
    await fireEvent.click(screen.getByTestId('exp-problem').querySelector('button')!);
    expect(editor.selectionStart).toBe(editor.value.indexOf(']'));

    await fireEvent.input(editor, {
      target: {
        value: JSON.stringify({
          name: 'x',
          base: { model: 'fnn-10-tanh', settings: { batch: 0 } },
          timing: { batchSizes: [] },
        }),
      },
    });
    expect(texts('exp-problem')).toEqual([
      expect.stringMatching(/^base\.settings\.batch: .*>=1/),
      expect.stringMatching(/^timing\.batchSizes: /),
    ]);
    // Past the schema, the grid's own rules.
    await fireEvent.input(editor, {
      target: {
        value: JSON.stringify({ name: 'x', base: { model: 'fnn-10-tanh' }, grid: { engine: ['scratch', 'pytorch'] } }),
      },
    });
    expect(texts('exp-problem')).toEqual([expect.stringMatching(/engine must be 'scratch' or 'tfjs', got "pytorch"$/)]);

    await fireEvent.input(editor, {
      target: {
        value: JSON.stringify({ name: 'mine', base: { model: 'fnn-10-tanh' }, grid: { lr: [0.01, 0.1, 0.2] } }),
      },
    });
    expect(screen.queryByTestId('exp-problems')).toBeNull();
    expect(screen.getByTestId('exp-run-count').textContent).toBe('3');
    await fireEvent.input(screen.getByTestId('exp-epochs'), { target: { value: '2' } });
    expect(screen.getByTestId('exp-preview').textContent).toMatch(/2 epochs/);
    await fireEvent.click(screen.getByTestId('exp-start'));
    await waitFor(() => expect(experiments.currentId).toBe('exp-1'));
    expect(invoke).toHaveBeenCalledWith('experiments.start', {
      datasetId: 'demo',
      experiment: { name: 'mine', base: { model: 'fnn-10-tanh' }, grid: { lr: [0.01, 0.1, 0.2] } },
      epochs: 2,
    });
  });
});

describe('ExperimentsPanel', () => {
  it('says how to begin when there is no experiment yet', async () => {
    const { api } = fakeApi({ ...base, 'experiments.list': [] });
    await lab.init(api);
    experiments.currentId = null;
    render(ExperimentsPanel);
    await waitFor(() =>
      expect(screen.getByTestId('exp-empty').textContent).toMatch(/^No experiment yet\. Pick the course assignment/),
    );
    expect(screen.queryByTestId('exp-current')).toBeNull();
  });

  it('fills the table in from experiment.row and experiment.state events, and shows the report links once written', async () => {
    const planned = [
      row({ key: 'a_scratch', label: 'main lr=0.01' }),
      row({ key: 'a_tfjs-wasm', label: 'main lr=0.01', engine: 'tfjs-wasm' }),
    ];
    const { api, emit } = fakeApi({
      ...base,
      'experiments.list': [summary(planned)],
      'experiments.stop': () => summary(planned, { state: 'stopped' }),
      'experiments.report': { html: '<h1>report</h1>' },
    });
    URL.createObjectURL ??= () => 'blob:fake';
    URL.revokeObjectURL ??= () => {};
    await lab.init(api);
    experiments.currentId = null;
    render(ExperimentsPanel);
    await waitFor(() => expect(rowKeys()).toEqual(['a_scratch', 'a_tfjs-wasm']));
    expect(texts('exp-row-state')).toEqual(['planned', 'planned']);
    expect(screen.getByTestId('exp-progress').textContent).toBe('0/2 runs ended');

    emit('experiment.row', {
      experimentId: 'exp-1',
      row: { ...planned[0], runId: 'r1', state: 'finished', devAccuracy: 0.5, trainAccuracy: 0.6 },
    });
    await waitFor(() => expect(texts('exp-row-state')).toEqual(['finished', 'planned']));
    expect(texts('exp-row-devAccuracy')).toEqual(['50.0%', '–']);
    expect(screen.getByTestId('exp-progress').textContent).toBe('1/2 runs ended');
    expect(screen.getByTestId('exp-stop')).toBeTruthy();
    expect(screen.queryByTestId('exp-report-open')).toBeNull();

    const done = summary(
      [
        { ...planned[0], runId: 'r1', state: 'finished', devAccuracy: 0.5 },
        { ...planned[1], runId: 'r2', state: 'stopped' },
      ],
      { state: 'stopped', reportFiles: ['report.html'] },
    );
    emit('experiment.state', done);
    await waitFor(() => expect(screen.getByTestId('exp-state').textContent).toBe('stopped'));
    expect(screen.queryByTestId('exp-stop')).toBeNull();
    await waitFor(() => expect(screen.getByTestId('exp-report-open').getAttribute('href')).toMatch(/^blob:/));
    expect(screen.getByTestId('exp-report-save').getAttribute('download')).toBe('lr-sweep-report.html');
  });
});
