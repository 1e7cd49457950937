import type { PlannedRun } from '../../../shared/experiment/grid';
import { plannedRow } from '../../../shared/experiment/results';
import type { ExperimentRow } from '../../../shared/protocol';

/** A results-table row for the tests: a planned 3-epoch scratch run of part fnn with 100 params, unless told otherwise. */
export function row(over: Partial<ExperimentRow> & { key: string }): ExperimentRow {
  const run = {
    key: over.key,
    cell: over.key,
    part: 'fnn',
    label: over.key,
    axes: {},
    engineId: 'scratch',
    settings: { epochs: 3 },
  } as unknown as PlannedRun;
  return { ...plannedRow(run, 100), ...over };
}
