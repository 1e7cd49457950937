import { describe, expect, it } from 'vitest';
import type { EpochPoint, RunSummary } from '../protocol';
import { COURSE_EXPERIMENT } from './course';
import { expandExperiment } from './grid';
import {
  bestRow,
  maxRelativeLossDiff,
  plannedRow,
  relativeLossDiffs,
  rowFromRun,
  withAgreement,
  type RunRecord,
} from './results';

const plan = expandExperiment(COURSE_EXPERIMENT);

describe('engine agreement', () => {
  it('is the largest per-step |a − b| / |b| over the steps both ran; NaN counts as infinitely far', () => {
    expect(maxRelativeLossDiff([2, 1, 0.5], [2, 1.001, 0.5, 9])).toBeCloseTo(0.001 / 1.001, 15);
    expect(relativeLossDiffs([1, 3], [2, 3])).toEqual([0.5, 0]);
    expect(maxRelativeLossDiff([1, NaN], [1, 1])).toBe(Infinity);
    expect(maxRelativeLossDiff([], [1])).toBeNaN();
  });
});

function record(i: number, devAcc: number[], losses: number[]): RunRecord {
  const run = plan.runs[i];
  const epochs: EpochPoint[] = devAcc.map((d, k) => ({
    epoch: k + 1,
    engine: run.engineId,
    trainLoss: 2 - k * 0.1,
    trainAccuracy: 0.5,
    devAccuracy: d,
    devLoss: 1.9,
    ms: [30, 10, 20][k % 3],
  }));
  const summary = {
    id: `run-${i}`,
    state: 'finished',
    params: 123,
    epochsDone: epochs.length,
    results: {
      train: { n: 4, loss: 1, accuracy: 0.75, confusion: [] },
      dev: { n: 2, loss: 1, accuracy: devAcc[devAcc.length - 1], confusion: [] },
    },
  } as unknown as RunSummary;
  const row = rowFromRun(plannedRow(run, 0), summary, epochs);
  return { row, spec: run.spec, settings: run.settings, epochs, stepLosses: losses, results: summary.results! };
}

describe('rows', () => {
  it("take the run's results, its best dev epoch and its median epoch time", () => {
    const r = record(0, [0.3, 0.5, 0.4], [1]).row;
    expect(r).toMatchObject({
      runId: 'run-0',
      state: 'finished',
      params: 123,
      epochsDone: 3,
      trainAccuracy: 0.75,
      devAccuracy: 0.4,
      evalAccuracy: null,
      bestDevEpoch: 2,
      bestDevAccuracy: 0.5,
      msPerEpoch: 20,
    });
  });

  it("get the agreement of their cell's scratch and tfjs runs, and the best is the highest dev accuracy", () => {
    const records = [
      record(0, [0.4], [2, 1]),
      record(1, [0.41], [2, 1.1]),
      record(2, [0.6], [3, 2]),
      record(3, [0.2], []),
    ];
    withAgreement(records);
    const d = Math.abs(1 - 1.1) / 1.1;
    expect(records.map((r) => r.row.agreement)).toEqual([d, d, null, null]);
    expect(bestRow(records.map((r) => r.row))?.key).toBe(plan.runs[2].key);
    expect(bestRow([])).toBeNull();
  });
});
