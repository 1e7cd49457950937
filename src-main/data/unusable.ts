import { SPLIT_NAMES, type Dataset } from '../../shared/data/dataset';
import { LockstepError } from '../../shared/errors';

/**
 * The refusal of a dataset with no example kept in any split (inspect and every import say the
 * same): names the labels files when they list nothing, else the first dropped example and why.
 */
export function noUsableExamples(dataset: Dataset, name: string): LockstepError {
  const reports = SPLIT_NAMES.flatMap((s) => dataset.reports[s] ?? []);
  const listed = reports.reduce((n, r) => n + r.listed, 0);
  if (listed === 0) {
    const files = reports.flatMap((r) => r.labelsFile ?? []);
    const lists = files.length === 1 ? 'lists' : 'list';
    const where = files.length === 0 ? 'no split lists any' : `${files.join(', ')} ${lists} none`;
    return new LockstepError(`dataset ${name}: no usable examples (${where})`);
  }
  const first = reports.flatMap((r) => r.droppedExamples)[0];
  return new LockstepError(
    `dataset ${name}: no usable examples (${listed} listed, all dropped by the protocol` +
      (first ? `; the first: ${first.file}${first.line ? ` line ${first.line}` : ''}: ${first.message})` : ')'),
  );
}
