import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Split } from '../shared/data/dataset';
import { PRESETS } from '../shared/presets';

/** Networks and engines the benchmark covers. */
export const BENCH_NETWORKS = ['tdnn', 'fnn-50-tanh', 'best'] as const;
/** 'scratch' is the engine's default fast path (WebAssembly kernels); 'scratch-reference' its readable JS layers, for information. */
export const NODE_ENGINES = ['scratch', 'scratch-reference', 'tfjs-cpu', 'tfjs-wasm'] as const;
export type NodeEngine = (typeof NODE_ENGINES)[number];
export const BENCH_LR = 0.01;
export const EPOCH_BATCH = 50;

export interface DataMeta {
  n: number;
  frames: number;
  channels: number;
  classes: number;
  source: string;
}

/** Writes the prepared train split as x.bin (float32 [n, frames, channels]) and y.bin (int32) plus meta.json. */
export function dumpSplit(dir: string, split: Split, classes: number, source: string): DataMeta {
  const meta: DataMeta = { n: split.n, frames: split.frames, channels: split.channels, classes, source };
  fs.writeFileSync(path.join(dir, 'x.bin'), Buffer.from(split.x.buffer, split.x.byteOffset, split.x.byteLength));
  fs.writeFileSync(path.join(dir, 'y.bin'), Buffer.from(split.y.buffer, split.y.byteOffset, split.y.byteLength));
  fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(meta));
  return meta;
}

export function readSplit(dir: string): { split: Split; meta: DataMeta } {
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as DataMeta;
  const xb = fs.readFileSync(path.join(dir, 'x.bin'));
  const yb = fs.readFileSync(path.join(dir, 'y.bin'));
  const x = new Float32Array(xb.buffer.slice(xb.byteOffset, xb.byteOffset + xb.byteLength));
  const y = new Int32Array(yb.buffer.slice(yb.byteOffset, yb.byteOffset + yb.byteLength));
  if (x.length !== meta.n * meta.frames * meta.channels || y.length !== meta.n)
    throw new Error(`bench data in ${dir} does not match its meta.json`);
  const split: Split = { x, y, n: meta.n, frames: meta.frames, channels: meta.channels, ids: [] };
  return { split, meta };
}

/** A preset's spec with its input set to the data's shape, as written to the spec JSON the peers read. */
export function benchSpec(
  model: string,
  meta: Pick<DataMeta, 'frames' | 'channels'>,
): { input: [number, number]; layers: unknown[] } {
  const preset = PRESETS.get(model);
  if (!preset) throw new Error(`unknown preset '${model}'`);
  return { ...preset.spec, input: [meta.frames, meta.channels] };
}

/** Commands the runner sends a worker, one JSON object a line; the worker answers one JSON line each. */
export type WorkerCommand =
  | { cmd: 'epoch'; model: string; batch: number; capMs: number; capSteps: number; warmupSteps: number }
  | { cmd: 'steps'; model: string; batch: number; steps: number; budgetMs: number; warmupSteps: number }
  | { cmd: 'exit' };

export interface EpochResult {
  ms: number;
  /** CPU time the engine's process spent in those ms (all its threads): steadier than wall time on a shared machine. */
  cpuMs: number;
  stepsPerEpoch: number;
  /** Set when the epoch time is extrapolated from this many timed steps. */
  extrapolatedFrom: number | null;
}

export interface StepsResult {
  msPerStep: number;
  steps: number;
}
