import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AudioFrontEnd } from '../../shared/audio/logmel';
import { SPLIT_NAMES, type Dataset, type SplitName } from '../../shared/data/dataset';
import { demoDataset } from '../../shared/data/demo';
import { LockstepError } from '../../shared/errors';
import type { DatasetSummary, SplitSummary } from '../../shared/protocol';
import { DEFAULT_SETTINGS } from '../../shared/train/settings';
import { noUsableExamples } from '../data/unusable';
import { fsyncDir, writeFileAtomic, writeFileDurable } from '../store/atomic';
import { encodeSplits, readSplitExample } from '../store/split-file';
import { importInWorker } from './dataset-import';
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

export function summarizeDataset(
  dataset: Dataset,
  meta: { id: string; name: string; source: string; importedAt: string },
): DatasetSummary {
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

/** One import's work, as the import worker does it (see DatasetLibrary.importPath). */
export interface ImportJob {
  path: string;
  frames: number;
  /** The folder to write (absent before): data.bin and dataset.json. */
  folder: string;
  /** `name` undefined: the dataset's own. */
  meta: { id: string; name?: string; source: string; importedAt: string };
}

/** Loads `job.path` through the protocol and writes its dataset folder; refuses a dataset with no usable example. */
export async function importIntoFolder(job: ImportJob): Promise<DatasetSummary> {
  const dataset = await openDataset(job.path, { frames: job.frames });
  const name = job.meta.name ?? dataset.name;
  if (SPLIT_NAMES.every((s) => (dataset.splits[s]?.n ?? 0) === 0)) throw noUsableExamples(dataset, name);
  const summary = summarizeDataset(dataset, { ...job.meta, name: name.slice(0, 256) });
  mkdirSync(job.folder, { recursive: true });
  writeFileDurable(join(job.folder, DATA_FILE), encodeSplits(dataset.splits));
  const stored: StoredSummary = { format: FORMAT, version: 1, summary };
  writeFileDurable(join(job.folder, SUMMARY_FILE), JSON.stringify(stored, null, 1));
  fsyncDir(job.folder);
  return summary;
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
        if (
          raw?.format !== FORMAT ||
          raw.version !== 1 ||
          raw.summary?.id !== name ||
          !existsSync(join(dir, DATA_FILE))
        ) {
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
      this.demo = {
        dataset,
        summary: summarizeDataset(dataset, {
          id: DEMO_ID,
          name: 'demo',
          source: 'built-in',
          importedAt: this.startedAt,
        }),
      };
    }
    return this.demo;
  }

  /** The demo first, then the imports, oldest first. */
  list(): DatasetSummary[] {
    const stored = [...this.summaries.values()].sort(
      (a, b) => a.importedAt.localeCompare(b.importedAt) || a.id.localeCompare(b.id),
    );
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
   * it. `name` defaults to the dataset's own (its folder's name); `source` to the path. The
   * loading and writing run in a worker thread (dataset-import.ts), so the host keeps answering;
   * the finished folder is then renamed into place (a complete folder or none).
   */
  async importPath(path: string, options: { name?: string; source?: string } = {}): Promise<DatasetSummary> {
    const id = `ds-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const folder = join(this.root, `.tmp-${id}`);
    try {
      const summary = await importInWorker({
        path,
        frames: DEFAULT_SETTINGS.frames,
        folder,
        meta: { id, name: options.name, source: options.source ?? path, importedAt: new Date().toISOString() },
      });
      renameSync(folder, join(this.root, id));
      fsyncDir(this.root);
      this.summaries.set(id, summary);
      return summary;
    } catch (e) {
      rmSync(folder, { recursive: true, force: true });
      throw e;
    }
  }

  /** Renames an imported dataset, on disk too; the demo keeps its name, and no two datasets share one. */
  rename(id: string, name: string): DatasetSummary {
    const summary = this.get(id);
    if (id === DEMO_ID) throw new LockstepError('the built-in demo dataset cannot be renamed');
    const taken = this.list().find((d) => d.id !== id && d.name === name);
    if (taken) {
      throw new LockstepError(`a dataset is already called ${name} (imported ${taken.importedAt}); pick another name`);
    }
    const renamed = { ...summary, name };
    const stored: StoredSummary = { format: FORMAT, version: 1, summary: renamed };
    writeFileAtomic(join(this.root, id, SUMMARY_FILE), JSON.stringify(stored, null, 1));
    this.summaries.set(id, renamed);
    return renamed;
  }

  /** Forgets an imported dataset and deletes its files; the demo cannot be removed. */
  remove(id: string): boolean {
    if (id === DEMO_ID || !this.summaries.has(id)) return false;
    this.summaries.delete(id);
    rmSync(join(this.root, id), { recursive: true, force: true });
    return true;
  }

  /** One example's raw (unstandardised) frames × channels, for the heatmap. */
  example(
    id: string,
    split: SplitName,
    index: number,
  ): { id: string; label: number; frames: number; channels: number; values: number[] } {
    const summary = this.get(id);
    const fail = (): never => {
      const n = summary.splits[split]?.kept ?? 0;
      throw new LockstepError(
        n
          ? `dataset ${summary.name}: the ${split} split holds examples 0–${n - 1}, not ${index}`
          : `dataset ${summary.name} has no ${split} examples`,
      );
    };
    if (id === DEMO_ID) {
      const s = this.demoEntry().dataset.splits[split];
      if (!s || index >= s.n) return fail();
      const size = s.frames * s.channels;
      return {
        id: s.ids[index],
        label: s.y[index],
        frames: s.frames,
        channels: s.channels,
        values: Array.from(s.x.subarray(index * size, (index + 1) * size)),
      };
    }
    const found = readSplitExample(join(this.root, id, DATA_FILE), split, index);
    if (!found) return fail();
    return {
      id: found.id,
      label: found.label,
      frames: found.frames,
      channels: found.channels,
      values: Array.from(found.values),
    };
  }
}
