import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AudioFrontEnd } from '../../shared/audio/logmel';
import { SPLIT_NAMES, type Dataset, type SplitName } from '../../shared/data/dataset';
import { demoDataset } from '../../shared/data/demo';
import { LockstepError } from '../../shared/errors';
import type { DatasetSummary, SplitSummary } from '../../shared/protocol';
import { DEFAULT_SETTINGS } from '../../shared/train/settings';
import { fsyncDir, writeFileDurable } from '../store/atomic';
import { encodeSplits, readSplitExample } from '../store/split-file';
import { openDataset } from './datasets';

/**
 * The datasets the app remembers. Each import is loaded once through the protocol (first
 * `DEFAULT_SETTINGS.frames` frames, short examples dropped) and stored as
 * `<root>/<id>/data.bin` (a split file: the kept examples as float32) beside
 * `<root>/<id>/dataset.json` (the summary the UI shows). Both are written into a hidden
 * temporary folder that is renamed into place, so a dataset folder is complete or absent.
 * The built-in demo dataset (`demoDataset()`, id `demo`) is always listed and never stored.
 */
export const DEMO_ID = 'demo';
const SUMMARY_FILE = 'dataset.json';
const DATA_FILE = 'data.bin';
const FORMAT = 'lockstep-dataset';
/** The dropped examples listed per split in a summary (the counts stay exact). */
const MAX_DROPPED_LISTED = 500;

/** Where a run's worker finds a dataset's examples. */
export type DatasetRef =
  | { kind: 'demo'; name: string }
  | { kind: 'stored'; name: string; classes: string[]; file: string; audio?: AudioFrontEnd };

interface StoredSummary {
  format: typeof FORMAT;
  version: 1;
  summary: DatasetSummary;
}

export function summarizeDataset(dataset: Dataset, meta: { id: string; name: string; source: string; importedAt: string }): DatasetSummary {
  const present = SPLIT_NAMES.map((s) => dataset.splits[s]).find((s) => s !== undefined);
  const splits: DatasetSummary['splits'] = {};
  for (const name of SPLIT_NAMES) {
    const report = dataset.reports[name];
    if (!report) continue;
    const summary: SplitSummary = {
      listed: report.listed,
      kept: report.kept,
      dropped: { ...report.dropped },
      droppedExamples: report.droppedExamples.slice(0, MAX_DROPPED_LISTED).map((d) => ({ ...d })),
      classCounts: [...report.classCounts],
    };
    splits[name] = summary;
  }
  return {
    ...meta,
    classes: [...dataset.classes],
    frames: present?.frames ?? 0,
    channels: present?.channels ?? 0,
    splits,
    ...(dataset.audio ? { audio: dataset.audio } : {}),
  };
}

export class DatasetLibrary {
  private readonly summaries = new Map<string, DatasetSummary>();
  private demo: { dataset: Dataset; summary: DatasetSummary } | null = null;
  private readonly startedAt = new Date().toISOString();

  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true });
    for (const name of readdirSync(root)) {
      const dir = join(root, name);
      if (name.startsWith('.tmp-')) {
        rmSync(dir, { recursive: true, force: true }); // an import that never finished
        continue;
      }
      try {
        const raw = JSON.parse(readFileSync(join(dir, SUMMARY_FILE), 'utf8')) as StoredSummary;
        if (raw?.format !== FORMAT || raw.version !== 1 || raw.summary?.id !== name || !existsSync(join(dir, DATA_FILE))) {
          throw new Error('not a Lockstep dataset folder');
        }
        this.summaries.set(name, raw.summary);
      } catch (e) {
        console.warn(`lockstep: skipping the dataset folder ${dir}: ${(e as Error).message}`);
      }
    }
  }

  private demoEntry(): { dataset: Dataset; summary: DatasetSummary } {
    if (!this.demo) {
      const dataset = demoDataset();
      this.demo = { dataset, summary: summarizeDataset(dataset, { id: DEMO_ID, name: 'demo', source: 'built-in', importedAt: this.startedAt }) };
    }
    return this.demo;
  }

  /** The demo first, then the imports, oldest first. */
  list(): DatasetSummary[] {
    const stored = [...this.summaries.values()].sort((a, b) => a.importedAt.localeCompare(b.importedAt) || a.id.localeCompare(b.id));
    return [this.demoEntry().summary, ...stored];
  }

  get(id: string): DatasetSummary {
    if (id === DEMO_ID) return this.demoEntry().summary;
    const summary = this.summaries.get(id);
    if (!summary) throw new LockstepError(`no dataset with id '${id}' (it may have been removed)`);
    return summary;
  }

  ref(id: string): DatasetRef {
    const summary = this.get(id);
    if (id === DEMO_ID) return { kind: 'demo', name: summary.name };
    const file = join(this.root, id, DATA_FILE);
    return { kind: 'stored', name: summary.name, classes: [...summary.classes], file, audio: summary.audio };
  }

  /**
   * Loads a dataset from a path (whatever `openDataset` reads) through the protocol and stores
   * it. `name` defaults to the dataset's own (its folder's name); `source` to the path.
   */
  async importPath(path: string, options: { name?: string; source?: string } = {}): Promise<DatasetSummary> {
    const dataset = await openDataset(path, { frames: DEFAULT_SETTINGS.frames });
    return this.store(dataset, { name: options.name ?? dataset.name, source: options.source ?? path });
  }

  /** Stores a loaded dataset under a new id (atomically: a complete folder or none). */
  store(dataset: Dataset, meta: { name: string; source: string }): DatasetSummary {
    const kept = SPLIT_NAMES.reduce((n, s) => n + (dataset.splits[s]?.n ?? 0), 0);
    if (kept === 0) {
      const dropped = SPLIT_NAMES.flatMap((s) => dataset.reports[s]?.droppedExamples ?? []);
      const first = dropped[0];
      throw new LockstepError(
        `dataset ${meta.name}: no usable examples (${dropped.length} listed, all dropped by the protocol` +
          (first ? `; the first: ${first.file}${first.line ? ` line ${first.line}` : ''}: ${first.message})` : ')'),
      );
    }
    const id = `ds-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const summary = summarizeDataset(dataset, { id, name: meta.name.slice(0, 256), source: meta.source, importedAt: new Date().toISOString() });
    const temp = join(this.root, `.tmp-${id}`);
    mkdirSync(temp, { recursive: true });
    try {
      writeFileDurable(join(temp, DATA_FILE), encodeSplits(dataset.splits));
      const stored: StoredSummary = { format: FORMAT, version: 1, summary };
      writeFileDurable(join(temp, SUMMARY_FILE), JSON.stringify(stored, null, 1));
      fsyncDir(temp);
      renameSync(temp, join(this.root, id));
      fsyncDir(this.root);
    } catch (e) {
      rmSync(temp, { recursive: true, force: true });
      throw e;
    }
    this.summaries.set(id, summary);
    return summary;
  }

  /** Forgets an imported dataset and deletes its files; the demo cannot be removed. */
  remove(id: string): boolean {
    if (id === DEMO_ID || !this.summaries.has(id)) return false;
    this.summaries.delete(id);
    rmSync(join(this.root, id), { recursive: true, force: true });
    return true;
  }

  /** One example's raw (unstandardised) frames × channels, for the heatmap. */
  example(id: string, split: SplitName, index: number): { id: string; label: number; frames: number; channels: number; values: number[] } {
    const summary = this.get(id);
    const fail = (): never => {
      const n = summary.splits[split]?.kept ?? 0;
      throw new LockstepError(n ? `dataset ${summary.name}: the ${split} split holds examples 0–${n - 1}, not ${index}` : `dataset ${summary.name} has no ${split} examples`);
    };
    if (id === DEMO_ID) {
      const s = this.demoEntry().dataset.splits[split];
      if (!s || index >= s.n) return fail();
      const size = s.frames * s.channels;
      return { id: s.ids[index], label: s.y[index], frames: s.frames, channels: s.channels, values: Array.from(s.x.subarray(index * size, (index + 1) * size)) };
    }
    const found = readSplitExample(join(this.root, id, DATA_FILE), split, index);
    if (!found) return fail();
    return { id: found.id, label: found.label, frames: found.frames, channels: found.channels, values: Array.from(found.values) };
  }
}
