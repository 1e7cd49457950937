import { describe, expect, it } from 'vitest';
import type { ExperimentRow } from '../../../shared/protocol';
import { row } from './experiments-test-rows';
import {
  distinct,
  endedCount,
  filterRows,
  formatAgreement,
  formatMs,
  nextOrder,
  sortRows,
  timingTable,
} from './experiments-table';

const rows: ExperimentRow[] = [
  row({
    key: 'a',
    label: 'fnn hidden=50 activation=tanh',
    axes: { hidden: '50', activation: 'tanh' },
    devAccuracy: 0.4,
    msPerEpoch: 90,
    state: 'finished',
  }),
  row({
    key: 'b',
    label: 'fnn hidden=10 activation=tanh',
    axes: { hidden: '10', activation: 'tanh' },
    engine: 'tfjs-wasm',
    devAccuracy: 0.45,
    msPerEpoch: 120,
    state: 'finished',
  }),
  row({ key: 'c', label: 'tdnn output=sum', part: 'tdnn', axes: { output: 'sum' }, state: 'running' }),
  row({
    key: 'd',
    label: 'fnn hidden=10 activation=relu',
    axes: { hidden: '10', activation: 'relu' },
    devAccuracy: 0.4,
    msPerEpoch: 80,
    state: 'failed',
  }),
];
const keys = (rs: readonly ExperimentRow[]): string[] => rs.map((r) => r.key);

describe('sortRows', () => {
  it('sorts numbers numerically both ways, unknown values last either way, ties in plan order', () => {
    expect(keys(sortRows(rows, { key: 'devAccuracy', descending: true }))).toEqual(['b', 'a', 'd', 'c']);
    expect(keys(sortRows(rows, { key: 'devAccuracy', descending: false }))).toEqual(['a', 'd', 'b', 'c']);
    expect(keys(sortRows(rows, { key: 'msPerEpoch', descending: false }))).toEqual(['d', 'a', 'b', 'c']);
  });
  it('sorts labels with their numbers in order (10 before 50)', () => {
    expect(keys(sortRows(rows, { key: 'label', descending: false }))).toEqual(['d', 'b', 'a', 'c']);
    expect(keys(sortRows(rows, { key: 'label', descending: true }))).toEqual(['c', 'a', 'b', 'd']);
  });
  it('treats NaN as unknown and leaves its input alone', () => {
    const withNaN = [row({ key: 'x', agreement: NaN }), row({ key: 'y', agreement: 1e-6 })];
    expect(keys(sortRows(withNaN, { key: 'agreement', descending: false }))).toEqual(['y', 'x']);
    expect(keys(withNaN)).toEqual(['x', 'y']);
  });
});

describe('nextOrder', () => {
  it('flips the same column, starts accuracies high-first and times and agreement low-first', () => {
    expect(nextOrder({ key: 'label', descending: false }, 'label')).toEqual({ key: 'label', descending: true });
    expect(nextOrder({ key: 'label', descending: false }, 'devAccuracy')).toEqual({
      key: 'devAccuracy',
      descending: true,
    });
    expect(nextOrder({ key: 'label', descending: false }, 'msPerEpoch')).toEqual({
      key: 'msPerEpoch',
      descending: false,
    });
    expect(nextOrder({ key: 'devAccuracy', descending: true }, 'agreement')).toEqual({
      key: 'agreement',
      descending: false,
    });
    expect(nextOrder({ key: 'devAccuracy', descending: true }, 'engine')).toEqual({ key: 'engine', descending: false });
  });
});

describe('filterRows', () => {
  it('needs every word somewhere in the row, any case, axis=value included', () => {
    expect(keys(filterRows(rows, { text: 'TANH', part: '', engine: '' }))).toEqual(['a', 'b']);
    expect(keys(filterRows(rows, { text: 'tanh hidden=10', part: '', engine: '' }))).toEqual(['b']);
    expect(keys(filterRows(rows, { text: 'running', part: '', engine: '' }))).toEqual(['c']);
    expect(keys(filterRows(rows, { text: '  ', part: '', engine: '' }))).toEqual(['a', 'b', 'c', 'd']);
  });
  it('filters by part and engine, combined with the text', () => {
    expect(keys(filterRows(rows, { text: '', part: 'tdnn', engine: '' }))).toEqual(['c']);
    expect(keys(filterRows(rows, { text: '', part: 'fnn', engine: 'scratch' }))).toEqual(['a', 'd']);
    expect(keys(filterRows(rows, { text: 'relu', part: 'fnn', engine: 'tfjs-wasm' }))).toEqual([]);
  });
  it('lists the parts and engines in first-seen order', () => {
    expect(distinct(rows, 'part')).toEqual(['fnn', 'tdnn']);
    expect(distinct(rows, 'engine')).toEqual(['scratch', 'tfjs-wasm']);
  });
});

describe('formatting', () => {
  it('shows agreement in scientific notation, ∞ for a diverged pair, – when unknown', () => {
    expect(formatAgreement(3.14159e-7)).toBe('3.1e-7');
    expect(formatAgreement(0)).toBe('0');
    expect(formatAgreement(Infinity)).toBe('∞');
    expect(formatAgreement(null)).toBe('–');
    expect(formatAgreement(NaN)).toBe('–');
  });
  it('shows ms per epoch with three digits, whole above 100', () => {
    expect(formatMs(12.345)).toBe('12.3');
    expect(formatMs(1234.5)).toBe('1,235');
    expect(formatMs(null)).toBe('–');
  });
  it('counts the rows that have ended', () => {
    expect(endedCount(rows)).toBe(3);
  });
});

describe('timingTable', () => {
  it('makes one row per timed run and one column per batch size, gaps where not measured yet', () => {
    const p = (key: string, engine: string, batch: number, msPerIteration: number) => ({
      key,
      label: key.split('_')[0],
      engine,
      batch,
      msPerIteration,
      steps: 30,
    });
    const table = timingTable([
      p('h10_scratch', 'scratch', 10, 1.5),
      p('h10_scratch', 'scratch', 1, 0.5),
      p('h10_tfjs', 'tfjs-wasm', 1, 2),
      p('h10_scratch', 'scratch', 50, 6),
    ]);
    expect(table.batches).toEqual([1, 10, 50]);
    expect(table.rows).toEqual([
      { key: 'h10_scratch', label: 'h10', engine: 'scratch', ms: [0.5, 1.5, 6] },
      { key: 'h10_tfjs', label: 'h10', engine: 'tfjs-wasm', ms: [2, null, null] },
    ]);
  });
});
