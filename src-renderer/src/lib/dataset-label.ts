import type { DatasetSummary } from '../../../shared/protocol';
import { formatInt } from './format';

/** What a dataset holds, split by split: `27 train · 18 dev · 9 eval`. */
export function splitCounts(d: DatasetSummary): string {
  return (['train', 'dev', 'eval'] as const)
    .flatMap((s) => (d.splits[s] ? [`${formatInt(d.splits[s].kept)} ${s}`] : []))
    .join(' · ');
}

export function importedWhen(d: DatasetSummary): string {
  return new Date(d.importedAt).toLocaleString([], {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/** The other datasets with this one's name: two imports of one folder are both called after it. */
export function sameNamed(d: DatasetSummary, all: readonly DatasetSummary[]): DatasetSummary[] {
  return all.filter((x) => x.id !== d.id && x.name === d.name);
}

/**
 * A dataset as every menu shows it: its name and counts, and where another dataset has the
 * same name, when it was imported, so that no two entries read alike.
 */
export function datasetLabel(d: DatasetSummary, all: readonly DatasetSummary[]): string {
  const label = `${d.name} (${splitCounts(d)})`;
  return sameNamed(d, all).length ? `${label} · imported ${importedWhen(d)}` : label;
}

/** The warning for a dataset whose name another one has, or null. */
export function duplicateWarning(d: DatasetSummary, all: readonly DatasetSummary[]): string | null {
  const twins = sameNamed(d, all);
  if (!twins.length) return null;
  const same = twins.filter((x) => x.source === d.source && splitCounts(x) === splitCounts(d));
  const what = same.length
    ? `the same source and counts — it looks imported twice`
    : `different data under the same name`;
  return (
    `${twins.length === 1 ? 'Another dataset is' : `${twins.length} other datasets are`} also called “${d.name}” (${what}). ` +
    'Rename this one (or remove a copy) to tell them apart in every menu.'
  );
}
