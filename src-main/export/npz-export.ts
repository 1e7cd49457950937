/**
 * Export to a NumPy `.npz` (a STORE zip of `.npy` v1.0 arrays, as `np.savez` writes; no pickles,
 * so `np.load(path)` reads it with `allow_pickle=False`):
 *
 *   `<layer>.kernel`, `<layer>.bias`   float32, one pair per Conv1D / Dense layer, in the Lockstep
 *                                      (= tfjs / Keras) layout: Conv1D kernel [kernelSize, in, filters],
 *                                      Dense kernel [in, units]; `conv1d_1.kernel`, `dense_2.bias`, …
 *   `<layer>.gamma`, `<layer>.beta`, `<layer>.moving_mean`, `<layer>.moving_variance`
 *                                      float32 [channels], per BatchNormalization layer:
 *                                      y = gamma · (x − moving_mean) / √(moving_variance + epsilon) + beta
 *   `classes`                          unicode [classes]
 *   `standardize_mean`, `standardize_std`
 *                                      float32 [channels]: inputs are (x − mean) / std per channel
 *                                      (zeros and ones when the model was trained on raw inputs)
 *   `front_end_json`                   unicode, 0-d: the front end applied to the features before the
 *                                      standardisation, as JSON (`{"normalize": "none"}`, `"utteranceMean"`, or
 *                                      `"pcen"` with its parameters `smoothing`, `alpha`, `delta`, `root`, `epsilon`)
 *   `front_end_formula`                unicode, 0-d: that front end's formula with its parameters, in words
 *   `spec_json`                        unicode, 0-d: the Lockstep spec, every layer named and every
 *                                      option written out (`json.loads(str(z['spec_json']))`)
 *   `audio_json`                       unicode, 0-d: the audio front end the model was trained through
 *                                      (`shared/audio/logmel.ts`), or `null` for feature files
 *
 * Weights are exactly the Lockstep ones, named as the layers' descriptors name them.
 */
import { frontEndFormula } from '../../shared/data/front-end';
import { resolveSpec } from '../../shared/engine/spec';
import { LockstepError } from '../../shared/errors';
import { encodeNpz, npyFloat32, npyUnicode } from '../data/npz';
import { explicitSpec, type OpenedModel } from './import-model';
import { exportModelFile } from './write';

/** The `.npz` bytes for a model. */
export function buildNpzExport(
  model: Pick<OpenedModel, 'spec' | 'weights' | 'classes' | 'standardize' | 'audio' | 'frontEnd'>,
): Uint8Array {
  const resolved = resolveSpec(model.spec, model.classes.length);
  const channels = resolved.input[1];
  const arrays: [string, Uint8Array][] = [];
  for (const p of resolved.layers.flatMap((l) => l.params)) {
    const w = model.weights.get(p.name);
    if (!w) throw new LockstepError(`the model has no values for ${p.name}`);
    arrays.push([p.name.replace('/', '.'), npyFloat32(p.shape, w)]);
  }
  const s = model.standardize;
  arrays.push(
    ['classes', npyUnicode(model.classes)],
    ['standardize_mean', npyFloat32([channels], s ? s.mean : new Array<number>(channels).fill(0))],
    ['standardize_std', npyFloat32([channels], s ? s.std : new Array<number>(channels).fill(1))],
    ['front_end_json', npyUnicode([JSON.stringify(model.frontEnd)], true)],
    ['front_end_formula', npyUnicode([frontEndFormula(model.frontEnd)], true)],
    ['spec_json', npyUnicode([JSON.stringify(explicitSpec(resolved))], true)],
    ['audio_json', npyUnicode([JSON.stringify(model.audio ?? null)], true)],
  );
  return encodeNpz(arrays);
}

/** Writes a model (see `openModel`) as one `.npz` file at `dest`, atomically; returns [dest]. */
export async function exportNpz(source: string, dest: string): Promise<string[]> {
  return exportModelFile(source, dest, '.npz', buildNpzExport);
}
