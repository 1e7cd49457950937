import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { demoDataset } from '../../shared/data/demo';
import { frontEndFormula } from '../../shared/data/front-end';
import type { Split } from '../../shared/data/dataset';
import { resolveSpec, type NetworkSpec } from '../../shared/engine/spec';
import { LockstepError } from '../../shared/errors';
import { PRESET_NAMES, PRESETS } from '../../shared/presets';
import { prepareData } from '../../shared/train/prepare';
import { applyStandardization, fitStandardization } from '../../shared/data/standardize';
import { loadEeSet } from '../data/eeset';
import { buildOnnxExport, exportOnnx } from './onnx-export';
import { NETWORKS, randomInput, randomModel, saveCheckpoint, scratch, tempFolders } from './test-fixtures';

const here = path.dirname(fileURLToPath(import.meta.url));
const tmp = tempFolders('onnx-export-test-');

/** onnxruntime's probabilities for `n` inputs `[n, T, C]`, from the `.onnx` bytes. */
async function ortPredict(bytes: Uint8Array, x: Float32Array, n: number, T: number, C: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    expect(session.inputMetadata).toEqual([{ name: 'input', isTensor: true, type: 'float32', shape: ['batch', T, C] }]);
    expect(session.outputNames).toEqual(['probabilities']);
    const out = await session.run({ input: new ort.Tensor('float32', x, [n, T, C]) });
    return out.probabilities.data as Float32Array;
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Exports a model with random weights and checks onnxruntime against the scratch engine on `x`. */
async function expectSamePredictions(spec: NetworkSpec, seed: number, x: Float32Array, n: number): Promise<void> {
  const m = randomModel(spec, seed);
  const [T, C] = spec.input;
  const got = await ortPredict(buildOnnxExport(m), x, n, T, C);
  expect(maxAbsDiff(got, scratch(m.net, x, n))).toBeLessThanOrEqual(1e-5);
}

const spec = (input: [number, number], layers: NetworkSpec['layers']): NetworkSpec => ({ input, layers });
const softmax = (units = 4) => ({ type: 'Dense' as const, units, activation: 'softmax' });

/** Every layer type and option, each on a short random sequence. */
const VARIANTS: Array<[string, NetworkSpec]> = [
  ...(['linear', 'relu', 'sigmoid', 'tanh'] as const).map((activation): [string, NetworkSpec] => [
    `Conv1D valid, activation ${activation}`,
    spec([9, 3], [{ type: 'Conv1D', filters: 4, kernelSize: 3, activation }, { type: 'Flatten' }, softmax()]),
  ]),
  [
    'Conv1D same, stride 2, odd padding',
    spec(
      [10, 3],
      [{ type: 'Conv1D', filters: 2, kernelSize: 4, strides: 2, padding: 'same' }, { type: 'Flatten' }, softmax()],
    ),
  ],
  [
    'Conv1D valid, stride 3, leftover steps',
    spec([11, 2], [{ type: 'Conv1D', filters: 3, kernelSize: 2, strides: 3 }, { type: 'Flatten' }, softmax()]),
  ],
  [
    'Conv1D dilation 3, same',
    spec(
      [12, 2],
      [{ type: 'Conv1D', filters: 3, kernelSize: 3, dilationRate: 3, padding: 'same' }, { type: 'Flatten' }, softmax()],
    ),
  ],
  [
    'Conv1D dilation 2, valid, no bias',
    spec(
      [12, 2],
      [{ type: 'Conv1D', filters: 3, kernelSize: 3, dilationRate: 2, useBias: false }, { type: 'Flatten' }, softmax()],
    ),
  ],
  ...(['MaxPooling1D', 'AveragePooling1D'] as const).flatMap((type): Array<[string, NetworkSpec]> => [
    [
      `${type} valid, pool 3, stride 2`,
      spec([10, 3], [{ type, poolSize: 3, strides: 2 }, { type: 'Flatten' }, softmax()]),
    ],
    [
      `${type} same, pool 4, stride 3 (padded both sides)`,
      spec([10, 3], [{ type, poolSize: 4, strides: 3, padding: 'same' }, { type: 'Flatten' }, softmax()]),
    ],
    [
      `${type} same, pool 2, stride 1 (padded on the right)`,
      spec([7, 2], [{ type, poolSize: 2, strides: 1, padding: 'same' }, { type: 'Flatten' }, softmax()]),
    ],
  ]),
  [
    'Dense without bias, each activation',
    spec(
      [5, 2],
      [
        { type: 'Flatten' },
        { type: 'Dense', units: 6, activation: 'relu', useBias: false },
        { type: 'Dense', units: 5, activation: 'sigmoid' },
        { type: 'Dense', units: 4, activation: 'tanh' },
        { type: 'Dense', units: 3 },
        softmax(),
      ],
    ),
  ],
  ['Flatten of a flat input', spec([6, 2], [{ type: 'TimeSum' }, { type: 'Flatten' }, softmax()])],
  ['TimeSum on the time-major input', spec([6, 3], [{ type: 'TimeSum' }, softmax()])],
  [
    'TimeSum after a Conv1D',
    spec([8, 3], [{ type: 'Conv1D', filters: 4, kernelSize: 2, activation: 'tanh' }, { type: 'TimeSum' }, softmax()]),
  ],
  ['GlobalAveragePooling1D on the time-major input', spec([6, 3], [{ type: 'GlobalAveragePooling1D' }, softmax()])],
  [
    'GlobalAveragePooling1D after a pool',
    spec([8, 3], [{ type: 'MaxPooling1D' }, { type: 'GlobalAveragePooling1D' }, softmax()]),
  ],
  ['GlobalMaxPooling1D on the time-major input', spec([6, 3], [{ type: 'GlobalMaxPooling1D' }, softmax()])],
  [
    'GlobalMaxPooling1D after a Conv1D',
    spec([8, 3], [{ type: 'Conv1D', filters: 4, kernelSize: 3 }, { type: 'GlobalMaxPooling1D' }, softmax()]),
  ],
  [
    'LayerNormalization on the time-major input, after a Conv1D and on a flat value',
    spec(
      [6, 3],
      [
        { type: 'LayerNormalization' },
        { type: 'Conv1D', filters: 4, kernelSize: 2 },
        { type: 'LayerNormalization', epsilon: 0.01 },
        { type: 'Flatten' },
        { type: 'LayerNormalization' },
        softmax(),
      ],
    ),
  ],
  [
    'LayerNormalization without centre or scale',
    spec(
      [6, 3],
      [
        { type: 'LayerNormalization', center: false },
        { type: 'LayerNormalization', scale: false },
        { type: 'Flatten' },
        softmax(),
      ],
    ),
  ],
  [
    'Dropout on a sequence and on a flat value',
    spec([6, 2], [{ type: 'Dropout', rate: 0.3 }, { type: 'Flatten' }, { type: 'Dropout', rate: 0.5 }, softmax()]),
  ],
  ...(['linear', 'relu', 'sigmoid', 'tanh'] as const).map((activation): [string, NetworkSpec] => [
    `Activation ${activation} on a sequence and on a flat value`,
    spec(
      [6, 2],
      [{ type: 'Activation', activation }, { type: 'Flatten' }, { type: 'Activation', activation }, softmax()],
    ),
  ]),
  [
    'BatchNormalization on the time-major input',
    spec([6, 3], [{ type: 'BatchNormalization' }, { type: 'Flatten' }, softmax()]),
  ],
  [
    'BatchNormalization after a Conv1D and on a flat value, epsilon 0.01',
    spec(
      [6, 3],
      [
        { type: 'Conv1D', filters: 2, kernelSize: 2 },
        { type: 'BatchNormalization', epsilon: 0.01 },
        { type: 'Flatten' },
        { type: 'BatchNormalization', epsilon: 0.01 },
        softmax(),
      ],
    ),
  ],
];

describe('onnx export: onnxruntime predicts what the scratch engine predicts', () => {
  it.each(VARIANTS)('%s', async (_name, s) => {
    const [T, C] = s.input;
    await expectSamePredictions(s, 11, randomInput(7, T, C, 5), 7);
  });

  it.each(NETWORKS)('%s', async (_name, s) => {
    const [T, C] = s.input;
    await expectSamePredictions(s, 7, randomInput(6, T, C, 3), 6);
  });

  const demoDev = prepareData(demoDataset(), { standardize: true }).dev!;
  it.each(PRESET_NAMES)('preset %s on the demo dataset (dev split)', async (name) => {
    await expectSamePredictions(PRESETS.get(name)!.spec as NetworkSpec, 3, demoDev.x, demoDev.n);
  });
});

describe('onnx export: the file', () => {
  it('export writes one .onnx file atomically, and refuses a folder as its destination', async () => {
    const m = randomModel(PRESETS.get('tdnn')!.spec as NetworkSpec, 4);
    const checkpoint = saveCheckpoint(m, path.join(tmp(), 'ckpt'));
    const out = path.join(tmp(), 'deep', 'model.onnx');
    expect(await exportOnnx(checkpoint, out)).toEqual([out]);
    expect(fs.readFileSync(out)).toEqual(Buffer.from(buildOnnxExport(m)));
    expect(fs.readdirSync(path.dirname(out))).toEqual(['model.onnx']); // no temp file left
    const folder = tmp();
    await expect(exportOnnx(checkpoint, folder)).rejects.toThrow(LockstepError);
    await expect(exportOnnx(checkpoint, folder)).rejects.toThrow(/expected a file path for the \.onnx, found a folder/);
  });

  it('a weight of the wrong size is refused, naming the tensor', () => {
    const m = randomModel(PRESETS.get('tdnn')!.spec as NetworkSpec, 4);
    m.weights.set('conv1d_2/bias', new Float32Array(5));
    expect(() => buildOnnxExport(m)).toThrow(/conv1d_2\/bias: expected 3 values \(shape \[3\]\), found 5/);
    m.weights.delete('conv1d_2/bias');
    expect(() => buildOnnxExport(m)).toThrow(/the model has no values for conv1d_2\/bias/);
  });
});

const python = '/usr/bin/python3';
const hasOnnx =
  fs.existsSync(python) &&
  spawnSync(python, ['-c', 'import onnx'], { encoding: 'utf8', timeout: 120_000 }).status === 0;
if (!hasOnnx) console.log('skipped: the onnx Python package (python3-onnx) is not installed');

describe.skipIf(!hasOnnx)('onnx export: onnx.checker (src-main/export/onnx-check.py)', () => {
  it('every network and variant passes the full check; shapes, opset and metadata read back', () => {
    const dir = tmp();
    const all = [...VARIANTS, ...NETWORKS];
    const models = all.map(([, s], i) => {
      const m = randomModel(s, 30 + i);
      const file = path.join(dir, `model${i}.onnx`);
      fs.writeFileSync(file, buildOnnxExport(m));
      return { m, file };
    });
    const r = spawnSync(python, [path.join(here, 'onnx-check.py'), ...models.map((x) => x.file)], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(all.length);
    lines.forEach((l, i) => {
      const { m } = models[i];
      const [T, C] = m.spec.input;
      expect(l.irVersion).toBe(7);
      expect(l.opset).toEqual([['', 13]]);
      expect(l.producer).toBe('Lockstep');
      expect(l.inputs).toEqual([['input', ['batch', T, C]]]);
      expect(l.outputs).toEqual([['probabilities', ['batch', m.classes.length]]]);
      expect(l.ops).toContain('Softmax');
      expect(JSON.parse(l.metadata.classes)).toEqual(m.classes);
      expect(JSON.parse(l.metadata.frames)).toBe(T);
      expect(JSON.parse(l.metadata.channels)).toBe(C);
      expect(JSON.parse(l.metadata.standardize)).toEqual(m.standardize);
      expect(JSON.parse(l.metadata.frontEnd)).toEqual(m.frontEnd);
      expect(JSON.parse(l.metadata.frontEndFormula)).toBe(frontEndFormula(m.frontEnd));
      const spec = JSON.parse(l.metadata.lockstepSpec);
      expect(resolveSpec(spec).layers.map((x) => x.config)).toEqual(resolveSpec(m.spec).layers.map((x) => x.config));
    });
  });
});

// As src-main/data/eeset.test.ts: beside the repository unless EE_SET_DIR says where.
const eeSetDir = process.env.EE_SET_DIR ?? path.resolve(here, '../../../shared/datasets/ee-set');
const hasEeSet = fs.existsSync(path.join(eeSetDir, 'dev'));
if (!hasEeSet) console.log(`skipped: real ee-set not found at ${eeSetDir} (set EE_SET_DIR)`);

describe.skipIf(!hasEeSet)('onnx export on the real ee-set dev split', () => {
  let dev: Split;
  beforeAll(async () => {
    const dataset = await loadEeSet(eeSetDir, { splits: ['dev'] });
    dev = applyStandardization(dataset.splits.dev!, fitStandardization(dataset.splits.dev!));
  });

  it.each(PRESET_NAMES)('preset %s: onnxruntime reproduces the scratch engine within 1e-5', async (name) => {
    await expectSamePredictions(PRESETS.get(name)!.spec as NetworkSpec, 5, dev.x, dev.n);
  });
});
