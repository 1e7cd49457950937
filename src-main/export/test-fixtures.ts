/**
 * Test fixtures for the export tests: networks covering every layer mapping, random weights,
 * random inputs, and checkpoints written as `train --out` writes them.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { NO_FRONT_END, type FrontEnd } from '../../shared/data/front-end';
import { Network } from '../../shared/engine/network';
import { Rng } from '../../shared/engine/rng';
import { resolveSpec, type NetworkSpec } from '../../shared/engine/spec';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, packWeights } from '../../shared/model/checkpoint';
import { PRESETS } from '../../shared/presets';
import { DEFAULT_SETTINGS } from '../../shared/train/settings';
import { writeCheckpoint } from '../store/checkpoint-dir';

/** A maker of fresh temp folders named `<prefix>…`, all removed once the test file's tests are done. */
export function tempFolders(prefix: string): () => string {
  const made: string[] = [];
  afterAll(() => {
    for (const d of made) fs.rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    made.push(d);
    return d;
  };
}

export const CLASSES = ['B', 'C', 'D', 'E', 'G', 'P', 'T', 'V', 'Z'];

/** A network with random weights (biases too), its classes, a standardisation and a front end. */
export function randomModel(spec: NetworkSpec, seed: number, frontEnd: FrontEnd = NO_FRONT_END) {
  const net = new Network(spec, { maxBatch: 8, seed });
  const rng = new Rng(seed + 100);
  const weights = new Map<string, Float32Array>();
  for (const p of net.weights) {
    const fanIn = p.shape.length > 1 ? p.shape.slice(0, -1).reduce((a, b) => a * b, 1) : 4;
    // A variance must be positive (batch norm's moving variance): 0.5…1.5.
    const draw = p.name.endsWith('/moving_variance')
      ? () => 1 + rng.uniform(-0.5, 0.5)
      : () => rng.uniform(-1, 1) * Math.sqrt(3 / fanIn);
    weights.set(p.name, Float32Array.from({ length: p.value.length }, draw));
  }
  net.setWeights(weights);
  const C = spec.input[1];
  const standardize = {
    mean: Array.from({ length: C }, (_, c) => c * 0.1 - 0.5),
    std: Array.from({ length: C }, (_, c) => 1 + c * 0.05),
  };
  return { net, spec, weights, classes: CLASSES.slice(0, net.resolved.classes), frontEnd, standardize };
}

export function randomInput(n: number, T: number, C: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n * T * C }, () => rng.normal());
}

/** The scratch engine's probabilities for the first n examples (a copy), a few at a time. */
export function scratch(net: Network, x: Float32Array, n: number): Float32Array {
  const classes = net.resolved.classes;
  const size = net.resolved.input[0] * net.resolved.input[1];
  const probs = new Float32Array(n * classes);
  for (let start = 0; start < n; start += net.maxBatch) {
    const b = Math.min(net.maxBatch, n - start);
    probs.set(net.predict(x.subarray(start * size, (start + b) * size), b).subarray(0, b * classes), start * classes);
  }
  return probs;
}

export function saveCheckpoint(m: ReturnType<typeof randomModel>, dir: string): string {
  const resolved = resolveSpec(m.spec, m.classes.length);
  const shapes = new Map(resolved.layers.flatMap((l) => l.params).map((p) => [p.name, p.shape]));
  const { tensors, bytes } = packWeights(m.weights, shapes);
  writeCheckpoint(
    dir,
    {
      format: CHECKPOINT_FORMAT,
      version: CHECKPOINT_VERSION,
      createdAt: new Date().toISOString(),
      spec: m.spec,
      classes: m.classes,
      frames: m.spec.input[0],
      channels: m.spec.input[1],
      frontEnd: m.frontEnd,
      standardize: m.standardize,
      settings: { ...DEFAULT_SETTINGS, epochs: 1, frontEnd: m.frontEnd },
      engine: 'scratch',
      metrics: [],
      tensors,
    },
    bytes,
  );
  return dir;
}

/** A tfjs export folder loaded by stock tfjs (cpu backend) from its model.json and weights.bin, as a client would. */
export async function loadTfjsFolder(dir: string): Promise<tf.LayersModel> {
  const modelJson = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const bin = readFileSync(join(dir, modelJson.weightsManifest[0].paths[0]));
  const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer;
  const warn = console.warn;
  console.warn = () => {}; // tfjs's hint to install tfjs-node
  try {
    await tf.setBackend('cpu');
    return await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: modelJson.modelTopology,
        weightSpecs: modelJson.weightsManifest[0].weights,
        weightData,
      }),
    );
  } finally {
    console.warn = warn;
  }
}

const spec = (input: [number, number], layers: NetworkSpec['layers']): NetworkSpec => ({ input, layers });

export const NETWORKS: Array<[string, NetworkSpec]> = [
  ['tdnn (TimeSum → Dense)', PRESETS.get('tdnn')!.spec as NetworkSpec],
  ['fnn-10-relu', PRESETS.get('fnn-10-relu')!.spec as NetworkSpec],
  ['fnn-50-tanh', PRESETS.get('fnn-50-tanh')!.spec as NetworkSpec],
  [
    'conv/pool, same padding and strides, dilation, Flatten, Dropout',
    spec(
      [70, 16],
      [
        { type: 'Conv1D', filters: 6, kernelSize: 5, strides: 2, padding: 'same', activation: 'relu' },
        { type: 'MaxPooling1D', poolSize: 3, strides: 2, padding: 'same' },
        { type: 'Conv1D', filters: 5, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'sigmoid' },
        { type: 'AveragePooling1D', poolSize: 3, strides: 2, padding: 'same' },
        { type: 'Conv1D', filters: 4, kernelSize: 2, strides: 3, padding: 'valid', activation: 'tanh', useBias: false },
        { type: 'Flatten' },
        { type: 'Dropout', rate: 0.25 },
        { type: 'Dense', units: 7, activation: 'linear' },
        { type: 'Activation', activation: 'relu' },
        { type: 'Dense', units: 9, activation: 'softmax' },
      ],
    ),
  ],
  ['best (BatchNormalization, GlobalAveragePooling1D, Dropout)', PRESETS.get('best')!.spec as NetworkSpec],
  [
    'BatchNormalization over time and on a flat input, momentum and epsilon set',
    spec(
      [20, 4],
      [
        { type: 'Conv1D', filters: 5, kernelSize: 3, padding: 'same', useBias: false },
        { type: 'BatchNormalization' },
        { type: 'Activation', activation: 'relu' },
        { type: 'MaxPooling1D', poolSize: 2 },
        { type: 'Flatten' },
        { type: 'BatchNormalization', momentum: 0.9, epsilon: 0.01 },
        { type: 'Dense', units: 9, activation: 'softmax' },
      ],
    ),
  ],
  [
    'TimeSum → Dropout → flat Flatten → Dense (folded through)',
    spec(
      [20, 3],
      [
        { type: 'Conv1D', filters: 4, kernelSize: 3, activation: 'tanh' },
        { type: 'TimeSum' },
        { type: 'Dropout', rate: 0.5 },
        { type: 'Flatten' },
        { type: 'Dense', units: 5, activation: 'softmax' },
      ],
    ),
  ],
  [
    'TimeSum → Activation → Dense (a scaling Dense is inserted)',
    spec(
      [12, 4],
      [
        { type: 'Conv1D', filters: 3, kernelSize: 2, padding: 'same', activation: 'relu' },
        { type: 'TimeSum' },
        { type: 'Activation', activation: 'sigmoid' },
        { type: 'Dense', units: 4, activation: 'softmax' },
      ],
    ),
  ],
];
