import * as nodePath from 'node:path';
import { DEFAULT_FRONT_END, silenceLevel } from '../../../shared/audio/logmel';
import { applyStandardization } from '../../../shared/data/standardize';
import { LockstepError } from '../../../shared/errors';
import { ClipError, clipFeatures, placeFrames } from '../../data/audio-dataset';
import { openModel } from '../../export/import-model';
import { intFlag, required } from '../args';
import { pct, type Command } from '../command';
import { modelEngine } from '../model-engine';

interface Row {
  file: string;
  /** Classes by falling probability, the first `top`. */
  top?: { class: string; probability: number }[];
  error?: string;
}

export const predict: Command = {
  summary: 'classify WAV files with a trained model, through the audio front end it was trained with',
  usage:
    'predict --checkpoint DIR --audio FILE.wav [FILE.wav …] [--top 3]   (DIR: a checkpoint or a tfjs export folder)',
  flags: { checkpoint: { type: 'string' }, audio: { type: 'string', multiple: true }, top: { type: 'string' } },
  async run(flags) {
    const model = openModel(required('checkpoint', flags.checkpoint as string | undefined));
    const files = (flags.audio as unknown as string[] | undefined) ?? [];
    if (files.length === 0) throw new LockstepError('--audio is required (one or more WAV files)');
    const top = Math.min(intFlag('top', flags.top as string | undefined, 1) ?? 3, model.classes.length);
    // A model trained on feature files meets audio through the default front end: the ee-set's recipe.
    const frontEnd = model.audio ?? DEFAULT_FRONT_END;
    if (frontEnd.filters !== model.channels) {
      throw new LockstepError(
        `the model takes ${model.channels} channels per frame; the audio front end makes ${frontEnd.filters}`,
        { file: model.dir },
      );
    }
    const engine = modelEngine(model, 1);
    const size = model.frames * model.channels;
    const probs = new Float32Array(model.classes.length);
    const rows: Row[] = [];
    for (const file of files) {
      try {
        const x = new Float32Array(size);
        placeFrames(
          await clipFeatures(nodePath.resolve(file), file, frontEnd),
          model.frames,
          silenceLevel(frontEnd),
          x,
          0,
        );
        const split = { x, y: new Int32Array(1), n: 1, frames: model.frames, channels: model.channels, ids: [file] };
        engine.predict(model.standardize ? applyStandardization(split, model.standardize).x : x, 1, probs);
        const order = [...probs.keys()].sort((a, b) => probs[b] - probs[a]);
        rows.push({ file, top: order.slice(0, top).map((k) => ({ class: model.classes[k], probability: probs[k] })) });
      } catch (e) {
        if (!(e instanceof ClipError)) throw e;
        rows.push({ file, error: e.message });
      }
    }
    const failed = rows.filter((r) => r.error !== undefined).length;
    const text = rows.map((r) =>
      r.top ? `${r.file}: ${r.top.map((t) => `${t.class} ${pct(t.probability)}`).join(', ')}` : `${r.error}`,
    );
    return {
      json: {
        checkpoint: model.dir,
        classes: model.classes,
        audio: frontEnd,
        frontEndFromModel: model.audio != null,
        rows,
      },
      text: text.join('\n'),
      exitCode: failed ? 1 : 0,
      reason: failed ? `${failed} of ${files.length} files could not be classified` : undefined,
    };
  },
};
