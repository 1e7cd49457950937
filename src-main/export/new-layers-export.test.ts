import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Network } from '../../shared/engine/network';
import { resolveSpec, type NetworkSpec } from '../../shared/engine/spec';
import { NpzFile, npyFloats } from '../data/npz';
import { openModel } from './import-model';
import { exportNpz } from './npz-export';
import { exportTfjs, type TfjsModelJson } from './tfjs';
import { randomInput, randomModel, saveCheckpoint, scratch } from './test-fixtures';

/**
 * The layer types added through their descriptors alone (GlobalMaxPooling1D, LayerNormalization)
 * export as every other: a stock tf.loadLayersModel predicts what the scratch engine predicts,
 * openModel gives the network back, and the .npz holds their weights under their names.
 */
const softmax = { type: 'Dense' as const, units: 9, activation: 'softmax' };
const NEW_LAYERS: Array<[string, NetworkSpec]> = [
  [
    'conv → layer norm → global max pool → layer norm without β',
    {
      input: [20, 4],
      layers: [
        { type: 'Conv1D', filters: 6, kernelSize: 3, activation: 'relu' },
        { type: 'LayerNormalization' },
        { type: 'GlobalMaxPooling1D' },
        { type: 'LayerNormalization', center: false, epsilon: 0.01 },
        softmax,
      ],
    },
  ],
  [
    'layer norm without γ → flatten → dense',
    { input: [8, 3], layers: [{ type: 'LayerNormalization', scale: false }, { type: 'Flatten' }, softmax] },
  ],
];

let dir = '';
let made = 0;
/** A fresh path in this file's temporary folder. */
const fresh = (name: string): string => path.join(dir, `${made++}-${name}`);
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'new-layers-export-test-'));
  await tf.setBackend('cpu');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Largest |a − b|, the arrays of the same length. */
function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  return Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
}

describe.each(NEW_LAYERS)('%s', (_name, spec) => {
  it('a stock tf.loadLayersModel predicts what the scratch engine predicts; openModel gives it back', async () => {
    const m = randomModel(spec, 3);
    const out = fresh('tfjs');
    await exportTfjs(saveCheckpoint(m, fresh('ckpt')), out);
    const modelJson = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8')) as TfjsModelJson;
    const bin = fs.readFileSync(path.join(out, 'weights.bin'));
    const model = await tf.loadLayersModel({
      load: async () => ({
        modelTopology: modelJson.modelTopology,
        weightSpecs: modelJson.weightsManifest[0].weights,
        weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer,
      }),
    });
    const [T, C] = spec.input;
    const x = randomInput(4, T, C, 8);
    const input = tf.tensor3d(x, [4, T, C]);
    const got = (await (model.predict(input) as tf.Tensor).data()) as Float32Array;
    input.dispose();
    model.dispose();
    const expected = scratch(m.net, x, 4);
    expect(maxAbsDiff(got, expected)).toBeLessThanOrEqual(1e-5);

    const back = openModel(out);
    expect(resolveSpec(back.spec).layers.map((l) => l.config)).toEqual(resolveSpec(spec).layers.map((l) => l.config));
    const again = new Network(back.spec, { maxBatch: 4 });
    again.setWeights(back.weights);
    expect(maxAbsDiff(scratch(again, x, 4), expected)).toBeLessThanOrEqual(1e-6);
  });

  it('the .npz holds every weight under <layer>.<weight>', async () => {
    const m = randomModel(spec, 5);
    const out = fresh('model.npz');
    await exportNpz(saveCheckpoint(m, fresh('ckpt')), out);
    const z = NpzFile.open(out);
    try {
      for (const [name, w] of m.weights) expect(npyFloats(await z.read(name.replace('/', '.')), name, out)).toEqual(w);
    } finally {
      z.close();
    }
  });
});
