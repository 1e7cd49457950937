/**
 * Export to ONNX (one `.onnx` file, opset 13; see shared/onnx): the network takes
 * `input` `[batch, frames, channels]` float32, standardised as `(x − mean[c]) / std[c]`, and
 * gives `probabilities` `[batch, classes]`. The front end is recorded in metadata_props, each
 * value JSON: `classes`, `frames`, `channels`, `frontEnd` and `frontEndFormula` (the input
 * normalisation applied before the standardisation, shared/data/front-end.ts), `standardize`
 * (`{mean, std}` or null), `audio` (the audio front end, or null for feature files) and
 * `lockstepSpec` (the spec, every layer named and every option written out).
 */
import { frontEndFormula } from '../../shared/data/front-end';
import { resolveSpec } from '../../shared/engine/spec';
import { buildOnnxModel } from '../../shared/onnx/model';
import { explicitSpec, type OpenedModel } from './import-model';
import { exportModelFile } from './write';

const DOC =
  "Lockstep network. Feed input [batch, frames, channels] float32, passed through metadata 'frontEndFormula' " +
  "and then standardised per channel as (x - mean[c]) / std[c] with metadata 'standardize' (raw if null); " +
  'probabilities [batch, classes] ' +
  "follow metadata 'classes'.";

/** The `.onnx` bytes for a model. */
export function buildOnnxExport(
  model: Pick<OpenedModel, 'spec' | 'weights' | 'classes' | 'standardize' | 'frontEnd' | 'audio'>,
): Uint8Array {
  const resolved = resolveSpec(model.spec, model.classes.length);
  const [frames, channels] = resolved.input;
  const metadata: Array<[string, unknown]> = [
    ['classes', model.classes],
    ['frames', frames],
    ['channels', channels],
    ['frontEnd', model.frontEnd],
    ['frontEndFormula', frontEndFormula(model.frontEnd)],
    ['standardize', model.standardize ? { mean: model.standardize.mean, std: model.standardize.std } : null],
    ['audio', model.audio ?? null],
    ['lockstepSpec', explicitSpec(resolved)],
  ];
  return buildOnnxModel(resolved, {
    weights: model.weights,
    docString: DOC,
    metadata: metadata.map(([key, value]) => [key, JSON.stringify(value)]),
  });
}

/** Writes a model (see `openModel`) as one `.onnx` file at `dest`, atomically; returns [dest]. */
export async function exportOnnx(source: string, dest: string): Promise<string[]> {
  return exportModelFile(source, dest, '.onnx', buildOnnxExport);
}
