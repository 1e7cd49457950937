import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { SPLIT_NAMES, type Dataset } from '../../shared/data/dataset';
import { demoDataset } from '../../shared/data/demo';
import { LockstepError } from '../../shared/errors';
import {
  archiveKind,
  findDatasetRoot,
  visibleEntries,
  withExtractedArchive,
  type ArchiveLimits,
} from '../data/archive';
import type { AudioFrontEnd } from '../../shared/audio/logmel';
import { isAudioDatasetFolder, type SplitPolicy } from '../data/audio-clips';
import { loadAudioDataset } from '../data/audio-dataset';
import { loadCsvDataset } from '../data/csv';
import { loadEeSet } from '../data/eeset';
import { loadNpzDataset, stemOf } from '../data/npz';

export interface DatasetOptions {
  frames?: number;
  short?: 'drop' | 'pad';
  /**
   * Bounds on archives and .npz files (expanded bytes, entries). Default 1 GiB for archives (on
   * disk), 128 MiB for .npz (in memory); 200 000 entries.
   */
  limits?: Partial<ArchiveLimits>;
  /** Audio datasets: the front end's settings (a model's own, to compute what it was trained on). */
  audio?: Partial<AudioFrontEnd>;
  /** Audio folders without split folders: the seeded split's dev fraction and seed. */
  split?: SplitPolicy;
}

export type DatasetFormat = 'course' | 'archive' | 'npz' | 'csv';

/** The format `openDataset` reads a path as, from its extension (a folder or anything else: the course layout). */
export function datasetFormat(path: string): DatasetFormat {
  const p = path.toLowerCase();
  if (archiveKind(p) !== null) return 'archive';
  if (p.endsWith('.npz')) return 'npz';
  if (p.endsWith('.csv')) return 'csv';
  return 'course';
}

const isDir = (p: string): boolean => {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/**
 * A dataset from a path, or the built-in demo without one:
 * - a course-layout root folder or one labels file (`src-main/data/eeset.ts`);
 * - a `.zip`, `.tar.gz` / `.tgz` or `.tar` of a course-layout folder (or of one `.csv` / `.npz`),
 *   extracted safely into a temp folder (`src-main/data/archive.ts`);
 * - a NumPy `.npz` (`src-main/data/npz.ts`) or a `.csv` (`src-main/data/csv.ts`);
 * - a folder (or archive) of class folders of WAV files (`src-main/data/audio-dataset.ts`).
 */
export async function openDataset(path: string | undefined, options: DatasetOptions = {}): Promise<Dataset> {
  if (path === undefined) return demoDataset(options.frames);
  const load = { frames: options.frames, short: options.short };
  const audioLoad = { frames: options.frames, audio: options.audio, ...options.split };
  switch (datasetFormat(path)) {
    case 'npz':
      return loadNpzDataset(path, { ...load, limits: options.limits });
    case 'csv':
      return loadCsvDataset(path, load);
    case 'archive':
      return withExtractedArchive(path, options.limits, async (dir) => {
        const isRoot = (d: string) => SPLIT_NAMES.some((s) => isDir(nodePath.join(d, s))) || isAudioDatasetFolder(d);
        const root = findDatasetRoot(dir, isRoot);
        let dataset: Dataset;
        if (isAudioDatasetFolder(root)) {
          dataset = await loadAudioDataset(root, audioLoad);
        } else if (SPLIT_NAMES.some((s) => isDir(nodePath.join(root, s)))) {
          dataset = await loadEeSet(root, load);
        } else {
          // An archive of one .csv or .npz reads as that file.
          const files = visibleEntries(root).filter((e) => e.isFile() && /\.(csv|npz)$/i.test(e.name));
          const items = visibleEntries(root);
          if (files.length === 1 && items.length === 1) {
            const inner = nodePath.join(root, files[0].name);
            dataset = inner.toLowerCase().endsWith('.npz')
              ? await loadNpzDataset(inner, { ...load, limits: options.limits })
              : await loadCsvDataset(inner, load);
          } else {
            throw new LockstepError(
              'expected the archive to hold a course-layout dataset (train/, dev/ or eval/ folders, possibly inside one wrapping folder) or a single .csv or .npz, found neither',
              { file: path },
            );
          }
        }
        return { ...dataset, name: stemOf(path) };
      });
    default:
      if (isAudioDatasetFolder(path)) return loadAudioDataset(path, audioLoad);
      return loadEeSet(path, load);
  }
}
