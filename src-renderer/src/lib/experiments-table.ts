import type { ExperimentRow, TimingPoint } from '../../../shared/protocol';

/**
 * The experiment results table's logic, as pure functions over rows: which columns it has,
 * how a column sorts (numbers as numbers, labels with their numbers in order — `hidden=10`
 * before `hidden=50` — and unknown values last whichever way), the text / part / engine
 * filter. (The best row by dev accuracy is shared/experiment's bestRow, the rule the report uses.)
 */
export type SortKey =
  | 'label'
  | 'engine'
  | 'state'
  | 'epochsDone'
  | 'params'
  | 'trainAccuracy'
  | 'devAccuracy'
  | 'evalAccuracy'
  | 'bestDevAccuracy'
  | 'msPerEpoch'
  | 'agreement';

export interface Column {
  key: SortKey;
  header: string;
  numeric: boolean;
  /** What the header's tooltip explains. */
  title: string;
}

/** What the agreement column measures and in what unit: its header's tooltip and the legend under the table. */
export const AGREEMENT_LEGEND =
  'agreement: the largest relative difference of the training loss, |L_scratch − L_tfjs| / |L_tfjs|, over every step, between ' +
  'this run and the same network on the other engine (same initial weights, same batches): a ratio without unit, ' +
  '1e-4 being the lockstep bound; – where only one engine ran.';

export const COLUMNS: readonly Column[] = [
  { key: 'label', header: 'network', numeric: false, title: 'The part and the values of the grid axes' },
  { key: 'engine', header: 'engine', numeric: false, title: 'scratch, tfjs-cpu or tfjs-wasm' },
  { key: 'state', header: 'state', numeric: false, title: 'planned, queued, running, finished, stopped or failed' },
  { key: 'epochsDone', header: 'epochs', numeric: true, title: 'Epochs done of the run’s epochs' },
  { key: 'params', header: 'params', numeric: true, title: 'Number of weights and biases' },
  { key: 'trainAccuracy', header: 'train', numeric: true, title: 'Final train accuracy' },
  { key: 'devAccuracy', header: 'dev', numeric: true, title: 'Final dev accuracy' },
  {
    key: 'evalAccuracy',
    header: 'eval',
    numeric: true,
    title: 'Final eval accuracy (when the dataset has an eval split)',
  },
  {
    key: 'bestDevAccuracy',
    header: 'best dev',
    numeric: true,
    title: 'The highest dev accuracy of any epoch, and that epoch',
  },
  { key: 'msPerEpoch', header: 'ms/epoch', numeric: true, title: 'Median training time of an epoch' },
  { key: 'agreement', header: 'agreement (rel. Δloss)', numeric: true, title: AGREEMENT_LEGEND },
];

export interface SortOrder {
  key: SortKey;
  descending: boolean;
}

export interface RowFilter {
  /** Words that must all appear (any case) in the row's label, key, engine, part, state or axis values. */
  text: string;
  /** A part's name, or '' for every part. */
  part: string;
  /** An engine id (`scratch`, `tfjs-wasm`…), or '' for every engine. */
  engine: string;
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

function sortValue(row: ExperimentRow, key: SortKey): number | string | null {
  const v = row[key];
  return typeof v === 'number' && Number.isNaN(v) ? null : v;
}

/** A sorted copy; ties keep the rows' given (plan) order, unknown values sort last both ways. */
export function sortRows(rows: readonly ExperimentRow[], order: SortOrder): ExperimentRow[] {
  const sign = order.descending ? -1 : 1;
  return rows
    .map((row, index) => ({ row, index, value: sortValue(row, order.key) }))
    .sort((a, b) => {
      if (a.value === null || b.value === null)
        return a.value === b.value ? a.index - b.index : a.value === null ? 1 : -1;
      const c =
        typeof a.value === 'number' && typeof b.value === 'number'
          ? a.value - b.value
          : collator.compare(String(a.value), String(b.value));
      return c !== 0 ? sign * c : a.index - b.index;
    })
    .map((x) => x.row);
}

/** Clicking a column: the same column flips its direction; a new one starts best-first for numbers, A→Z for text. */
export function nextOrder(current: SortOrder, key: SortKey): SortOrder {
  if (current.key === key) return { key, descending: !current.descending };
  const column = COLUMNS.find((c) => c.key === key);
  // ms/epoch and agreement are best when small: they start ascending like the text columns.
  const smallIsBest = key === 'msPerEpoch' || key === 'agreement';
  return { key, descending: !!column?.numeric && !smallIsBest };
}

function haystack(row: ExperimentRow): string {
  return [row.label, row.key, row.engine, row.part, row.state, ...Object.entries(row.axes).map(([k, v]) => `${k}=${v}`)]
    .join(' ')
    .toLowerCase();
}

export function filterRows(rows: readonly ExperimentRow[], filter: RowFilter): ExperimentRow[] {
  const words = filter.text.toLowerCase().split(/\s+/).filter(Boolean);
  return rows.filter((row) => {
    if (filter.part && row.part !== filter.part) return false;
    if (filter.engine && row.engine !== filter.engine) return false;
    if (!words.length) return true;
    const text = haystack(row);
    return words.every((w) => text.includes(w));
  });
}

/** The distinct values of a field, in first-seen order (the filter menus). */
export function distinct(rows: readonly ExperimentRow[], field: 'part' | 'engine'): string[] {
  return [...new Set(rows.map((r) => r[field]))];
}

/** Engine agreement for the table: a relative difference in scientific notation; ∞ when a run diverged. */
export function formatAgreement(v: number | null): string {
  if (v === null || Number.isNaN(v)) return '–';
  if (!Number.isFinite(v)) return '∞';
  return v === 0 ? '0' : v.toExponential(1);
}

export function formatMs(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '–';
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(3);
}

/** Rows that have ended, of all rows (the header's progress). */
export function endedCount(rows: readonly ExperimentRow[]): number {
  return rows.filter(
    (r) => r.state === 'finished' || r.state === 'stopped' || r.state === 'failed' || r.state === 'interrupted',
  ).length;
}

/** Timing points as a table: one row per timed run, one column per batch size (null where not measured yet). */
export function timingTable(points: readonly TimingPoint[]): {
  batches: number[];
  rows: Array<{ key: string; label: string; engine: string; ms: Array<number | null> }>;
} {
  const batches = [...new Set(points.map((p) => p.batch))].sort((a, b) => a - b);
  const keys = [...new Map(points.map((p) => [p.key, p])).values()];
  return {
    batches,
    rows: keys.map(({ key, label, engine }) => ({
      key,
      label,
      engine,
      ms: batches.map((b) => points.find((p) => p.key === key && p.batch === b)?.msPerIteration ?? null),
    })),
  };
}
