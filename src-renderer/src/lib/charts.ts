import {
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip,
  type ChartDataset,
  type ChartOptions,
} from 'chart.js';
import { decimateMinMax, type Point } from './decimate';
import { debiasedEma } from './smoothing';
import type { EpochPoint } from '../../../shared/protocol';
import { epochEngines, type RunSeries } from './series';

/** Only the chart.js pieces the lab draws with. */
Chart.register(
  LineController,
  LineElement,
  PointElement,
  LinearScale,
  LogarithmicScale,
  CategoryScale,
  Legend,
  Tooltip,
  Filler,
);

export { Chart };

export const PALETTE = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];

export function withAlpha(hex: string, alpha: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

export type LineDataset = ChartDataset<'line', Point[]> & {
  /** false: left out of the legend (tooltips still name it). */
  legend?: boolean;
  /** The legend's text, when it differs from the label. */
  legendText?: string;
};

export interface SeriesView {
  series: RunSeries;
  /** Shown in legends when several runs are overlaid. */
  label: string;
}

const line = (label: string, data: Point[], color: string, extra: Partial<LineDataset> = {}): LineDataset => ({
  label,
  data,
  borderColor: color,
  backgroundColor: color,
  borderWidth: 1.5,
  pointRadius: 0,
  pointHitRadius: 4,
  tension: 0,
  spanGaps: true,
  ...extra,
});

/** Loss per step, raw (faint) and smoothed (TensorBoard's debiased EMA), per run and engine. */
export function lossDatasets(
  views: readonly SeriesView[],
  beta: number,
  buckets: number,
  positiveOnly = false,
): LineDataset[] {
  const out: LineDataset[] = [];
  let c = 0;
  for (const { series, label } of views) {
    series.engines.forEach((engine, e) => {
      const color = PALETTE[c++ % PALETTE.length];
      const ys = series.losses.get(engine)!;
      const name = views.length > 1 ? `${label} · ${engine}` : engine;
      // In lockstep the engines agree to many digits: the second is dashed so both show.
      const dash = e > 0 ? { borderDash: [6, 4] } : {};
      out.push(
        line(`${name} (raw)`, decimateMinMax(series.steps, ys, { buckets, positiveOnly }), withAlpha(color, 0.22), {
          borderWidth: 1,
          ...dash,
          legend: beta === 0,
        }),
      );
      if (beta > 0)
        out.push(
          line(
            `${name} (smoothed)`,
            decimateMinMax(series.steps, debiasedEma(ys, beta), { buckets, positiveOnly }),
            color,
            { borderWidth: 2, ...dash },
          ),
        );
    });
  }
  return out;
}

/** The epoch chart's four curves, each in its own colour: loss (circles, left axis) and accuracy (squares, right). */
export const EPOCH_CURVES: ReadonlyArray<{
  label: string;
  color: string;
  value: (p: EpochPoint) => number | undefined;
  style: Partial<LineDataset>;
}> = [
  { label: 'train loss', color: '#2563eb', value: (p) => p.trainLoss, style: { yAxisID: 'y' } },
  { label: 'dev loss', color: '#dc2626', value: (p) => p.devLoss, style: { yAxisID: 'y' } },
  {
    label: 'train acc',
    color: '#059669',
    value: (p) => p.trainAccuracy,
    style: { yAxisID: 'acc', pointStyle: 'rect' },
  },
  { label: 'dev acc', color: '#d97706', value: (p) => p.devAccuracy, style: { yAxisID: 'acc', pointStyle: 'rect' } },
];
const RUN_DASHES = [
  [6, 4],
  [2, 2],
  [10, 3, 2, 3],
];

/** Per-epoch train/dev loss (left axis) and accuracy (right axis), per run and engine. */
export function epochDatasets(views: readonly SeriesView[]): LineDataset[] {
  const out: LineDataset[] = [];
  let c = 0;
  for (const { series, label } of views) {
    for (const engine of epochEngines(series)) {
      const run = c++;
      const pts = series.epochs.filter((p) => p.engine === engine).sort((a, b) => a.epoch - b.epoch);
      const name = views.length > 1 ? `${label} · ${engine}` : engine;
      const pick = (f: (p: (typeof pts)[number]) => number | undefined): Point[] =>
        pts.flatMap((p) => {
          const y = f(p);
          return y === undefined || !Number.isFinite(y) ? [] : [{ x: p.epoch, y }];
        });
      // Each curve its own colour; a second run or engine is told apart by its dash.
      const style = { pointRadius: 2.5, ...(run > 0 ? { borderDash: RUN_DASHES[(run - 1) % RUN_DASHES.length] } : {}) };
      const prefix = views.length > 1 || epochEngines(series).length > 1 ? `${name} ` : '';
      for (const curve of EPOCH_CURVES) {
        out.push(
          line(`${name} ${curve.label}`, pick(curve.value), curve.color, {
            ...style,
            ...curve.style,
            legendText: `${prefix}${curve.label}`,
          }),
        );
      }
    }
  }
  return out;
}

/** Lockstep divergence: |loss difference| and max |weight difference| per step, for a log axis. */
export function divergenceDatasets(views: readonly SeriesView[], buckets: number): LineDataset[] {
  const out: LineDataset[] = [];
  let c = 0;
  for (const { series, label } of views) {
    const color = PALETTE[c++ % PALETTE.length];
    const name = views.length > 1 ? `${label}: ` : '';
    if (series.lossDiff.some(Number.isFinite)) {
      out.push(
        line(`${name}|Δ loss|`, decimateMinMax(series.steps, series.lossDiff, { buckets, positiveOnly: true }), color),
      );
    }
    if (series.weightDiff.some(Number.isFinite)) {
      out.push(
        line(
          `${name}max |Δ weight|`,
          decimateMinMax(series.steps, series.weightDiff, { buckets, positiveOnly: true }),
          withAlpha(color, 0.6),
          { borderDash: [5, 3] },
        ),
      );
    }
  }
  return out;
}

export function hasDivergence(views: readonly SeriesView[]): boolean {
  return views.some(({ series }) => series.engines.length >= 2 || series.weightDiff.some(Number.isFinite));
}

/** Log-axis ticks: label the powers of ten only, as 1e-4. */
function logTick(value: number | string): string {
  const v = Number(value);
  const e = Math.log10(v);
  if (Math.abs(e - Math.round(e)) > 1e-9) return '';
  return Math.round(e) === 0 ? '1' : `1e${Math.round(e)}`;
}

export function baseOptions(extra: {
  xTitle: string;
  yTitle: string;
  logY?: boolean;
  accAxis?: boolean;
  integerX?: boolean;
}): ChartOptions<'line'> {
  const grid = { color: '#eef0f4' };
  const ticks = { color: '#5b6475', font: { size: 11 } };
  const scales: ChartOptions<'line'>['scales'] = {
    x: {
      type: 'linear',
      title: { display: true, text: extra.xTitle, color: '#5b6475', font: { size: 11 } },
      grid,
      ticks: { ...ticks, maxTicksLimit: 8, ...(extra.integerX ? { precision: 0, stepSize: 1 } : {}) },
    },
    y: {
      type: extra.logY ? 'logarithmic' : 'linear',
      title: { display: true, text: extra.yTitle, color: '#5b6475', font: { size: 11 } },
      grid,
      ticks: extra.logY ? { ...ticks, callback: logTick } : { ...ticks, maxTicksLimit: 6 },
    },
  };
  if (extra.accAxis) {
    scales.acc = {
      type: 'linear',
      position: 'right',
      min: 0,
      max: 1,
      title: { display: true, text: 'accuracy', color: '#5b6475', font: { size: 11 } },
      grid: { display: false },
      ticks: { ...ticks, callback: (v) => `${Math.round(Number(v) * 100)}%` },
    };
  }
  return {
    animation: false,
    parsing: false,
    normalized: true,
    responsive: true,
    maintainAspectRatio: false,
    interaction: { mode: 'nearest', intersect: false, axis: 'x' },
    plugins: {
      legend: {
        position: 'bottom',
        labels: {
          boxWidth: 12,
          boxHeight: 2,
          font: { size: 11 },
          color: '#3b4252',
          // One entry per run and engine: the line styles are explained in the chart's header.
          generateLabels: (chart) =>
            Chart.defaults.plugins.legend.labels.generateLabels(chart).flatMap((item) => {
              const ds = chart.data.datasets[item.datasetIndex ?? 0] as LineDataset;
              if (ds.legend === false) return [];
              return [{ ...item, text: ds.legendText ?? item.text }];
            }),
        },
      },
      tooltip: { enabled: true, animation: false },
    },
    scales,
  };
}
