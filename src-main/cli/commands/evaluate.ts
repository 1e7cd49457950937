import { SPLIT_NAMES, type SplitName } from '../../../shared/data/dataset';
import { LockstepError } from '../../../shared/errors';
import { evaluateSplit } from '../../../shared/train/evaluate';
import { modelInputs } from '../../../shared/train/prepare';
import { openDataset } from '../../services/datasets';
import { openModel } from '../../export/import-model';
import { required } from '../args';
import { modelEngine } from '../model-engine';
import { SPLIT_FLAGS, SPLIT_USAGE, splitPolicy } from '../split-flags';
import { pct, type Command } from '../command';

export const evaluate: Command = {
  summary: 'evaluate a checkpoint on one split of a dataset (not necessarily the one it was trained on)',
  usage: `eval --checkpoint DIR [--data PATH] [--split dev] ${SPLIT_USAGE}   (DIR: a checkpoint or a tfjs export folder)`,
  flags: { checkpoint: { type: 'string' }, data: { type: 'string' }, split: { type: 'string' }, ...SPLIT_FLAGS },
  async run(flags) {
    const f = flags as Record<string, string | undefined>;
    // A checkpoint folder, or a TensorFlow.js export folder (src-main/export).
    const model = openModel(required('checkpoint', f.checkpoint));
    const { classes, frames, channels } = model;
    const manifest = { classes, frames, channels };
    const splitName = (f.split ?? 'dev') as SplitName;
    if (!SPLIT_NAMES.includes(splitName))
      throw new LockstepError(`--split must be one of ${SPLIT_NAMES.join(', ')}, got '${f.split}'`);
    // Audio goes through the front end the model was trained through (feature-file models: the default, the ee-set's).
    const audio = model.audio ?? undefined;
    const dataset = await openDataset(f.data, { frames: manifest.frames, audio, split: splitPolicy(f) });
    const raw = dataset.splits[splitName];
    if (!raw || raw.n === 0)
      throw new LockstepError(`${f.data ?? 'demo data'}: no ${splitName} split with usable examples`);
    if (raw.channels !== manifest.channels)
      throw new LockstepError(
        `${f.data}: ${raw.channels} channels per frame, the checkpoint expects ${manifest.channels}`,
      );
    if (dataset.classes.length !== manifest.classes.length) {
      throw new LockstepError(
        `${f.data}: ${dataset.classes.length} classes, the checkpoint was trained on ${manifest.classes.length}`,
      );
    }
    const split = modelInputs(raw, model);
    const batch = 256;
    const engine = modelEngine(model, batch);
    const e = evaluateSplit(engine, split, manifest.classes.length, batch);
    const header = '     ' + manifest.classes.map((c) => c.padStart(5)).join('');
    const rows = e.confusion.map(
      (row, k) => manifest.classes[k].padStart(5) + row.map((v) => String(v).padStart(5)).join(''),
    );
    return {
      json: {
        split: splitName,
        n: e.n,
        accuracy: e.accuracy,
        loss: e.loss,
        confusion: e.confusion,
        classes: manifest.classes,
      },
      text: [
        `${splitName}: n=${e.n}, accuracy ${pct(e.accuracy)}, loss ${e.loss.toFixed(4)}`,
        'confusion (rows = true class):',
        header,
        ...rows,
      ].join('\n'),
    };
  },
};
