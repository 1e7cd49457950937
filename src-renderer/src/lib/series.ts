import type { EpochPoint, RunDetail, StepPoint } from '../../../shared/protocol';
import { DEFAULT_LOSS_BOUND, firstStepOver, relativeLossDiff } from '../../../shared/train/lockstep';

/**
 * A run's curves, kept as plain arrays outside Svelte's reactivity (chart.js must never see a
 * $state proxy, and 100k-step runs would make proxies slow): per-step losses per engine,
 * the divergence between engines, and per-epoch points.
 */
export interface RunSeries {
  runId: string;
  engines: string[];
  steps: number[];
  /** Per engine, aligned with `steps` (NaN where that engine reported nothing). */
  losses: Map<string, number[]>;
  /** |loss(engine A) − loss(engine B)| per step when two engines train in lockstep. */
  lossDiff: number[];
  weightDiff: number[];
  gradDiff: number[];
  epochs: EpochPoint[];
  lastStep: number;
  /** Bumped on every change, so charts can tell whether to redraw. */
  version: number;
}

export function emptySeries(runId: string): RunSeries {
  return {
    runId,
    engines: [],
    steps: [],
    losses: new Map(),
    lossDiff: [],
    weightDiff: [],
    gradDiff: [],
    epochs: [],
    lastStep: -Infinity,
    version: 0,
  };
}

/** Appends step points, skipping any already held (events can overlap a runs.get). */
export function appendSteps(series: RunSeries, points: readonly StepPoint[]): number {
  let added = 0;
  for (const p of points) {
    if (!(p.step > series.lastStep)) continue;
    const n = series.steps.length;
    for (const engine of Object.keys(p.losses)) {
      if (!series.losses.has(engine)) {
        series.engines.push(engine);
        series.losses.set(engine, new Array<number>(n).fill(NaN));
      }
    }
    series.steps.push(p.step);
    for (const engine of series.engines) {
      const v = p.losses[engine];
      series.losses.get(engine)!.push(typeof v === 'number' ? v : NaN);
    }
    const [a, b] = series.engines;
    const la = p.losses[a],
      lb = b !== undefined ? p.losses[b] : undefined;
    series.lossDiff.push(typeof la === 'number' && typeof lb === 'number' ? Math.abs(la - lb) : NaN);
    series.weightDiff.push(p.maxAbsWeightDiff ?? NaN);
    series.gradDiff.push(p.maxAbsGradDiff ?? NaN);
    series.lastStep = p.step;
    added++;
  }
  if (added) series.version++;
  return added;
}

export function appendEpochs(series: RunSeries, points: readonly EpochPoint[]): void {
  for (const p of points) {
    const i = series.epochs.findIndex((q) => q.epoch === p.epoch && q.engine === p.engine);
    if (i >= 0) series.epochs[i] = p;
    else series.epochs.push(p);
  }
  if (points.length) series.version++;
}

export function seriesFromDetail(detail: RunDetail): RunSeries {
  const s = emptySeries(detail.id);
  appendSteps(
    s,
    [...detail.steps].sort((a, b) => a.step - b.step),
  );
  appendEpochs(s, detail.epochs);
  return s;
}

/** The engines of a run's per-epoch points, in first-seen order. */
export function epochEngines(series: RunSeries): string[] {
  return [...new Set(series.epochs.map((p) => p.engine))];
}

/** Step points of `source` newer than anything in `target`, appended to it (and its epochs). */
export function mergeNewer(target: RunSeries, source: RunSeries): void {
  const points: StepPoint[] = [];
  source.steps.forEach((step, i) => {
    if (!(step > target.lastStep)) return;
    const losses: Record<string, number> = {};
    for (const e of source.engines) {
      const v = source.losses.get(e)![i];
      if (Number.isFinite(v)) losses[e] = v;
    }
    const p: StepPoint = { step, losses };
    if (Number.isFinite(source.weightDiff[i])) p.maxAbsWeightDiff = source.weightDiff[i];
    if (Number.isFinite(source.gradDiff[i])) p.maxAbsGradDiff = source.gradDiff[i];
    points.push(p);
  });
  appendSteps(target, points);
  appendEpochs(
    target,
    source.epochs.filter((p) => !target.epochs.some((q) => q.epoch === p.epoch && q.engine === p.engine)),
  );
}

export interface LockstepVerdict {
  /** The engines compared: the reference (the first to report) and the candidate. */
  engines: [string, string];
  bound: number;
  steps: number;
  /** The largest relative loss difference of any step (Infinity where a loss is NaN). */
  maxRelLossDiff: number;
  /** The first step over the bound, or null when every step agrees. */
  firstStepOver: number | null;
}

/**
 * A lockstep run's verdict from its per-step losses, judged as `compare` judges them: every
 * step's relative loss difference within the bound (the engines agree), or the first step over it.
 * Null for a run of one engine.
 */
export function lockstepVerdict(series: RunSeries, bound = DEFAULT_LOSS_BOUND): LockstepVerdict | null {
  const [reference, candidate] = series.engines;
  if (candidate === undefined || !series.steps.length) return null;
  const a = series.losses.get(reference)!,
    b = series.losses.get(candidate)!;
  const diffs = a.map((la, i) => relativeLossDiff(la, b[i]));
  const maxRelLossDiff = diffs.reduce((m, d) => (Number.isNaN(d) ? Infinity : Math.max(m, d)), 0);
  return {
    engines: [reference, candidate],
    bound,
    steps: diffs.length,
    maxRelLossDiff,
    firstStepOver: firstStepOver(diffs, bound),
  };
}
