import type { AudioFrontEnd } from '../audio/logmel';
import type { Standardization } from '../data/dataset';
import { NO_FRONT_END, parseFrontEnd, type FrontEnd } from '../data/front-end';
import { LockstepError } from '../errors';
import type { OptimizerState } from '../engine/optimizers';
import { resolveSpec } from '../engine/spec';
import type { TrainingEngine } from '../train/engine';
import type { PreparedData } from '../train/prepare';
import { resolveSettings, type TrainingSettings } from '../train/settings';
import type { EpochRecord } from '../train/trainer';

/**
 * The native checkpoint: `checkpoint.json` (this manifest) beside one float32 little-endian
 * weights file holding every tensor back to back in manifest order. Everything needed to
 * predict (spec, classes, standardisation) or to keep training (settings, metrics) is here.
 */
export const CHECKPOINT_FORMAT = 'lockstep-checkpoint';
export const CHECKPOINT_VERSION = 1;

export interface TensorEntry {
  name: string;
  shape: number[];
  /** Offset in float32 elements from the start of the weights file. */
  offset: number;
}

export interface CheckpointManifest {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  createdAt: string;
  spec: unknown;
  classes: string[];
  frames: number;
  channels: number;
  /** The input normalisation before the standardisation; absent in older checkpoints, which read as none. */
  frontEnd?: FrontEnd;
  standardize: Standardization | null;
  /** The audio front end the model's features came from (null or absent: trained on feature files). */
  audio?: AudioFrontEnd | null;
  settings: TrainingSettings;
  engine: string;
  metrics: EpochRecord[];
  weightsFile: string;
  tensors: TensorEntry[];
  /**
   * The scratch optimizer's state after the last epoch, to keep training from it: its scalars, and
   * its buffers stored after the tensors in the weights file (offsets in float32 elements).
   */
  optimizerState?: { scalars: number[]; buffers: Array<{ offset: number; length: number }> };
}

export interface Checkpoint {
  manifest: CheckpointManifest;
  weights: Map<string, Float32Array>;
  optimizerState?: OptimizerState;
}

/** Lays the weights (then an optimizer's buffers) out in one buffer and fills in the manifest's tables. */
export function packWeights(
  weights: ReadonlyMap<string, Float32Array>,
  shapes: ReadonlyMap<string, number[]>,
  optimizerState?: OptimizerState,
): { tensors: TensorEntry[]; bytes: Uint8Array; optimizerState?: CheckpointManifest['optimizerState'] } {
  let total = 0;
  const tensors: TensorEntry[] = [];
  for (const [name, values] of weights) {
    tensors.push({ name, shape: shapes.get(name) ?? [values.length], offset: total });
    total += values.length;
  }
  const buffers = (optimizerState?.buffers ?? []).map((b) => {
    const entry = { offset: total, length: b.length };
    total += b.length;
    return entry;
  });
  const all = new Float32Array(total);
  for (const t of tensors) all.set(weights.get(t.name)!, t.offset);
  optimizerState?.buffers.forEach((b, i) => all.set(b, buffers[i].offset));
  const packed = { tensors, bytes: littleEndianBytes(all) };
  return optimizerState ? { ...packed, optimizerState: { scalars: [...optimizerState.scalars], buffers } } : packed;
}

function littleEndianBytes(a: Float32Array): Uint8Array {
  const bytes = new Uint8Array(a.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < a.length; i++) view.setFloat32(i * 4, a[i], true);
  return bytes;
}

/** Reads a manifest's tensors (and optimizer state) back out of the weights file's bytes, checking every size. */
type Unpacked = Omit<Checkpoint, 'manifest'>;

export function unpackWeights(manifest: CheckpointManifest, bytes: Uint8Array, file: string): Unpacked {
  if (bytes.byteLength % 4 !== 0)
    throw new LockstepError(`the weights file holds ${bytes.byteLength} bytes, not a whole number of float32s`, {
      file,
    });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const available = bytes.byteLength / 4;
  const read = (what: string, offset: number, length: number): Float32Array => {
    if (offset + length > available) {
      const needs = `float32s ${offset}…${offset + length}`;
      throw new LockstepError(`${what} needs ${needs}, the file holds ${available}`, { file });
    }
    const values = new Float32Array(length);
    for (let i = 0; i < length; i++) values[i] = view.getFloat32((offset + i) * 4, true);
    return values;
  };
  const weights = new Map<string, Float32Array>();
  for (const t of manifest.tensors) {
    weights.set(
      t.name,
      read(
        `tensor ${t.name}`,
        t.offset,
        t.shape.reduce((a, b) => a * b, 1),
      ),
    );
  }
  const saved = manifest.optimizerState;
  if (!saved) return { weights };
  const buffers = saved.buffers.map((b, i) => read(`optimizer buffer ${i}`, b.offset, b.length));
  return { weights, optimizerState: { scalars: [...saved.scalars], buffers } };
}

/** A name that stays inside its folder: no separators, not '.' or '..', no leading dot (temp files). */
export function isPlainFileName(name: unknown): name is string {
  return typeof name === 'string' && /^[\w-][\w.-]{0,199}$/.test(name);
}

/** Checks a parsed checkpoint.json: its format, its spec, and that its tensors match the spec. */
export function validateManifest(raw: unknown, file: string): CheckpointManifest {
  const m = raw as Partial<CheckpointManifest> | null;
  const found = (v: unknown): string => JSON.stringify(v) ?? String(v);
  const fail = (message: string): never => {
    throw new LockstepError(message, { file });
  };
  if (!m || typeof m !== 'object' || m.format !== CHECKPOINT_FORMAT)
    fail(`not a Lockstep checkpoint (expected "format": "${CHECKPOINT_FORMAT}")`);
  if (m!.version !== CHECKPOINT_VERSION)
    fail(`checkpoint version ${JSON.stringify(m!.version)} is not supported (expected ${CHECKPOINT_VERSION})`);
  if (!Array.isArray(m!.classes) || !m!.classes.every((c) => typeof c === 'string'))
    fail('field classes: expected an array of class names');
  if (!isPlainFileName(m!.weightsFile)) {
    fail(`field weightsFile: expected the name of a file in the checkpoint folder, found ${found(m!.weightsFile)}`);
  }
  let resolved;
  try {
    resolved = resolveSpec(m!.spec, m!.classes!.length);
  } catch (e) {
    fail(`field spec: ${(e as Error).message}`);
  }
  const [frames, channels] = resolved!.input;
  if (m!.frames !== frames) fail(`field frames: expected ${frames} (the spec's input), found ${found(m!.frames)}`);
  if (m!.channels !== channels) {
    fail(`field channels: expected ${channels} (the spec's input), found ${found(m!.channels)}`);
  }
  if (typeof m!.settings !== 'object' || m!.settings === null) fail('field settings: expected an object of settings');
  try {
    resolveSettings(m!.settings!);
  } catch (e) {
    fail(`field settings: ${(e as Error).message}`);
  }
  if (!Array.isArray(m!.metrics)) fail('field metrics: expected an array of epoch records');
  const state = m!.optimizerState;
  const count = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
  if (
    state !== undefined &&
    (typeof state !== 'object' ||
      state === null ||
      !Array.isArray(state.scalars) ||
      !state.scalars.every((v) => Number.isFinite(v)) ||
      !Array.isArray(state.buffers) ||
      !state.buffers.every((b) => b && count(b.offset) && count(b.length)))
  ) {
    fail('field optimizerState: expected {"scalars": [numbers], "buffers": [{"offset": n, "length": n}]}');
  }
  const expected = resolved!.layers.flatMap((l) => l.params);
  const tensors = m!.tensors;
  if (!Array.isArray(tensors) || tensors.length !== expected.length)
    fail(`field tensors: expected ${expected.length} tensors for this spec`);
  expected.forEach((p, i) => {
    const t = tensors![i];
    if (
      !t ||
      t.name !== p.name ||
      JSON.stringify(t.shape) !== JSON.stringify(p.shape) ||
      !Number.isInteger(t.offset) ||
      t.offset < 0
    ) {
      fail(`field tensors[${i}]: expected ${p.name} of shape [${p.shape.join(', ')}]`);
    }
  });
  return { ...(m as CheckpointManifest), frontEnd: readFrontEnd(m!.frontEnd, file) };
}

/** A `frontEnd` field read from a file (a checkpoint manifest, an export's metadata), checked; absent (older files): none. */
export function readFrontEnd(raw: unknown, file: string): FrontEnd {
  if (raw === undefined) return NO_FRONT_END;
  const parsed = parseFrontEnd(raw);
  if (!parsed.ok) throw new LockstepError(`field ${parsed.message}`, { file });
  return parsed.frontEnd;
}

/** A trained engine's checkpoint, ready to write: the manifest (less its weights file name) and the weights' bytes. */
export function buildCheckpoint(run: {
  spec: unknown;
  data: PreparedData;
  settings: TrainingSettings;
  engine: TrainingEngine;
  metrics: EpochRecord[];
  /** Kept to resume training from (the scratch engine's). */
  optimizerState?: OptimizerState;
}): { manifest: Omit<CheckpointManifest, 'weightsFile'>; bytes: Uint8Array } {
  const shapes = new Map(
    resolveSpec(run.spec)
      .layers.flatMap((l) => l.params)
      .map((p) => [p.name, p.shape]),
  );
  const { tensors, bytes, optimizerState } = packWeights(run.engine.getWeights(), shapes, run.optimizerState);
  const manifest = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    createdAt: new Date().toISOString(),
    spec: run.spec,
    classes: run.data.classes,
    frames: run.data.train.frames,
    channels: run.data.train.channels,
    frontEnd: run.data.frontEnd,
    standardize: run.data.standardization,
    audio: run.data.audio ?? null,
    settings: run.settings,
    engine: run.engine.id,
    metrics: run.metrics,
    tensors,
    ...(optimizerState ? { optimizerState } : {}),
  } as const;
  return { manifest, bytes };
}
