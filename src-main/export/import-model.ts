/**
 * Opens a trained model again, to evaluate it or keep training it: a native checkpoint folder
 * (`checkpoint.json` + weights) or a TensorFlow.js LayersModel folder (`model.json` + weight
 * files, with Lockstep's `metadata.json` beside it when Lockstep exported it).
 *
 * A tfjs export by Lockstep records the original spec (`lockstepSpec`) and how each TimeSum was
 * written (GlobalAveragePooling1D with the next Dense kernel scaled by T, or followed by a fixed
 * scaling Dense): both are undone, giving back the Lockstep network. A LayersModel from
 * elsewhere (no `lockstepSpec`) is read layer by layer when every layer has a Lockstep
 * equivalent (Conv1D, Max/AveragePooling1D, Dense, Flatten, GlobalAveragePooling1D, Dropout,
 * Activation, BatchNormalization over channels; a Sequential model, channels-last, float32 weights); its classes come from
 * metadata.json or default to the ee-set letters for 9 outputs, else '0', '1', ….
 */
import { frontEndSettings, type AudioFrontEnd } from '../../shared/audio/logmel';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { Standardization } from '../../shared/data/dataset';
import { EE_SET_CLASSES } from '../../shared/data/dataset';
import { ACTIVATIONS } from '../../shared/engine/activations';
import type { TimeSumMapping } from '../../shared/engine/layers/keras';
import { resolveSpec, type NetworkSpec, type ResolvedNetwork } from '../../shared/engine/spec';
import { LockstepError } from '../../shared/errors';
import { NO_FRONT_END, type FrontEnd } from '../../shared/data/front-end';
import { readFrontEnd, type CheckpointManifest } from '../../shared/model/checkpoint';
import { MANIFEST_FILE, readCheckpoint } from '../store/checkpoint-dir';

export const TFJS_MODEL_FILE = 'model.json';
export const TFJS_METADATA_FILE = 'metadata.json';
export const TFJS_WEIGHTS_FILE = 'weights.bin';
export const TFJS_METADATA_FORMAT = 'lockstep-tfjs-metadata';

export interface OpenedModel {
  kind: 'checkpoint' | 'tfjs';
  /** The folder it was read from. */
  dir: string;
  spec: NetworkSpec;
  /** Every tensor of the spec, by tfjs name (`conv1d_1/kernel`), in the Lockstep layout. */
  weights: Map<string, Float32Array>;
  classes: string[];
  frames: number;
  channels: number;
  /** The input normalisation before the standardisation (shared/data/front-end.ts). */
  frontEnd: FrontEnd;
  /** Inputs are `(x − mean[c]) / std[c]` before the network, or used raw (`null`). */
  standardize: Standardization | null;
  /** The audio front end it was trained through, applied again to new audio (null: trained on feature files). */
  audio?: AudioFrontEnd | null;
  /** A checkpoint's manifest (settings, metrics, engine), when the model is one. */
  manifest?: CheckpointManifest;
}

export interface TfjsMetadata {
  format: typeof TFJS_METADATA_FORMAT;
  version: 1;
  classes: string[];
  frames: number;
  channels: number;
  /** The front end, applied before the standardisation; absent in older exports (none). */
  frontEnd?: FrontEnd;
  /** The front end's formula with its parameters, for a client to reproduce. */
  frontEndFormula?: string;
  standardize: Standardization | null;
  /** The audio front end that makes its inputs from audio (null: trained on feature files). */
  audio?: AudioFrontEnd | null;
  /** How to feed the model. */
  input: string;
  /** The Lockstep spec the model was exported from (every layer named, every default filled). */
  lockstepSpec: NetworkSpec;
  timeSum: TimeSumMapping[];
  /** Lockstep layers with no tfjs layer of their own (a Flatten of an already flat input). */
  omittedLayers: string[];
}

/** The spec of a resolved network with every layer's name and options written out. */
export function explicitSpec(resolved: ResolvedNetwork): NetworkSpec {
  return { input: [...resolved.input], layers: resolved.layers.map((l) => ({ ...l.config })) };
}

/** The default class names for a model with `units` outputs. */
export function defaultModelClasses(units: number): string[] {
  return units === EE_SET_CLASSES.length ? [...EE_SET_CLASSES] : Array.from({ length: units }, (_, k) => String(k));
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new LockstepError(`expected a readable file, found ${(e as { code?: string }).code ?? String(e)}`, { file });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new LockstepError(`not valid JSON (${(e as Error).message})`, { file });
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks a standardisation read from a file. */
export function checkStandardization(
  raw: unknown,
  channels: number,
  file: string,
  field = 'standardize',
): Standardization | null {
  if (raw === null || raw === undefined) return null;
  const ok = (a: unknown, positive: boolean): a is number[] =>
    Array.isArray(a) &&
    a.length === channels &&
    a.every((v) => typeof v === 'number' && Number.isFinite(v) && (!positive || v > 0));
  if (!isRecord(raw) || !ok(raw.mean, false) || !ok(raw.std, true)) {
    throw new LockstepError(`expected null or {"mean": [${channels} numbers], "std": [${channels} numbers > 0]}`, {
      file,
      field,
    });
  }
  return { mean: [...(raw.mean as number[])], std: [...(raw.std as number[])] };
}

/** Checks an audio front end read from a file: null, or complete and valid settings. */
export function checkAudio(raw: unknown, file: string): AudioFrontEnd | null {
  if (raw === null || raw === undefined) return null;
  if (!isRecord(raw) || raw.kind !== 'log-mel') {
    throw new LockstepError('expected null or a log-mel front end {"kind": "log-mel", …}', { file, field: 'audio' });
  }
  try {
    return frontEndSettings(raw as Partial<AudioFrontEnd>);
  } catch (e) {
    throw new LockstepError((e as Error).message, { file });
  }
}

function checkClasses(raw: unknown, units: number, file: string): string[] {
  if (!Array.isArray(raw) || !raw.every((c) => typeof c === 'string') || raw.length !== units) {
    throw new LockstepError(`expected ${units} class names (one per output of the last layer)`, {
      file,
      field: 'classes',
    });
  }
  return raw as string[];
}

/** Opens a checkpoint folder or a tfjs export folder (or its checkpoint.json / model.json). */
export function openModel(path: string): OpenedModel {
  let dir = resolve(path);
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new LockstepError('no checkpoint folder here (nor a TensorFlow.js export folder): found nothing there', {
      file: path,
    });
  }
  if (st.isFile()) {
    const name = basename(dir);
    if (name !== MANIFEST_FILE && name !== TFJS_MODEL_FILE && name !== TFJS_METADATA_FILE) {
      throw new LockstepError(
        `expected a model folder, or its ${MANIFEST_FILE} or ${TFJS_MODEL_FILE}, found another file`,
        { file: path },
      );
    }
    dir = dirname(dir);
  }
  if (existsSync(join(dir, MANIFEST_FILE))) return openCheckpoint(dir);
  if (existsSync(join(dir, TFJS_MODEL_FILE))) return openTfjs(dir);
  throw new LockstepError(
    `expected a checkpoint folder (${MANIFEST_FILE}) or a TensorFlow.js export folder (${TFJS_MODEL_FILE}), found neither`,
    { file: path },
  );
}

function openCheckpoint(dir: string): OpenedModel {
  const { manifest, weights } = readCheckpoint(dir);
  const file = join(dir, MANIFEST_FILE);
  const resolved = resolveSpec(manifest.spec, manifest.classes.length);
  if (
    !Number.isSafeInteger(manifest.frames) ||
    !Number.isSafeInteger(manifest.channels) ||
    resolved.input[0] !== manifest.frames ||
    resolved.input[1] !== manifest.channels
  ) {
    throw new LockstepError(`expected frames and channels to match the spec's input [${resolved.input.join(', ')}]`, {
      file,
      field: 'frames',
    });
  }
  return {
    kind: 'checkpoint',
    dir,
    spec: manifest.spec as NetworkSpec,
    weights,
    classes: manifest.classes,
    frames: manifest.frames,
    channels: manifest.channels,
    frontEnd: readFrontEnd(manifest.frontEnd, file),
    standardize: checkStandardization(manifest.standardize, manifest.channels, file),
    audio: checkAudio(manifest.audio, file),
    manifest,
  };
}

// ---------------------------------------------------------------------------------------------
// TensorFlow.js LayersModel
// ---------------------------------------------------------------------------------------------

interface WeightSpec {
  name: string;
  shape: number[];
  dtype?: string;
}

/** Every weight of a model.json's manifest, read from its files (paths relative to the folder). */
function readTfjsWeights(
  dir: string,
  model: Record<string, unknown>,
  file: string,
): Map<string, { shape: number[]; values: Float32Array }> {
  const manifest = model.weightsManifest;
  if (!Array.isArray(manifest))
    throw new LockstepError('expected a weightsManifest array', { file, field: 'weightsManifest' });
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  manifest.forEach((group: unknown, g: number) => {
    const field = `weightsManifest[${g}]`;
    if (!isRecord(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new LockstepError('expected {"paths": [...], "weights": [...]}', { file, field });
    }
    const chunks: Buffer[] = [];
    for (const p of group.paths as unknown[]) {
      if (typeof p !== 'string' || p === '' || isAbsolute(p) || /^[A-Za-z]:|^[\\/]/.test(p))
        throw new LockstepError(`expected relative weight file paths, found ${JSON.stringify(p)}`, { file, field });
      const abs = resolve(dir, p);
      const rel = relative(dir, abs);
      if (rel.startsWith('..') || isAbsolute(rel))
        throw new LockstepError(`expected weight files inside the model folder, found ${JSON.stringify(p)}`, {
          file,
          field,
        });
      if (!existsSync(abs)) throw new LockstepError(`the weights file ${p} is missing`, { file, field });
      chunks.push(readFileSync(abs));
    }
    const bytes = Buffer.concat(chunks);
    let offset = 0;
    for (const w of group.weights as unknown[]) {
      if (
        !isRecord(w) ||
        typeof w.name !== 'string' ||
        !Array.isArray(w.shape) ||
        !w.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)
      ) {
        throw new LockstepError('expected weights {"name", "shape", "dtype"}', { file, field });
      }
      const spec = w as unknown as WeightSpec & { quantization?: unknown };
      if ((spec.dtype ?? 'float32') !== 'float32' || spec.quantization !== undefined) {
        throw new LockstepError(
          `weight ${spec.name}: expected float32 values, found ${spec.quantization !== undefined ? 'quantized ones' : `dtype ${spec.dtype}`}`,
          { file, field },
        );
      }
      const n = spec.shape.reduce((a, b) => a * b, 1);
      if (offset + n * 4 > bytes.length) {
        throw new LockstepError(
          `weight ${spec.name} needs bytes ${offset}…${offset + n * 4} of the weight files, they hold ${bytes.length}`,
          { file, field },
        );
      }
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = bytes.readFloatLE(offset + i * 4);
      offset += n * 4;
      out.set(spec.name.replace(/:0$/, ''), { shape: spec.shape, values });
    }
  });
  return out;
}

function openTfjs(dir: string): OpenedModel {
  const file = join(dir, TFJS_MODEL_FILE);
  const model = readJson(file);
  if (!isRecord(model) || !isRecord(model.modelTopology))
    throw new LockstepError('expected a TensorFlow.js LayersModel (a "modelTopology" object)', { file });
  if (model.format !== undefined && model.format !== 'layers-model') {
    throw new LockstepError(
      `expected "format": "layers-model", found ${JSON.stringify(model.format)} (a graph model cannot be opened as a network)`,
      { file, field: 'format' },
    );
  }
  const tensors = readTfjsWeights(dir, model, file);
  const metaFile = join(dir, TFJS_METADATA_FILE);
  const meta = existsSync(metaFile) ? readJson(metaFile) : null;
  if (meta !== null && !isRecord(meta)) throw new LockstepError('expected a JSON object', { file: metaFile });

  let spec: NetworkSpec;
  /** Lockstep param name → tfjs weight name. */
  let source: (name: string) => string;
  const fromLockstep = meta !== null && meta.lockstepSpec !== undefined;
  if (fromLockstep) {
    spec = meta!.lockstepSpec as NetworkSpec;
    source = (name) => name;
  } else {
    const converted = specFromTopology(model.modelTopology, file);
    spec = converted.spec;
    source = (name) => converted.weightName.get(name) ?? name;
  }
  let resolved: ResolvedNetwork;
  try {
    resolved = resolveSpec(spec);
  } catch (e) {
    throw new LockstepError(`${fromLockstep ? 'field lockstepSpec' : 'the model'}: ${(e as Error).message}`, {
      file: fromLockstep ? metaFile : file,
    });
  }
  const weights = new Map<string, Float32Array>();
  for (const p of resolved.layers.flatMap((l) => l.params)) {
    const name = source(p.name);
    const t = tensors.get(name) ?? [...tensors.entries()].find(([k]) => k.endsWith(`/${name}`))?.[1];
    if (!t)
      throw new LockstepError(`expected a weight ${name} of shape [${p.shape.join(', ')}], found none`, {
        file,
        field: 'weightsManifest',
      });
    if (t.shape.join(',') !== p.shape.join(',')) {
      throw new LockstepError(
        `expected weight ${name} of shape [${p.shape.join(', ')}], found [${t.shape.join(', ')}]`,
        { file, field: 'weightsManifest' },
      );
    }
    weights.set(p.name, Float32Array.from(t.values));
  }
  // Undo the TimeSum mapping: the Dense kernel was scaled by T on export.
  if (fromLockstep && Array.isArray(meta!.timeSum)) {
    for (const m of meta!.timeSum as TimeSumMapping[]) {
      if (!isRecord(m) || typeof m.scale !== 'number' || !(m.scale > 0))
        throw new LockstepError('expected timeSum entries {"layer", "scale", …}', { file: metaFile, field: 'timeSum' });
      if ('scaledKernel' in m) {
        const k = weights.get(m.scaledKernel);
        if (!k)
          throw new LockstepError(`expected ${m.scaledKernel} among the spec's weights`, {
            file: metaFile,
            field: 'timeSum',
          });
        for (let i = 0; i < k.length; i++) k[i] /= m.scale;
      }
    }
  }
  const [frames, channels] = resolved.input;
  const metaFileOr = meta !== null ? metaFile : file;
  if (meta !== null) {
    if (meta.frames !== undefined && meta.frames !== frames)
      throw new LockstepError(`expected frames ${frames} (the model's input), found ${JSON.stringify(meta.frames)}`, {
        file: metaFile,
        field: 'frames',
      });
    if (meta.channels !== undefined && meta.channels !== channels)
      throw new LockstepError(
        `expected channels ${channels} (the model's input), found ${JSON.stringify(meta.channels)}`,
        { file: metaFile, field: 'channels' },
      );
  }
  return {
    kind: 'tfjs',
    dir,
    spec,
    weights,
    classes:
      meta?.classes !== undefined
        ? checkClasses(meta.classes, resolved.classes, metaFileOr)
        : defaultModelClasses(resolved.classes),
    frames,
    channels,
    frontEnd: meta ? readFrontEnd(meta.frontEnd, metaFile) : NO_FRONT_END,
    standardize: meta ? checkStandardization(meta.standardize, channels, metaFile) : null,
    audio: meta ? checkAudio(meta.audio, metaFile) : null,
  };
}

/** Keras class names (and their aliases) with a Lockstep layer type. */
const KERAS_TYPES: Record<string, string> = {
  Conv1D: 'Conv1D',
  Convolution1D: 'Conv1D',
  MaxPooling1D: 'MaxPooling1D',
  MaxPool1D: 'MaxPooling1D',
  AveragePooling1D: 'AveragePooling1D',
  AvgPool1D: 'AveragePooling1D',
  Dense: 'Dense',
  Flatten: 'Flatten',
  GlobalAveragePooling1D: 'GlobalAveragePooling1D',
  GlobalAvgPool1D: 'GlobalAveragePooling1D',
  Dropout: 'Dropout',
  Activation: 'Activation',
  BatchNormalization: 'BatchNormalization',
};

/** A Lockstep spec from a Keras Sequential topology whose every layer has an equivalent. */
function specFromTopology(
  topology: Record<string, unknown>,
  file: string,
): { spec: NetworkSpec; weightName: Map<string, string> } {
  const top = isRecord(topology.model_config) ? topology.model_config : topology;
  if (top.class_name !== 'Sequential') {
    throw new LockstepError(
      `expected a Sequential model, found ${JSON.stringify(top.class_name)} (only a plain stack of layers has a Lockstep equivalent)`,
      { file, field: 'modelTopology' },
    );
  }
  const config = top.config;
  const layers = Array.isArray(config) ? config : isRecord(config) ? config.layers : undefined;
  if (!Array.isArray(layers) || layers.length === 0)
    throw new LockstepError('expected a Sequential model with layers', { file, field: 'modelTopology' });
  let input: [number, number] | null = null;
  const out: Record<string, unknown>[] = [];
  const weightName = new Map<string, string>();
  const used = new Set<string>();
  layers.forEach((raw: unknown, i: number) => {
    const field = `modelTopology.config.layers[${i}]`;
    const fail = (why: string): never => {
      throw new LockstepError(why, { file, field });
    };
    if (!isRecord(raw) || typeof raw.class_name !== 'string' || !isRecord(raw.config))
      return fail('expected {"class_name", "config"}');
    const c = raw.config;
    const kerasName = typeof c.name === 'string' ? c.name : `layer_${i + 1}`;
    const shape = (c.batch_input_shape ?? c.batch_shape) as unknown;
    if (Array.isArray(shape) && input === null) {
      if (shape.length !== 3 || !Number.isSafeInteger(shape[1]) || !Number.isSafeInteger(shape[2]))
        fail(`expected an input shape [null, time, channels], found ${JSON.stringify(shape)}`);
      input = [shape[1] as number, shape[2] as number];
    }
    if (raw.class_name === 'InputLayer') return;
    const type = KERAS_TYPES[raw.class_name];
    if (!type) fail(`layer '${kerasName}' of class ${raw.class_name} has no Lockstep equivalent`);
    if (c.data_format !== undefined && c.data_format !== null && c.data_format !== 'channels_last')
      fail(`layer '${kerasName}': expected data_format 'channels_last', found ${JSON.stringify(c.data_format)}`);
    const one = (v: unknown, key: string): number | undefined => {
      if (v === undefined || v === null) return undefined;
      const n = Array.isArray(v) && v.length === 1 ? v[0] : v;
      if (!Number.isSafeInteger(n))
        fail(`layer '${kerasName}': expected ${key} to be an integer, found ${JSON.stringify(v)}`);
      return n as number;
    };
    const activation = (v: unknown): string => {
      const a = v ?? 'linear';
      if (typeof a !== 'string' || !(ACTIVATIONS as readonly string[]).includes(a))
        fail(
          `layer '${kerasName}': activation ${JSON.stringify(a)} has no Lockstep equivalent (expected one of ${ACTIVATIONS.join(', ')})`,
        );
      return a as string;
    };
    let name = /^[A-Za-z][A-Za-z0-9_]*$/.test(kerasName) ? kerasName : `layer_${i + 1}`;
    while (used.has(name)) name += '_';
    used.add(name);
    const layer: Record<string, unknown> = { type, name };
    switch (type) {
      case 'Conv1D':
        if (c.padding === 'causal') fail(`layer '${kerasName}': padding 'causal' has no Lockstep equivalent`);
        Object.assign(layer, {
          filters: c.filters,
          kernelSize: one(c.kernel_size, 'kernel_size'),
          strides: one(c.strides, 'strides') ?? 1,
          padding: c.padding ?? 'valid',
          dilationRate: one(c.dilation_rate, 'dilation_rate') ?? 1,
          useBias: c.use_bias ?? true,
          activation: activation(c.activation),
        });
        break;
      case 'MaxPooling1D':
      case 'AveragePooling1D': {
        const poolSize = one(c.pool_size, 'pool_size') ?? 2;
        Object.assign(layer, {
          poolSize,
          strides: one(c.strides, 'strides') ?? poolSize,
          padding: c.padding ?? 'valid',
        });
        break;
      }
      case 'Dense':
        Object.assign(layer, { units: c.units, useBias: c.use_bias ?? true, activation: activation(c.activation) });
        break;
      case 'Dropout':
        layer.rate = c.rate;
        break;
      case 'Activation':
        layer.activation = activation(c.activation);
        break;
      case 'BatchNormalization': {
        const axis = Array.isArray(c.axis) && c.axis.length === 1 ? c.axis[0] : (c.axis ?? -1);
        if (axis !== -1 && axis !== 2)
          fail(`layer '${kerasName}': expected axis -1 (channels), found ${JSON.stringify(c.axis)}`);
        if (c.center === false || c.scale === false)
          fail(`layer '${kerasName}': expected center and scale (a gamma and a beta)`);
        Object.assign(layer, { momentum: c.momentum ?? 0.99, epsilon: c.epsilon ?? 1e-3 });
        break;
      }
    }
    for (const w of ['kernel', 'bias', 'gamma', 'beta', 'moving_mean', 'moving_variance'])
      weightName.set(`${name}/${w}`, `${kerasName}/${w}`);
    out.push(layer);
  });
  if (input === null)
    throw new LockstepError('expected the first layer to give batch_input_shape [null, time, channels]', {
      file,
      field: 'modelTopology',
    });
  return { spec: { input, layers: out as NetworkSpec['layers'] }, weightName };
}
