/**
 * Export to a TensorFlow.js LayersModel that a stock `tf.loadLayersModel` loads with no custom
 * classes: `model.json` (format 'layers-model', a Keras Sequential topology with
 * `batch_input_shape [null, T, C]`, and the weights manifest), `weights.bin` (every weight,
 * float32 little-endian, in manifest order), and Lockstep's `metadata.json` beside them
 * (classes, frames, channels, the input standardisation, the original Lockstep spec).
 *
 * Layer by layer, each as its descriptor writes it (shared/engine/layers/): mostly the Keras layer
 * of the same name (activations keep their Keras names; the last Dense's 'softmax' is the model's
 * output). A layer type with no stock Keras layer is written as equivalent stock layers, and
 * metadata.json records every such mapping, so `openModel` gives back the exact Lockstep network.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Standardization } from '../../shared/data/dataset';
import type { KerasContext } from '../../shared/engine/layers/descriptor';
import type { KerasLayer, TimeSumMapping } from '../../shared/engine/layers/keras';
import { descriptorOf } from '../../shared/engine/layers/registry';
import { frontEndFormula, NO_FRONT_END, type FrontEnd } from '../../shared/data/front-end';
import { resolveSpec, type ResolvedNetwork } from '../../shared/engine/spec';
import { LockstepError } from '../../shared/errors';
import {
  TFJS_METADATA_FILE,
  TFJS_METADATA_FORMAT,
  TFJS_MODEL_FILE,
  TFJS_WEIGHTS_FILE,
  explicitSpec,
  openModel,
  type OpenedModel,
  type TfjsMetadata,
} from './import-model';
import { writeFolderAtomic } from './write';

export const GENERATED_BY = 'Lockstep (src-main/export/tfjs.ts)';

export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
}

export interface TfjsModelJson {
  format: 'layers-model';
  generatedBy: string;
  convertedBy: null;
  modelTopology: {
    class_name: 'Sequential';
    config: { name: string; layers: KerasLayer[] };
    keras_version: string;
    backend: string;
  };
  weightsManifest: { paths: string[]; weights: TfjsWeightSpec[] }[];
}

export interface TfjsExport {
  modelJson: TfjsModelJson;
  /** The bytes of weights.bin. */
  weightData: Uint8Array;
  metadata: TfjsMetadata;
}

/** What the exported model's inputs are, in words (metadata.json's `input`). */
export function inputDescription(
  frames: number,
  channels: number,
  standardize: Standardization | null,
  frontEnd: FrontEnd = NO_FRONT_END,
): string {
  const front = frontEnd.normalize === 'none' ? '' : 'the front end (frontEndFormula) applied first, then ';
  return standardize
    ? `float32 [batch, ${frames}, ${channels}] (frames × channels, channels last), ${front}each value standardised: (x - mean[c]) / std[c]`
    : `float32 [batch, ${frames}, ${channels}] (frames × channels, channels last), ${front || 'raw '}(no standardisation)`;
}

/** Builds model.json, weights.bin and metadata.json for a network and its weights. */
export function buildTfjsExport(
  model: Pick<OpenedModel, 'spec' | 'weights' | 'classes' | 'standardize' | 'audio' | 'frontEnd'>,
): TfjsExport {
  const resolved: ResolvedNetwork = resolveSpec(model.spec, model.classes.length);
  const [frames, channels] = resolved.input;
  const layers: KerasLayer[] = [];
  const weightSpecs: TfjsWeightSpec[] = [];
  const values: Float32Array[] = [];
  const timeSum: TimeSumMapping[] = [];
  const omittedLayers: string[] = [];
  /** Dense kernels to multiply by a TimeSum's length, by Dense layer name. */
  const scaleKernel = new Map<string, number>();

  const weight = (name: string): Float32Array => {
    const w = model.weights.get(name);
    if (!w) throw new LockstepError(`the model has no values for ${name}`);
    return w;
  };
  const addWeight = (name: string, shape: number[], v: Float32Array) => {
    const n = shape.reduce((a, b) => a * b, 1);
    if (v.length !== n)
      throw new LockstepError(`${name} has ${v.length} values, expected ${n} for shape [${shape.join(', ')}]`);
    weightSpecs.push({ name, shape, dtype: 'float32' });
    values.push(v);
  };

  const context: Omit<KerasContext, 'index'> = {
    layers: resolved.layers,
    addWeight,
    scaleKernel: (layerName, factor) => scaleKernel.set(layerName, (scaleKernel.get(layerName) ?? 1) * factor),
    recordTimeSum: (mapping) => timeSum.push(mapping),
  };
  resolved.layers.forEach((layer, index) => {
    const c = layer.config;
    const keras = descriptorOf(c.type).keras(layer, { ...context, index });
    if (keras.length === 0) omittedLayers.push(c.name);
    for (const k of keras) {
      if (layers.length === 0) k.config = { batch_input_shape: [null, frames, channels], ...k.config };
      layers.push(k);
    }
    for (const p of layer.params) {
      let v = weight(p.name);
      const scale = p.name.endsWith('/kernel') ? scaleKernel.get(c.name) : undefined;
      if (scale !== undefined) v = Float32Array.from(v, (x) => x * scale);
      addWeight(p.name, p.shape, v);
    }
  });

  const total = values.reduce((n, v) => n + v.length, 0);
  const all = new Float32Array(total);
  let at = 0;
  for (const v of values) {
    all.set(v, at);
    at += v.length;
  }
  const weightData = new Uint8Array(total * 4);
  const view = new DataView(weightData.buffer);
  for (let k = 0; k < total; k++) view.setFloat32(k * 4, all[k], true);

  const modelJson: TfjsModelJson = {
    format: 'layers-model',
    generatedBy: GENERATED_BY,
    convertedBy: null,
    modelTopology: {
      class_name: 'Sequential',
      config: { name: 'lockstep', layers },
      keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js',
    },
    weightsManifest: [{ paths: [TFJS_WEIGHTS_FILE], weights: weightSpecs }],
  };
  const metadata: TfjsMetadata = {
    format: TFJS_METADATA_FORMAT,
    version: 1,
    classes: [...model.classes],
    frames,
    channels,
    frontEnd: model.frontEnd,
    frontEndFormula: frontEndFormula(model.frontEnd),
    standardize: model.standardize ? { mean: [...model.standardize.mean], std: [...model.standardize.std] } : null,
    audio: model.audio ?? null,
    input: inputDescription(frames, channels, model.standardize, model.frontEnd),
    lockstepSpec: explicitSpec(resolved),
    timeSum,
    omittedLayers,
  };
  return { modelJson, weightData, metadata };
}

/**
 * Writes a model (a checkpoint or tfjs export folder, see `openModel`) as a tfjs LayersModel
 * folder at `dest`; returns the files written (model.json last, so it is whole once it is there).
 */
export async function exportTfjs(source: string, dest: string): Promise<string[]> {
  const model = openModel(source);
  const { modelJson, weightData, metadata } = buildTfjsExport(model);
  const out = resolve(dest);
  if (existsSync(out) && !statSync(out).isDirectory())
    throw new LockstepError('expected a folder to write the TensorFlow.js model into, found a file', { file: dest });
  mkdirSync(dirname(out), { recursive: true });
  writeFolderAtomic(out, [
    [TFJS_WEIGHTS_FILE, weightData],
    [TFJS_METADATA_FILE, JSON.stringify(metadata, null, 1) + '\n'],
    [TFJS_MODEL_FILE, JSON.stringify(modelJson) + '\n'],
  ]);
  return [TFJS_MODEL_FILE, TFJS_WEIGHTS_FILE, TFJS_METADATA_FILE].map((f) => join(out, f));
}
