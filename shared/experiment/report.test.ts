import { describe, expect, it } from 'vitest';
import { DEFAULT_PCEN } from '../data/front-end';
import { resolveSpec } from '../engine/spec';
import type { EpochPoint, ExperimentSummary, RunSummary, TimingPoint } from '../protocol';
import type { Block, Table } from '../report/document';
import { wellFormedTags } from '../report/test-helpers';
import { COURSE_EXPERIMENT } from './course';
import { expandExperiment } from './grid';
import { buildExperimentReport, downsampleMax, specTable, type ExperimentResults } from './report';
import { plannedRow, rowFromRun, withAgreement, type RunRecord } from './results';

const plan = expandExperiment(COURSE_EXPERIMENT, { epochs: 2 });
const classes = ['B', 'C', 'D', 'E', 'G', 'P', 'T', 'V', 'Z'];
const eye = (n: number): number[][] => classes.map((_, i) => classes.map((_, j) => (i === j ? n : 1)));

function record(key: string, dev: number, withEval = false): RunRecord {
  const run = plan.runs.find((r) => r.key === key)!;
  const epochs: EpochPoint[] = [1, 2].map((e) => ({
    epoch: e,
    engine: run.engineId,
    trainLoss: 2.2 / e,
    trainAccuracy: 0.3 * e,
    devAccuracy: dev - 0.1 / e,
    devLoss: 2 / e,
    ms: 100 * e,
  }));
  const results = {
    train: { n: 99, loss: 1, accuracy: 0.6, confusion: eye(10) },
    dev: { n: 90, loss: 1.2, accuracy: dev, confusion: eye(2) },
    ...(withEval ? { eval: { n: 9, loss: 1.3, accuracy: 0.33, confusion: eye(1) } } : {}),
  };
  const params = resolveSpec({ ...run.spec, input: [70, 16] }, 9).paramCount;
  const summary = { id: `run-${key}`, state: 'finished', params, epochsDone: 2, results } as unknown as RunSummary;
  return {
    row: rowFromRun(plannedRow(run, 0), summary, epochs),
    spec: { ...run.spec, input: [70, 16] },
    settings: run.settings,
    epochs,
    stepLosses: [2.2, 2.1, 2 + dev * 1e-3],
    results,
  };
}

function results(records: RunRecord[], timing: TimingPoint[] = []): ExperimentResults {
  withAgreement(records);
  const summary: ExperimentSummary = {
    id: 'exp-1',
    name: 'course',
    datasetId: 'demo',
    datasetName: 'demo',
    state: 'finished',
    createdAt: '2026-11-27T08:00:00Z',
    outDir: '/tmp/x',
    rows: records.map((r) => r.row),
    timing,
    bestKey: null,
    reportFiles: [],
  };
  return {
    experiment: COURSE_EXPERIMENT,
    summary,
    records,
    classes,
    splits: { train: 99, dev: 90 },
    machine: '2 cores',
    command: 'experiment --grid course',
  };
}

const [fnnS, fnnT, tdnnS, tdnnT] = [
  'fnn_hidden=10_activation=tanh_scratch',
  'fnn_hidden=10_activation=tanh_tfjs-wasm',
  'tdnn_output=sum_scratch',
  'tdnn_output=sum_tfjs-wasm',
];
const tables = (blocks: Block[]): Array<{ caption?: string; table: Table }> =>
  blocks.flatMap((b) => (b.kind === 'table' ? [{ caption: b.caption, table: b.table }] : []));

describe('the experiment report', () => {
  it('describes each network layer by layer: configuration, activation shape, parameters', () => {
    const t = specTable(plan.runs.find((r) => r.key === tdnnS)!.spec, 9);
    expect(t.rows).toEqual([
      ['0', 'input', 'Input', '', '70 × 16', '0'],
      ['1', 'conv1d_1', 'Conv1D', '8 filters, kernel 3, valid, sigmoid', '68 × 8', String(3 * 16 * 8 + 8)],
      ['2', 'conv1d_2', 'Conv1D', '3 filters, kernel 5, valid, sigmoid', '64 × 3', String(5 * 8 * 3 + 3)],
      ['3', 'time_sum_1', 'TimeSum', '', '3', '0'],
      ['4', 'dense_1', 'Dense', '9 units, softmax', '9', String(3 * 9 + 9)],
      ['', 'total', '', '', '', '551'],
    ]);
  });

  it("holds methods, results, curves, the best model's confusion matrices and the engine agreement", () => {
    const r = buildExperimentReport(
      results([record(fnnS, 0.4), record(fnnT, 0.41), record(tdnnS, 0.5), record(tdnnT, 0.45)]),
    );
    const headings = r.blocks.flatMap((b) => (b.kind === 'heading' ? [b.text] : []));
    expect(headings).toEqual([
      'Lockstep experiment: course',
      'Methods',
      'Networks',
      'Results',
      'Learning curves',
      'Best model',
      'Engine agreement',
    ]);
    const figures = r.blocks.flatMap((b) => (b.kind === 'figure' ? [b] : []));
    expect(figures.map((f) => f.id)).toEqual([
      'accuracy',
      'loss-fnn',
      'dev-fnn',
      'loss-tdnn',
      'dev-tdnn',
      'confusion-train',
      'confusion-dev',
      'agreement',
      'agreement-steps',
    ]);
    for (const f of figures) wellFormedTags(f.svg);
    // The best run by dev accuracy is the scratch TDNN: its matrices are the ones shown.
    expect(figures.find((f) => f.id === 'confusion-dev')!.svg).toContain('tdnn output=sum · scratch: dev (50.0%)');
    const all = tables(r.blocks);
    expect(all.filter((t) => t.caption?.endsWith('parameters'))).toHaveLength(2);
    const main = all.find((t) => t.caption === 'Accuracy, speed and agreement of every run')!.table;
    expect(main.columns.map((c) => c.header)).not.toContain('eval acc.');
    expect(main.rows[2].slice(0, 5)).toEqual(['tdnn output=sum', 'scratch', '551', '60.0%', '50.0%']);
    expect(main.rows[2][5]).toBe('2 (45.0%)'); // dev − 0.1 / epoch: best at the last epoch
    const agreement = all.find((t) => t.caption === 'Per-step relative loss difference between the engines')!.table;
    expect(agreement.rows.map((x) => x[0])).toEqual(['fnn hidden=10 activation=tanh', 'tdnn output=sum']);
    expect(agreement.rows[1][3]).toBe((0.05e-3 / (2 + 0.45e-3)).toExponential(1));
  });

  it('adds an eval column when a split has eval results, and the timing section when there are timing points', () => {
    const timing: TimingPoint[] = [1, 10].flatMap((batch) => [
      {
        key: fnnS,
        label: 'fnn hidden=10 activation=tanh',
        engine: 'scratch',
        batch,
        msPerIteration: 0.1 * batch,
        steps: 30,
      },
      {
        key: fnnT,
        label: 'fnn hidden=10 activation=tanh',
        engine: 'tfjs-wasm',
        batch,
        msPerIteration: 2 + batch,
        steps: 30,
      },
    ]);
    const r = buildExperimentReport(results([record(fnnS, 0.4, true), record(fnnT, 0.41)], timing));
    const main = tables(r.blocks).find((t) => t.caption === 'Accuracy, speed and agreement of every run')!.table;
    expect(main.columns.map((c) => c.header)).toContain('eval acc.');
    expect(main.rows.map((x) => x[5])).toEqual(['33.0%', '–']);
    const t = tables(r.blocks).find((x) => x.caption?.startsWith('ms per iteration'))!.table;
    expect(t.rows).toEqual([
      ['fnn hidden=10 activation=tanh', 'scratch', '0.100 (0.100)', '1.00 (0.100)'],
      ['fnn hidden=10 activation=tanh', 'tfjs-wasm', '3.00 (3.00)', '12.0 (1.20)'],
    ]);
    expect(r.blocks.some((b) => b.kind === 'figure' && b.id === 'timing')).toBe(true);
    expect(r.blocks.some((b) => b.kind === 'figure' && b.id === 'confusion-eval')).toBe(false); // the best run (tfjs) has no eval split
  });

  it('calls dev the test set only when no eval split was held out', () => {
    const bestText = (records: RunRecord[]) =>
      buildExperimentReport(results(records)).blocks.flatMap((b) =>
        b.kind === 'paragraph' && b.text.startsWith('The best run') ? [b.text] : [],
      )[0];
    expect(bestText([record(fnnS, 0.4)])).toContain('the dev split is the test set here');
    const withEval = bestText([record(fnnS, 0.4, true)]);
    expect(withEval).not.toContain('the dev split is the test set');
    expect(withEval).toContain('the eval split is the held-out test set');
  });

  it("Methods names each run's front end with its formula; the settings table shows it (none by default)", () => {
    const plain = buildExperimentReport(results([record(tdnnS, 0.5)]));
    const paragraphs = (blocks: Block[]): string =>
      blocks.flatMap((b) => (b.kind === 'paragraph' ? [b.text] : [])).join('\n');
    expect(paragraphs(plain.blocks)).toContain('keeps its first 70 frames; features are standardised per channel');
    const pcen = record(tdnnS, 0.5);
    pcen.settings = { ...pcen.settings, frontEnd: { normalize: 'pcen', pcen: { ...DEFAULT_PCEN } } };
    const r = buildExperimentReport(results([pcen, record(fnnS, 0.4)]));
    expect(paragraphs(r.blocks)).toContain(
      'each run passes them through its front end first (pcen: for each example and channel',
    );
    expect(paragraphs(r.blocks)).toContain(
      "x'[t] = (E[t] / (epsilon + M[t])^alpha + delta)^r − delta^r, with s = 0.1, alpha = 0.98, delta = 2, r = 0.5, epsilon = 0.000001 (float64 arithmetic, result float32); none); then the features",
    );
    const settings = tables(r.blocks).find((t) => t.caption === 'Training settings')!.table;
    expect(settings.columns[1].header).toBe('front end');
    expect(settings.rows.map((row) => row[1])).toEqual(['PCEN (s 0.1, α 0.98, δ 2, r 0.5, ε 0.000001)', 'none']);
  });

  it("downsamples long per-step series keeping each bucket's largest value", () => {
    expect(downsampleMax([1, 5, 2, 2, 9, 1, 3], 3)).toEqual([
      [2, 5],
      [5, 9],
      [7, 3],
    ]);
    expect(downsampleMax([1, 2], 3)).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });
});
