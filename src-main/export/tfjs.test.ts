import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Network } from '../../shared/engine/network';
import { resolveSpec, type NetworkSpec } from '../../shared/engine/spec';
import { LockstepError } from '../../shared/errors';
import { PRESETS } from '../../shared/presets';
import { buildTfjsExport, exportTfjs, type TfjsModelJson } from './tfjs';
import { openModel } from './import-model';
import { exportCheckpoint } from './checkpoint-export';
import {
  CLASSES,
  NETWORKS,
  randomInput,
  randomModel,
  saveCheckpoint as saveCheckpointIn,
  scratch,
  tempFolders,
} from './test-fixtures';

const tmp = tempFolders('tfjs-export-test-');

beforeAll(async () => {
  // Stock tfjs, cpu backend, no custom classes or kernels; its "install tfjs-node" notice is muted.
  const warn = console.warn;
  console.warn = () => {};
  await tf.setBackend('cpu');
  await tf.ready();
  tf.tidy(() => tf.zeros([1]).add(1));
  console.warn = warn;
});

async function tfjsPredict(
  modelJson: TfjsModelJson,
  weightData: Uint8Array,
  x: Float32Array,
  n: number,
  T: number,
  C: number,
): Promise<Float32Array> {
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: modelJson.modelTopology,
      weightSpecs: modelJson.weightsManifest[0].weights,
      weightData: weightData.buffer.slice(
        weightData.byteOffset,
        weightData.byteOffset + weightData.byteLength,
      ) as ArrayBuffer,
      format: modelJson.format,
      generatedBy: modelJson.generatedBy,
      convertedBy: modelJson.convertedBy,
    }),
  );
  const input = tf.tensor3d(x, [n, T, C]);
  const out = model.predict(input) as tf.Tensor;
  const p = (await out.data()) as Float32Array;
  input.dispose();
  out.dispose();
  model.dispose();
  return p;
}

const saveCheckpoint = (m: ReturnType<typeof randomModel>): string => saveCheckpointIn(m, path.join(tmp(), 'ckpt'));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('tfjs export: a stock tf.loadLayersModel predicts what the scratch engine predicts', () => {
  it.each(NETWORKS)('%s', async (_name, s) => {
    const m = randomModel(s, 7);
    const [T, C] = s.input;
    const n = 6;
    const x = randomInput(n, T, C, 3);
    const expected = scratch(m.net, x, n);
    const { modelJson, weightData, metadata } = buildTfjsExport(m);
    expect(modelJson.format).toBe('layers-model');
    expect(modelJson.generatedBy).toMatch(/Lockstep/);
    expect(modelJson.convertedBy).toBeNull();
    expect(modelJson.modelTopology.class_name).toBe('Sequential');
    expect(modelJson.modelTopology.config.layers[0].config.batch_input_shape).toEqual([null, T, C]);
    const last = modelJson.modelTopology.config.layers.at(-1)!;
    expect([last.class_name, last.config.activation]).toEqual(['Dense', 'softmax']);
    expect(JSON.stringify(modelJson)).not.toContain('TimeSum');
    expect(metadata.lockstepSpec.layers.every((l) => typeof l.name === 'string')).toBe(true);
    const got = await tfjsPredict(modelJson, weightData, x, n, T, C);
    expect(maxAbsDiff(got, expected)).toBeLessThanOrEqual(1e-5);
  });

  it('TimeSum: GlobalAveragePooling1D with the next Dense kernel scaled by T (bias unchanged), recorded in metadata', () => {
    const m = randomModel(PRESETS.get('tdnn')!.spec as NetworkSpec, 1);
    const { modelJson, weightData, metadata } = buildTfjsExport(m);
    const names = modelJson.modelTopology.config.layers.map((l) => `${l.class_name}:${l.config.name}`);
    expect(names).toEqual(['Conv1D:conv1d_1', 'Conv1D:conv1d_2', 'GlobalAveragePooling1D:time_sum_1', 'Dense:dense_1']);
    expect(metadata.timeSum).toEqual([
      { layer: 'time_sum_1', exportedAs: 'GlobalAveragePooling1D', scale: 64, scaledKernel: 'dense_1/kernel' },
    ]);
    const specs = modelJson.weightsManifest[0].weights;
    const floats = new Float32Array(
      weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
    );
    let at = 0;
    const values = new Map<string, Float32Array>();
    for (const w of specs) {
      const len = w.shape.reduce((a, b) => a * b, 1);
      values.set(w.name, floats.subarray(at, at + len));
      at += len;
    }
    expect(at).toBe(floats.length);
    expect(specs.map((w) => [w.name, w.shape])).toEqual([
      ['conv1d_1/kernel', [3, 16, 8]],
      ['conv1d_1/bias', [8]],
      ['conv1d_2/kernel', [5, 8, 3]],
      ['conv1d_2/bias', [3]],
      ['dense_1/kernel', [3, 9]],
      ['dense_1/bias', [9]],
    ]);
    expect(values.get('dense_1/kernel')).toEqual(Float32Array.from(m.weights.get('dense_1/kernel')!, (v) => v * 64));
    expect(values.get('dense_1/bias')).toEqual(m.weights.get('dense_1/bias'));
    expect(values.get('conv1d_1/kernel')).toEqual(m.weights.get('conv1d_1/kernel'));
    expect(metadata).toMatchObject({ classes: CLASSES, frames: 70, channels: 16, standardize: m.standardize });
  });

  it('exportTfjs writes model.json, weights.bin, metadata.json that load from disk; openModel reverses the mapping', async () => {
    for (const [, s] of NETWORKS) {
      const m = randomModel(s, 11);
      const ckpt = saveCheckpoint(m);
      const out = path.join(tmp(), 'nested', 'tfjs');
      const files = await exportTfjs(ckpt, out);
      expect(files.map((f) => path.basename(f)).sort()).toEqual(['metadata.json', 'model.json', 'weights.bin']);
      expect(fs.readdirSync(path.dirname(out))).toEqual(['tfjs']); // no temp folder left behind
      const modelJson = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8')) as TfjsModelJson;
      const meta = JSON.parse(fs.readFileSync(path.join(out, 'metadata.json'), 'utf8'));
      expect(meta).toMatchObject({
        classes: m.classes,
        frames: s.input[0],
        channels: s.input[1],
        standardize: m.standardize,
      });
      // A file-reading IOHandler, as an app would write one in Node.
      const handler: tf.io.IOHandler = {
        load: async () => {
          const bin = fs.readFileSync(path.join(out, modelJson.weightsManifest[0].paths[0]));
          return {
            modelTopology: modelJson.modelTopology,
            weightSpecs: modelJson.weightsManifest[0].weights,
            weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer,
          };
        },
      };
      const model = await tf.loadLayersModel(handler);
      const [T, C] = s.input;
      const raw = randomInput(3, T, C, 5);
      // The documented input: (x − mean) / std per channel, then [batch, frames, channels].
      const xs = Float32Array.from(raw, (v, i) => (v - meta.standardize.mean[i % C]) / meta.standardize.std[i % C]);
      const got = (await (model.predict(tf.tensor3d(xs, [3, T, C])) as tf.Tensor).data()) as Float32Array;
      model.dispose();
      const expected = scratch(m.net, xs, 3);
      expect(maxAbsDiff(got, expected)).toBeLessThanOrEqual(1e-5);

      // Re-open: the Lockstep spec and weights come back (the scaled kernel to within rounding).
      const back = openModel(out);
      expect(back.kind).toBe('tfjs');
      expect(back.classes).toEqual(m.classes);
      expect(back.standardize).toEqual(m.standardize);
      expect([back.frames, back.channels]).toEqual(s.input);
      expect(resolveSpec(back.spec).layers.map((l) => l.config)).toEqual(resolveSpec(s).layers.map((l) => l.config));
      for (const [name, w] of m.weights) {
        const b = back.weights.get(name)!;
        expect(maxAbsDiff(b, w)).toBeLessThanOrEqual(1e-6 * Math.max(1, ...Array.from(w, Math.abs)));
      }
      const again = new Network(back.spec, { maxBatch: 8 });
      again.setWeights(back.weights);
      expect(maxAbsDiff(scratch(again, xs, 3), expected)).toBeLessThanOrEqual(1e-6);
    }
  });

  it('exporting again over an existing export replaces its files; a tfjs export converts back to a checkpoint', async () => {
    const m = randomModel(PRESETS.get('tdnn')!.spec as NetworkSpec, 2);
    const ckpt = saveCheckpoint(m);
    const out = path.join(tmp(), 'tfjs');
    await exportTfjs(ckpt, out);
    await exportTfjs(out, out); // from itself: open, rebuild, replace
    expect(fs.readdirSync(out).sort()).toEqual(['metadata.json', 'model.json', 'weights.bin']);
    const ck2 = path.join(tmp(), 'ck2');
    const files = await exportCheckpoint(out, ck2);
    expect(files[0]).toBe(path.join(ck2, 'checkpoint.json'));
    const back = openModel(ck2);
    expect(back.kind).toBe('checkpoint');
    expect(back.manifest!.engine).toBe('import:tfjs');
    expect(back.standardize).toEqual(m.standardize);
    const x = randomInput(2, 70, 16, 9);
    const net = new Network(back.spec, { maxBatch: 2 });
    net.setWeights(back.weights);
    expect(maxAbsDiff(scratch(net, x, 2), scratch(m.net, x, 2))).toBeLessThanOrEqual(1e-6);
  });

  it('a LayersModel saved by tfjs itself (no metadata.json) opens as a Lockstep network', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv1d({ inputShape: [10, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
        tf.layers.maxPooling1d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    const dir = tmp();
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const weightsManifest = [{ paths: ['group1-shard1of1.bin'], weights: artifacts.weightSpecs! }];
        fs.writeFileSync(
          path.join(dir, 'model.json'),
          JSON.stringify({
            format: 'layers-model',
            generatedBy: artifacts.generatedBy,
            convertedBy: null,
            modelTopology: artifacts.modelTopology,
            weightsManifest,
          }),
        );
        fs.writeFileSync(path.join(dir, 'group1-shard1of1.bin'), Buffer.from(artifacts.weightData as ArrayBuffer));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const opened = openModel(path.join(dir, 'model.json'));
    expect(opened.classes).toEqual(['0', '1', '2']);
    expect(opened.standardize).toBeNull();
    expect(opened.spec.input).toEqual([10, 3]);
    const x = randomInput(4, 10, 3, 1);
    const net = new Network(opened.spec, { maxBatch: 4 });
    net.setWeights(opened.weights);
    const want = (await (model.predict(tf.tensor3d(x, [4, 10, 3])) as tf.Tensor).data()) as Float32Array;
    expect(maxAbsDiff(scratch(net, x, 4), want)).toBeLessThanOrEqual(1e-5);
    model.dispose();
  });

  it('models that cannot be opened are LockstepErrors naming the file', async () => {
    const dir = tmp();
    expect(() => openModel(dir)).toThrow(
      /expected a checkpoint folder \(checkpoint.json\) or a TensorFlow.js export folder \(model.json\), found neither/,
    );
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ format: 'graph-model', modelTopology: {} }));
    expect(() => openModel(dir)).toThrow(LockstepError);
    expect(() => openModel(dir)).toThrow(/model.json, field format: .*graph model/);
    const lstm = {
      format: 'layers-model',
      modelTopology: {
        class_name: 'Sequential',
        config: { layers: [{ class_name: 'LSTM', config: { name: 'lstm_1', batch_input_shape: [null, 5, 2] } }] },
      },
      weightsManifest: [],
    };
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(lstm));
    expect(() => openModel(dir)).toThrow(/layer 'lstm_1' of class LSTM has no Lockstep equivalent/);
    const m = randomModel(PRESETS.get('tdnn')!.spec as NetworkSpec, 3);
    const out = path.join(tmp(), 'e');
    await exportTfjs(saveCheckpoint(m), out);
    fs.truncateSync(path.join(out, 'weights.bin'), 100);
    expect(() => openModel(out)).toThrow(
      /weight conv1d_1\/kernel needs bytes 0…1536 of the weight files, they hold 100/,
    );
  });
});
