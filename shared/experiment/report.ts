import { resolveSpec, type LayerConfig } from '../engine/spec';
import { frontEndFormula, frontEndLabel, NO_FRONT_END } from '../data/front-end';
import type { ExperimentSpec, ExperimentSummary, TimingPoint } from '../protocol';
import { barChart } from '../report/bar-chart';
import { confusionChart } from '../report/confusion-chart';
import type { Block, Table } from '../report/document';
import { lineChart, type Series } from '../report/line-chart';
import { PALETTE } from '../report/svg';
import { DEFAULT_LOSS_BOUND } from '../train/lockstep';
import { agreementPairs, bestRow, relativeLossDiffs, type RunRecord } from './results';

/** What a report is built from: the experiment, its rows and runs, and where it ran. */
export interface ExperimentResults {
  experiment: ExperimentSpec;
  summary: ExperimentSummary;
  records: RunRecord[];
  classes: string[];
  /** Examples per split after the protocol. */
  splits: Partial<Record<'train' | 'dev' | 'eval', number>>;
  /** e.g. "2 cores, Node v20.19.0, linux x64". */
  machine: string;
  /** The command line that produced it (CLI). */
  command?: string;
}

export interface ExperimentReport {
  title: string;
  blocks: Block[];
}

const pct = (x: number | null | undefined): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(1)}%`;
const ms = (x: number | null | undefined): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : x >= 100 ? x.toFixed(0) : x.toPrecision(3);
const sci = (x: number | null | undefined): string =>
  x === null || x === undefined ? '–' : Number.isFinite(x) ? x.toExponential(1) : String(x);
const SPLITS = ['train', 'dev', 'eval'] as const;

function layerConfigText(c: LayerConfig): string {
  switch (c.type) {
    case 'Conv1D':
      return `${c.filters} filters, kernel ${c.kernelSize}${c.strides > 1 ? `, stride ${c.strides}` : ''}${c.dilationRate > 1 ? `, dilation ${c.dilationRate}` : ''}, ${c.padding}, ${c.activation}`;
    case 'MaxPooling1D':
    case 'AveragePooling1D':
      return `pool ${c.poolSize}, stride ${c.strides}, ${c.padding}`;
    case 'Dense':
      return `${c.units} units, ${c.activation}`;
    case 'Dropout':
      return `rate ${c.rate}`;
    case 'Activation':
      return c.activation;
    default:
      return '';
  }
}

/** The spec as a table: each layer's configuration, output (activation) shape and parameter count. */
export function specTable(spec: unknown, classes: number): Table {
  const net = resolveSpec(spec, classes);
  const rows = [['0', 'input', 'Input', '', `${net.input[0]} × ${net.input[1]}`, '0']];
  net.layers.forEach((l, i) =>
    rows.push([
      String(i + 1),
      l.config.name,
      l.config.type,
      layerConfigText(l.config),
      l.outputShape.join(' × '),
      String(l.paramCount),
    ]),
  );
  rows.push(['', 'total', '', '', '', String(net.paramCount)]);
  return {
    columns: [
      { header: '#' },
      { header: 'layer' },
      { header: 'type' },
      { header: 'configuration' },
      { header: 'output shape (time × channels)' },
      { header: 'parameters', align: 'right' },
    ],
    rows,
  };
}

/** One record per cell (the first engine's), in plan order. */
function cells(records: RunRecord[]): RunRecord[] {
  const seen = new Set<string>();
  return records.filter((r) => !seen.has(r.row.cell) && seen.add(r.row.cell));
}

function colorOfCell(records: RunRecord[]): (cell: string) => string {
  const order = cells(records).map((r) => r.row.cell);
  return (cell) => PALETTE[order.indexOf(cell) % PALETTE.length];
}

/** At most `max` points, keeping each bucket's largest value (spikes stay visible). */
export function downsampleMax(values: number[], max: number): Array<[number, number]> {
  if (values.length <= max) return values.map((v, i) => [i + 1, v]);
  const size = Math.ceil(values.length / max);
  const out: Array<[number, number]> = [];
  for (let start = 0; start < values.length; start += size) {
    let k = start;
    for (let i = start; i < Math.min(values.length, start + size); i++) if (!(values[i] <= values[k])) k = i;
    out.push([k + 1, values[k]]);
  }
  return out;
}

/** The runs' front ends, each with its formula, as Methods says them before the standardisation ('' when none has one). */
function frontEndMethod(records: RunRecord[]): string {
  const frontEnds = records.map((rec) => rec.settings.frontEnd ?? NO_FRONT_END);
  const used = [...new Map(frontEnds.map((f) => [JSON.stringify(f), f])).values()];
  if (used.every((f) => f.normalize === 'none')) return '';
  const each = used.map((f) => (f.normalize === 'none' ? 'none' : frontEndFormula(f))).join('; ');
  const which =
    used.length > 1 ? 'each run passes them through its front end first' : 'they pass through a front end first';
  return `${which} (${each}); then the `;
}

function methods(r: ExperimentResults): Block[] {
  const K = r.classes.length;
  const blocks: Block[] = [
    { kind: 'heading', level: 2, text: 'Methods' },
    {
      kind: 'paragraph',
      text:
        `Each example keeps its first ${r.records[0]?.settings.frames ?? 70} frames; ${frontEndMethod(r.records)}` +
        "features are standardised per channel with the training split's mean and deviation. " +
        'Every network ends in a softmax over the classes and is trained on the mean negative log-likelihood of its minibatch. ' +
        'The runs of one network on the two engines start from the same initial weights (drawn from the seed) and see the same minibatches in the same order, ' +
        'so any difference between their losses is numerical.',
    },
  ];
  for (const part of r.experiment.parts ?? [])
    if (part.description) blocks.push({ kind: 'paragraph', text: `${part.name}: ${part.description}` });
  blocks.push({ kind: 'heading', level: 3, text: 'Networks' });
  blocks.push({
    kind: 'paragraph',
    text: "Each layer's output shape is the dimension of its activations for one example (time steps × channels, or units once flat); its parameters are its weights and biases.",
  });
  // One table per distinct network (cells that differ only in settings share it).
  const bySpec = new Map<string, RunRecord[]>();
  for (const rec of cells(r.records)) {
    const key = JSON.stringify(rec.spec);
    bySpec.set(key, [...(bySpec.get(key) ?? []), rec]);
  }
  for (const recs of bySpec.values()) {
    blocks.push({
      kind: 'table',
      table: specTable(recs[0].spec, K),
      caption: `${recs.map((x) => x.row.label).join(', ')}: ${recs[0].row.params} parameters`,
    });
  }
  const settings = cells(r.records).map((rec) => {
    const s = rec.settings;
    const engines = r.records
      .filter((x) => x.row.cell === rec.row.cell)
      .map((x) => x.row.engine)
      .join(', ');
    return [
      rec.row.label,
      frontEndLabel(s.frontEnd ?? NO_FRONT_END),
      s.optimizer,
      String(s.lr),
      String(s.batch),
      String(s.epochs),
      String(s.seed),
      engines,
    ];
  });
  blocks.push({
    kind: 'table',
    caption: 'Training settings',
    table: {
      columns: [
        { header: 'network' },
        { header: 'front end' },
        { header: 'optimizer' },
        { header: 'lr', align: 'right' },
        { header: 'batch', align: 'right' },
        { header: 'epochs', align: 'right' },
        { header: 'seed', align: 'right' },
        { header: 'engines' },
      ],
      rows: settings,
    },
  });
  return blocks;
}

function resultsSection(r: ExperimentResults): Block[] {
  const hasEval = r.records.some((x) => x.results.eval);
  // Every planned row, also those that failed before training (they have no record).
  const rows = r.summary.rows.map((row) => [
    row.label,
    row.engine,
    String(row.params),
    pct(row.trainAccuracy),
    pct(row.devAccuracy),
    ...(hasEval ? [pct(row.evalAccuracy)] : []),
    row.bestDevEpoch === null ? '–' : `${row.bestDevEpoch} (${pct(row.bestDevAccuracy)})`,
    ms(row.msPerEpoch),
    sci(row.agreement),
    row.state + (row.error ? `: ${row.error}` : ''),
  ]);
  const columns: Table['columns'] = [
    { header: 'network' },
    { header: 'engine' },
    { header: 'weights', align: 'right' },
    { header: 'train acc.', align: 'right' },
    { header: 'dev acc.', align: 'right' },
    ...(hasEval ? [{ header: 'eval acc.', align: 'right' as const }] : []),
    { header: 'best dev epoch (acc.)', align: 'right' },
    { header: 'ms/epoch', align: 'right' },
    { header: 'engine agreement', align: 'right' },
    { header: 'state' },
  ];
  const color = colorOfCell(r.records);
  const accuracy = barChart({
    title: 'Final dev accuracy of every run',
    value: { label: 'dev accuracy (%)', include: [0] },
    bars: r.records.map((x) => ({
      label: `${x.row.label} · ${x.row.engine}`,
      value: (x.row.devAccuracy ?? NaN) * 100,
      color: color(x.row.cell),
      note: pct(x.row.devAccuracy),
    })),
  });
  const weights = cells(r.records).map((x) => [x.row.label, String(x.row.params)]);
  return [
    { kind: 'heading', level: 2, text: 'Results' },
    {
      kind: 'paragraph',
      text:
        "Accuracy after the last epoch on every split; the best dev epoch is the epoch with the highest dev accuracy. ms/epoch is the median wall time of an epoch's training steps " +
        '(batch gathering included, evaluation not). Engine agreement is the largest per-step relative loss difference between the scratch and the tfjs run of the same network.',
    },
    { kind: 'table', caption: 'Accuracy, speed and agreement of every run', table: { columns, rows } },
    {
      kind: 'table',
      caption: 'Number of weights (trainable parameters) of each network',
      table: { columns: [{ header: 'network' }, { header: 'weights', align: 'right' }], rows: weights },
    },
    {
      kind: 'figure',
      id: 'accuracy',
      svg: accuracy,
      caption: 'Final dev accuracy of every run (one colour per network).',
    },
  ];
}

function curves(r: ExperimentResults): Block[] {
  const blocks: Block[] = [{ kind: 'heading', level: 2, text: 'Learning curves' }];
  const color = colorOfCell(r.records);
  const parts = [...new Set(r.records.map((x) => x.row.part))];
  const legend = (recs: RunRecord[]): Array<{ name: string; color: string; dashed?: boolean }> => [
    ...cells(recs).map((x) => ({ name: x.row.label, color: color(x.row.cell) })),
    ...[...new Set(recs.map((x) => x.row.engine))].map((e) => ({
      name: `engine ${e}`,
      color: '#555',
      dashed: e !== 'scratch',
    })),
  ];
  for (const part of parts) {
    const recs = r.records.filter((x) => x.row.part === part && x.epochs.length);
    if (!recs.length) continue;
    const series = (value: (p: RunRecord['epochs'][number]) => number | undefined): Series[] =>
      recs.map((x) => ({
        name: `${x.row.label} · ${x.row.engine}`,
        color: color(x.row.cell),
        dashed: x.row.engine !== 'scratch',
        points: x.epochs.map((p) => [p.epoch, value(p) ?? NaN] as [number, number]),
      }));
    blocks.push({
      kind: 'figure',
      id: `loss-${part}`,
      svg: lineChart({
        title: `Training loss per epoch: ${part}`,
        x: { label: 'epoch' },
        y: { label: 'mean NLL (train)' },
        series: series((p) => p.trainLoss),
        legend: legend(recs),
      }),
      caption: `${part}: mean training loss of each epoch (solid: scratch engine, dashed: tfjs).`,
    });
    if (recs.some((x) => x.epochs.some((p) => p.devLoss !== undefined))) {
      blocks.push({
        kind: 'figure',
        id: `dev-${part}`,
        svg: lineChart({
          title: `Dev accuracy per epoch: ${part}`,
          x: { label: 'epoch' },
          y: { label: 'dev accuracy (%)' },
          series: series((p) => (p.devAccuracy === undefined ? undefined : p.devAccuracy * 100)),
          legend: legend(recs),
        }),
        caption: `${part}: dev accuracy after each epoch (solid: scratch engine, dashed: tfjs).`,
      });
    }
  }
  return blocks;
}

function best(r: ExperimentResults): Block[] {
  const row = bestRow(r.records.map((x) => x.row));
  const rec = row && r.records.find((x) => x.row.key === row.key);
  if (!rec) return [];
  // The dev split picks the best run, so it is a fair test only where no eval split was held out.
  const heldOut = rec.results.eval
    ? 'the eval split is the held-out test set, dev having picked the run'
    : 'the dev split is the test set here';
  const blocks: Block[] = [
    { kind: 'heading', level: 2, text: 'Best model' },
    {
      kind: 'paragraph',
      text: `The best run by final dev accuracy is ${rec.row.label} on ${rec.row.engine}: train ${pct(rec.row.trainAccuracy)}, dev ${pct(rec.row.devAccuracy)}${rec.row.evalAccuracy !== null ? `, eval ${pct(rec.row.evalAccuracy)}` : ''}. Its confusion matrices (rows: true class, columns: predicted class; ${heldOut}):`,
    },
  ];
  for (const split of SPLITS) {
    const result = rec.results[split];
    if (!result) continue;
    blocks.push({
      kind: 'figure',
      id: `confusion-${split}`,
      svg: confusionChart({
        title: `${rec.row.label} · ${rec.row.engine}: ${split} (${pct(result.accuracy)})`,
        labels: r.classes,
        matrix: result.confusion,
      }),
      caption: `Confusion matrix of the best model on the ${split} split (${result.n} examples, accuracy ${pct(result.accuracy)}).`,
    });
  }
  return blocks;
}

function timing(r: ExperimentResults): Block[] {
  const points = r.summary.timing;
  if (!points.length) return [];
  const batches = [...new Set(points.map((p) => p.batch))].sort((a, b) => a - b);
  const targets = [...new Map(points.map((p) => [p.key, p])).values()];
  const color = colorOfCell(r.records);
  const cellOf = (p: TimingPoint): string => r.records.find((x) => x.row.key === p.key)?.row.cell ?? p.key;
  const at = (key: string, b: number): TimingPoint | undefined => points.find((p) => p.key === key && p.batch === b);
  return [
    { kind: 'heading', level: 2, text: 'Running time vs batch size' },
    {
      kind: 'paragraph',
      text: 'Wall time of one backpropagation iteration (batch gathering, forward, backward and the optimizer update), measured after all runs ended, one measurement at a time, after warm-up steps.',
    },
    {
      kind: 'table',
      caption: 'ms per iteration (ms per example in parentheses)',
      table: {
        columns: [
          { header: 'network' },
          { header: 'engine' },
          ...batches.map((b) => ({ header: `batch ${b}`, align: 'right' as const })),
        ],
        rows: targets.map((t) => [
          t.label,
          t.engine,
          ...batches.map((b) => {
            const p = at(t.key, b);
            return p ? `${ms(p.msPerIteration)} (${ms(p.msPerIteration / b)})` : '–';
          }),
        ]),
      },
    },
    {
      kind: 'figure',
      id: 'timing',
      svg: lineChart({
        title: 'Time of one training iteration vs batch size',
        x: { label: 'batch size', log: true },
        y: { label: 'ms per iteration', log: true },
        series: targets.map((t) => ({
          name: `${t.label} · ${t.engine}`,
          color: color(cellOf(t)),
          dashed: t.engine !== 'scratch',
          markers: true,
          points: batches.map((b) => [b, at(t.key, b)?.msPerIteration ?? NaN] as [number, number]),
        })),
      }),
      caption:
        'ms per training iteration against batch size, both axes logarithmic (solid: scratch engine, dashed: tfjs).',
    },
  ];
}

function agreement(r: ExperimentResults): Block[] {
  const pairs = agreementPairs(r.records);
  if (!pairs.length) return [];
  const color = colorOfCell(r.records);
  const rows = pairs.map(({ reference, candidate }) => {
    const d = relativeLossDiffs(reference.stepLosses, candidate.stepLosses);
    const first = d.findIndex((v) => !(v <= DEFAULT_LOSS_BOUND));
    return [
      reference.row.label,
      `${reference.row.engine} vs ${candidate.row.engine}`,
      String(d.length),
      sci(candidate.row.agreement),
      first < 0 ? 'never' : String(first + 1),
      ms(reference.row.msPerEpoch),
      ms(candidate.row.msPerEpoch),
    ];
  });
  return [
    { kind: 'heading', level: 2, text: 'Engine agreement' },
    {
      kind: 'paragraph',
      text: `For every network, the scratch run and the tfjs run are compared step by step: |L_scratch − L_tfjs| / |L_tfjs| of each minibatch loss. Differences come from float32 rounding in different summation orders and grow as training amplifies them; the lockstep bound is ${DEFAULT_LOSS_BOUND}.`,
    },
    {
      kind: 'table',
      caption: 'Per-step relative loss difference between the engines',
      table: {
        columns: [
          { header: 'network' },
          { header: 'engines' },
          { header: 'steps', align: 'right' },
          { header: 'max relative difference', align: 'right' },
          { header: `first step over ${DEFAULT_LOSS_BOUND}`, align: 'right' },
          { header: 'scratch ms/epoch', align: 'right' },
          { header: 'tfjs ms/epoch', align: 'right' },
        ],
        rows,
      },
    },
    {
      kind: 'figure',
      id: 'agreement',
      svg: barChart({
        title: 'Largest per-step relative loss difference, scratch vs tfjs',
        value: { label: 'max |ΔL| / |L| (log scale)', log: true },
        bars: pairs.map(({ reference, candidate }) => ({
          label: `${reference.row.label} · ${candidate.row.engine}`,
          value: candidate.row.agreement ?? NaN,
          color: color(reference.row.cell),
          note: sci(candidate.row.agreement),
        })),
        reference: { value: DEFAULT_LOSS_BOUND, label: `bound ${DEFAULT_LOSS_BOUND}` },
      }),
      caption:
        'Largest per-step relative loss difference between the engines, per network (log scale; dashed: the lockstep bound).',
    },
    {
      kind: 'figure',
      id: 'agreement-steps',
      svg: lineChart({
        title: 'Relative loss difference per step, scratch vs tfjs',
        x: { label: 'step' },
        y: { label: '|ΔL| / |L| (log scale)', log: true },
        series: pairs.map(({ reference, candidate }) => ({
          name: `${reference.row.label} · ${candidate.row.engine}`,
          color: color(reference.row.cell),
          points: downsampleMax(relativeLossDiffs(reference.stepLosses, candidate.stepLosses), 400),
        })),
      }),
      caption:
        'Relative loss difference at every step (the largest of each bucket where there are more than 400 steps; exact zeros are not drawn on the log scale).',
    },
  ];
}

/** The report's blocks: methods, results, curves, the best model's confusion matrices, timing, engine agreement. */
export function buildExperimentReport(r: ExperimentResults): ExperimentReport {
  const s = r.summary;
  const title = `Lockstep experiment: ${s.name}`;
  const splitText = Object.entries(r.splits)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const blocks: Block[] = [
    { kind: 'heading', level: 1, text: title },
    ...(s.description ? [{ kind: 'paragraph' as const, text: s.description }] : []),
    {
      kind: 'list',
      items: [
        `Dataset: ${s.datasetName} (${splitText} examples after the protocol; classes ${r.classes.join(', ')})`,
        `Runs: ${s.rows.length} (${s.rows.filter((x) => x.state === 'finished').length} finished), state ${s.state}`,
        `Started ${s.createdAt}${s.finishedAt ? `, ended ${s.finishedAt}` : ''}`,
        `Machine: ${r.machine}`,
        ...(r.command ? [`Command: \`${r.command}\``] : []),
      ],
    },
    ...methods(r),
    ...resultsSection(r),
    ...curves(r),
    ...best(r),
    ...timing(r),
    ...agreement(r),
  ];
  return { title, blocks };
}
