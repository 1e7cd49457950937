/**
 * Loader for the ee-set (UIUC ECE 544NA): 9-way spoken-consonant classification.
 *
 * Layout: `<root>/<split>/lab/<labels>.txt` lists `<label> <path>` per line, `<path>`
 * relative to the root, each naming an ASCII matrix of 16 floats per row (one row per frame).
 *
 * Problems in a labels file are the user's to fix: they throw a LockstepError naming the file,
 * line and field. Problems in a feature file only drop that example; each drop is recorded in
 * the split's report with its file, line (where there is one), reason and message.
 *
 * The parts, each in its own file:
 * - eeset-root.ts: the dataset root, its labels files, what is inside the root;
 * - eeset-labels.ts: parsing a labels file (LockstepErrors naming file, line and field);
 * - eeset-split.ts: loading one split (each dropped example recorded in its report);
 * - feature-reader.ts / feature-parser.ts: reading and parsing one feature file, exactly and
 *   without allocation per number (self-contained: their source also runs in the worker);
 *   feature-rows.wat: the parser's WebAssembly SIMD fast path for the dataset's own row format;
 * - eeset-worker.ts: the worker thread that shares a large split's files with the main thread.
 *
 * Speed (train: 5280 files, 123 MB of text), per load after the first in a process, on the
 * 2-core dev VM: 75–85 ms when it was quiet, ~300–400 ms at load average 7 (130–190 ms of CPU,
 * both threads: the kernel's open/read/close ~60, the fast path ~35, page faults and GC of the
 * split's 23 MB ~35, labels ~10). The first load also starts the worker (~30 ms of CPU).
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { LockstepError } from '../../shared/errors';
import { EE_SET_CLASSES, SPLIT_NAMES, type Dataset, type SplitName } from '../../shared/data/dataset';
import { findLabelsFile, isDirectory, makeRootContext } from './eeset-root';
import { loadSplit } from './eeset-split';
import { eesetTuning, loaderHelper } from './eeset-worker';
import { protocolOptions, type LoadOptions } from './load-options';

export { eesetTuning } from './eeset-worker';
export { EE_SET_CHANNELS, parseFeatureBytes } from './feature-parser';

export type { LoadOptions } from './load-options';

/**
 * Loads the ee-set from a dataset root (a folder holding any of `train/`, `dev/`, `eval/`) or
 * from one labels file (`<root>/<split>/lab/<file>.txt`).
 */
export async function loadEeSet(path: string, options: LoadOptions = {}): Promise<Dataset> {
  const { frames, short, splits: requested } = protocolOptions(options);

  const target = nodePath.resolve(path);
  let st: fs.Stats;
  try {
    st = fs.statSync(target);
  } catch {
    throw new LockstepError(
      'expected an ee-set dataset folder (holding train/, dev/ or eval/) or a labels file, found nothing there',
      { file: path },
    );
  }

  let root: string;
  const jobs: { split: SplitName; labelsAbs: string }[] = [];
  if (st.isDirectory()) {
    root = target;
    const present = SPLIT_NAMES.filter((s) => isDirectory(nodePath.join(root, s)));
    if (present.length === 0) {
      throw new LockstepError(
        'expected a dataset root holding at least one of train/, dev/, eval/ (each with lab/*.txt), found none of them',
        { file: path },
      );
    }
    let wanted: SplitName[] = present;
    if (requested !== undefined) {
      wanted = SPLIT_NAMES.filter((s) => requested.includes(s));
      for (const s of wanted) {
        if (!present.includes(s)) {
          throw new LockstepError(
            `expected a split folder ${s}/ in the dataset root, found only ${present.map((p) => p + '/').join(', ')}`,
            { file: path },
          );
        }
      }
    }
    for (const split of wanted) jobs.push({ split, labelsAbs: findLabelsFile(root, split) });
  } else if (!st.isFile()) {
    throw new LockstepError('expected an ee-set dataset folder or a labels file, found a special file', { file: path });
  } else {
    // <root>/<split>/lab/<file>.txt
    const splitDir = nodePath.dirname(nodePath.dirname(target));
    root = nodePath.dirname(splitDir);
    const dirName = nodePath.basename(splitDir);
    const split: SplitName = (SPLIT_NAMES as readonly string[]).includes(dirName) ? (dirName as SplitName) : 'train';
    if (requested !== undefined && !requested.includes(split)) {
      throw new LockstepError(
        `expected the labels file of a requested split (${requested.join(', ') || 'none'}), found one of the ${split} split`,
        { file: path },
      );
    }
    jobs.push({ split, labelsAbs: target });
  }

  const ctx = makeRootContext(root);
  const dataset: Dataset = {
    name: nodePath.basename(root) || root,
    classes: [...EE_SET_CLASSES],
    splits: {},
    reports: {},
  };
  eesetTuning.lastWorkerFiles = 0;
  const helper = loaderHelper();
  // Start the worker now (it takes ~30 ms to boot) if a labels file looks long enough to use it.
  const bigEnough = (p: string) => {
    try {
      return fs.statSync(p).size >= eesetTuning.workerMinFiles * 16;
    } catch {
      return false;
    }
  };
  if (jobs.some((j) => bigEnough(j.labelsAbs))) helper.available();
  for (const { split, labelsAbs } of jobs) {
    const { data, report } = await loadSplit(ctx, labelsAbs, frames, short, helper);
    dataset.splits[split] = data;
    dataset.reports[split] = report;
  }
  return dataset;
}
