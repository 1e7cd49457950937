import { median } from '../median';
import { relativeLossDiff } from '../train/lockstep';
import type { EpochPoint, ExperimentRow, RunSummary, SplitResult } from '../protocol';
import type { TrainingSettings } from '../train/settings';
import type { NetworkSpecJson, PlannedRun } from './grid';

/** Everything the report needs of one run: its row, network, settings, curves and final results. */
export interface RunRecord {
  row: ExperimentRow;
  spec: NetworkSpecJson;
  settings: TrainingSettings;
  epochs: EpochPoint[];
  /** The training loss of every step, in order. */
  stepLosses: number[];
  results: Partial<Record<'train' | 'dev' | 'eval', SplitResult>>;
}

export function plannedRow(run: PlannedRun, params: number): ExperimentRow {
  return {
    key: run.key,
    cell: run.cell,
    part: run.part,
    label: run.label,
    axes: { ...run.axes },
    engine: run.engineId,
    runId: null,
    state: 'planned',
    params,
    epochs: run.settings.epochs,
    epochsDone: 0,
    trainAccuracy: null,
    devAccuracy: null,
    evalAccuracy: null,
    bestDevEpoch: null,
    bestDevAccuracy: null,
    msPerEpoch: null,
    agreement: null,
  };
}

const finiteOrNull = (v: number | undefined | null): number | null =>
  v === undefined || v === null || !Number.isFinite(v) ? null : v;

/** A row brought up to date from its run's summary and epoch points. */
export function rowFromRun(row: ExperimentRow, run: RunSummary, epochs: EpochPoint[]): ExperimentRow {
  let best: EpochPoint | null = null;
  for (const p of epochs) if (p.devAccuracy !== undefined && (!best || p.devAccuracy > best.devAccuracy!)) best = p;
  const next: ExperimentRow = {
    ...row,
    runId: run.id,
    state: run.state,
    params: run.params,
    epochsDone: run.epochsDone,
    trainAccuracy: finiteOrNull(run.results?.train?.accuracy),
    devAccuracy: finiteOrNull(run.results?.dev?.accuracy),
    evalAccuracy: finiteOrNull(run.results?.eval?.accuracy),
    bestDevEpoch: best?.epoch ?? null,
    bestDevAccuracy: best?.devAccuracy ?? null,
    msPerEpoch: epochs.length ? median(epochs.map((p) => p.ms)) : null,
  };
  if (run.error) next.error = run.error;
  else delete next.error;
  return next;
}

/**
 * How far two runs of the same network and batches drift apart: the largest per-step
 * relative loss difference over the steps both ran (relativeLossDiff, as a lockstep run
 * measures it); a NaN on either side counts as infinitely far. NaN when no step is shared.
 */
export function maxRelativeLossDiff(reference: readonly number[], candidate: readonly number[]): number {
  const n = Math.min(reference.length, candidate.length);
  if (!n) return NaN;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const d = relativeLossDiff(reference[i], candidate[i]);
    if (!(d <= max)) max = Number.isNaN(d) ? Infinity : d;
  }
  return max;
}

/** The per-step relative differences themselves, for the agreement figure. */
export function relativeLossDiffs(reference: readonly number[], candidate: readonly number[]): number[] {
  const n = Math.min(reference.length, candidate.length);
  return Array.from({ length: n }, (_, i) => relativeLossDiff(reference[i], candidate[i]));
}

/** The scratch run of each cell paired with each of the cell's tfjs runs, both with steps. */
export function agreementPairs(records: readonly RunRecord[]): Array<{ reference: RunRecord; candidate: RunRecord }> {
  const pairs: Array<{ reference: RunRecord; candidate: RunRecord }> = [];
  for (const reference of records) {
    if (reference.row.engine !== 'scratch' || !reference.stepLosses.length) continue;
    for (const candidate of records) {
      if (
        candidate.row.cell === reference.row.cell &&
        candidate.row.engine !== 'scratch' &&
        candidate.stepLosses.length
      )
        pairs.push({ reference, candidate });
    }
  }
  return pairs;
}

/** Sets each row's `agreement`: its largest drift from the cell's run(s) on the other engine. */
export function withAgreement(records: readonly RunRecord[]): void {
  for (const { reference, candidate } of agreementPairs(records)) {
    const d = maxRelativeLossDiff(reference.stepLosses, candidate.stepLosses);
    candidate.row.agreement = d;
    reference.row.agreement = reference.row.agreement === null ? d : Math.max(reference.row.agreement, d);
  }
}

/** The row with the highest final dev accuracy (train accuracy where no row has dev), or null. */
export function bestRow(rows: readonly ExperimentRow[]): ExperimentRow | null {
  const score = (r: ExperimentRow): number | null =>
    rows.some((x) => x.devAccuracy !== null) ? r.devAccuracy : r.trainAccuracy;
  let best: ExperimentRow | null = null;
  for (const r of rows) {
    const s = score(r);
    if (s !== null && (best === null || s > score(best)!)) best = r;
  }
  return best;
}
