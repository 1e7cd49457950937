/**
 * Export to a TensorFlow.js LayersModel that a stock `tf.loadLayersModel` loads with no custom
 * classes: `model.json` (format 'layers-model', a Keras Sequential topology with
 * `batch_input_shape [null, T, C]`, and the weights manifest), `weights.bin` (every weight,
 * float32 little-endian, in manifest order), and Lockstep's `metadata.json` beside them
 * (classes, frames, channels, the input standardisation, the original Lockstep spec).
 *
 * Layer by layer: Conv1D, MaxPooling1D, AveragePooling1D, Dense, Dropout, Activation,
 * BatchNormalization (gamma, beta, moving_mean, moving_variance), GlobalAveragePooling1D and Flatten are themselves (activations keep their Keras names; the
 * last Dense's 'softmax' is the model's output). TimeSum, Σ_t x[t,c], has no stock layer: it is
 * written as GlobalAveragePooling1D, (1/T) Σ_t x[t,c], and the next Dense kernel is multiplied
 * by T (its bias is unchanged), which gives the same logits; Dropout, a flat Flatten or a linear
 * Activation in between change nothing. When a non-linear Activation comes first, a fixed Dense
 * layer (`<name>_scale`, kernel T·I, no bias) follows the pooling instead. A Flatten of an input
 * that is already flat is left out (tfjs's Flatten wants a 3-D input). metadata.json records
 * every such mapping, so `openModel` gives back the exact Lockstep network.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Standardization } from '../../shared/data/dataset';
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
  type TimeSumMapping,
} from './import-model';
import { writeFolderAtomic } from './write';

export const GENERATED_BY = 'Lockstep (src-main/export/tfjs.ts)';

export interface KerasLayer {
  class_name: string;
  config: Record<string, unknown>;
}

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

const GLOROT = { class_name: 'GlorotUniform', config: { seed: null } };
const ZEROS = { class_name: 'Zeros', config: {} };
const ONES = { class_name: 'Ones', config: {} };
const NO_EXTRAS = { kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null };

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
export function buildTfjsExport(model: Pick<OpenedModel, 'spec' | 'weights' | 'classes' | 'standardize' | 'frontEnd'>): TfjsExport {
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
    if (v.length !== n) throw new LockstepError(`${name} has ${v.length} values, expected ${n} for shape [${shape.join(', ')}]`);
    weightSpecs.push({ name, shape, dtype: 'float32' });
    values.push(v);
  };
  const common = (name: string) => ({ name, trainable: true, dtype: 'float32' });

  resolved.layers.forEach((layer, i) => {
    const c = layer.config;
    let keras: KerasLayer | null = null;
    switch (c.type) {
      case 'Conv1D':
        keras = {
          class_name: 'Conv1D',
          config: {
            ...common(c.name),
            filters: c.filters,
            kernel_size: [c.kernelSize],
            strides: [c.strides],
            padding: c.padding,
            data_format: 'channels_last',
            dilation_rate: [c.dilationRate],
            activation: c.activation,
            use_bias: c.useBias,
            kernel_initializer: GLOROT,
            bias_initializer: ZEROS,
            ...NO_EXTRAS,
          },
        };
        break;
      case 'MaxPooling1D':
      case 'AveragePooling1D':
        keras = { class_name: c.type, config: { ...common(c.name), pool_size: [c.poolSize], strides: [c.strides], padding: c.padding } };
        break;
      case 'Dense':
        keras = {
          class_name: 'Dense',
          config: { ...common(c.name), units: c.units, activation: c.activation, use_bias: c.useBias, kernel_initializer: GLOROT, bias_initializer: ZEROS, ...NO_EXTRAS },
        };
        break;
      case 'Flatten':
        if (layer.inputShape.length === 1) omittedLayers.push(c.name);
        else keras = { class_name: 'Flatten', config: { ...common(c.name), data_format: 'channels_last' } };
        break;
      case 'GlobalAveragePooling1D':
        keras = { class_name: 'GlobalAveragePooling1D', config: common(c.name) };
        break;
      case 'TimeSum': {
        keras = { class_name: 'GlobalAveragePooling1D', config: common(c.name) };
        const T = layer.inputShape[0];
        // Fold the factor T into the next Dense kernel if only linear, per-feature layers come between.
        let j = i + 1;
        while (j < resolved.layers.length) {
          const n = resolved.layers[j].config;
          if (n.type === 'Dropout' || n.type === 'Flatten' || (n.type === 'Activation' && n.activation === 'linear')) j++;
          else break;
        }
        const next = resolved.layers[j]?.config;
        if (next?.type === 'Dense') {
          scaleKernel.set(next.name, (scaleKernel.get(next.name) ?? 1) * T);
          timeSum.push({ layer: c.name, exportedAs: 'GlobalAveragePooling1D', scale: T, scaledKernel: `${next.name}/kernel` });
        } else {
          const C = layer.outputShape[0];
          const scaleName = `${c.name}_scale`;
          layers.push(keras);
          keras = {
            class_name: 'Dense',
            config: { ...common(scaleName), trainable: false, units: C, activation: 'linear', use_bias: false, kernel_initializer: GLOROT, bias_initializer: ZEROS, ...NO_EXTRAS },
          };
          const k = new Float32Array(C * C);
          for (let d = 0; d < C; d++) k[d * C + d] = T;
          addWeight(`${scaleName}/kernel`, [C, C], k);
          timeSum.push({ layer: c.name, exportedAs: 'GlobalAveragePooling1D', scale: T, scaleLayer: scaleName });
        }
        break;
      }
      case 'Dropout':
        keras = { class_name: 'Dropout', config: { ...common(c.name), rate: c.rate, noise_shape: null, seed: null } };
        break;
      case 'Activation':
        keras = { class_name: 'Activation', config: { ...common(c.name), activation: c.activation } };
        break;
      case 'BatchNormalization':
        keras = {
          class_name: 'BatchNormalization',
          config: {
            ...common(c.name),
            axis: -1,
            momentum: c.momentum,
            epsilon: c.epsilon,
            center: true,
            scale: true,
            beta_initializer: ZEROS,
            gamma_initializer: ONES,
            moving_mean_initializer: ZEROS,
            moving_variance_initializer: ONES,
            beta_regularizer: null,
            gamma_regularizer: null,
            beta_constraint: null,
            gamma_constraint: null,
          },
        };
        break;
    }
    if (keras === null) return;
    if (layers.length === 0) keras.config = { batch_input_shape: [null, frames, channels], ...keras.config };
    layers.push(keras);
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
    modelTopology: { class_name: 'Sequential', config: { name: 'lockstep', layers }, keras_version: 'tfjs-layers 4.22.0', backend: 'tensor_flow.js' },
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
  if (existsSync(out) && !statSync(out).isDirectory()) throw new LockstepError('expected a folder to write the TensorFlow.js model into, found a file', { file: dest });
  mkdirSync(dirname(out), { recursive: true });
  writeFolderAtomic(out, [
    [TFJS_WEIGHTS_FILE, weightData],
    [TFJS_METADATA_FILE, JSON.stringify(metadata, null, 1) + '\n'],
    [TFJS_MODEL_FILE, JSON.stringify(modelJson) + '\n'],
  ]);
  return [TFJS_MODEL_FILE, TFJS_WEIGHTS_FILE, TFJS_METADATA_FILE].map((f) => join(out, f));
}
