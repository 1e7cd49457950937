import { describe, expect, it } from 'vitest';
import type { Split } from '../data/dataset';
import { demoDataset } from '../data/demo';
import { ScratchEngine } from '../engine/scratch-engine';
import { PRESETS } from '../presets';
import { prepareData } from './prepare';
import { optimizerSettings, resolveSettings, type TrainingSettings } from './settings';
import type { TrainingEngine } from './engine';
import { Trainer } from './trainer';

// One standardised copy of the demo data for every test in this file.
const data = prepareData(demoDataset(), true);
const tdnn = PRESETS.get('tdnn')!;

const DROPOUT_SPEC = {
  input: [70, 16],
  layers: [
    { type: 'Conv1D', filters: 4, kernelSize: 5, strides: 2, activation: 'relu' },
    { type: 'MaxPooling1D', poolSize: 2 },
    { type: 'Dropout', rate: 0.25 },
    { type: 'GlobalAveragePooling1D' },
    { type: 'Dense', units: 9, activation: 'softmax' },
  ],
};

/** Every step's loss over `epochs` epochs, and the final weights. */
function run(spec: unknown, settings: TrainingSettings, epochs: number, train: Split = data.train): { losses: number[]; weights: Map<string, Float32Array> } {
  const engine = new ScratchEngine({ spec, optimizer: optimizerSettings(settings), maxBatch: settings.batch, seed: settings.seed });
  const trainer = new Trainer(engine, train, settings.batch, settings.seed);
  const losses: number[] = [];
  for (let e = 0; e < epochs; ) {
    const { loss, epochDone } = trainer.trainStep();
    losses.push(loss);
    if (epochDone) e++;
  }
  expect(losses.length).toBe(epochs * trainer.stepsPerEpoch);
  return { losses, weights: engine.getWeights() };
}

describe('Trainer determinism', () => {
  const cases = [
    { what: 'tdnn, adam (its preset settings)', spec: tdnn.spec, settings: resolveSettings({ ...tdnn.training, batch: 64 }) },
    { what: 'conv + dropout, Nesterov momentum with weight decay', spec: DROPOUT_SPEC, settings: resolveSettings({ optimizer: 'momentum', lr: 0.05, nesterov: true, weightDecay: 1e-3, batch: 128, seed: 4 }) },
  ];

  it.each(cases)('$what: same seed, data and settings → bit-identical per-step losses over 2 epochs', ({ spec, settings }) => {
    const a = run(spec, settings, 2);
    const b = run(spec, settings, 2);
    expect(a.losses.every(Number.isFinite)).toBe(true);
    expect(b.losses).toEqual(a.losses);
    expect(b.weights).toEqual(a.weights);
    // The last batch of an epoch is short (900 is not a multiple of the batch), and it still matches.
    expect(900 % settings.batch).not.toBe(0);
  });

  it.each(cases)('$what: a different seed gives different losses', ({ spec, settings }) => {
    const a = run(spec, settings, 2);
    const b = run(spec, { ...settings, seed: settings.seed + 1 }, 2);
    expect(b.losses).not.toEqual(a.losses);
    // Not a shift of one another: the very first losses already differ (other init, other batch).
    expect(b.losses[0]).not.toBe(a.losses[0]);
  });

  it('every epoch visits each training example exactly once, in a fresh order', () => {
    // Tag each example by its index in the first value of its first frame, and record what
    // the engine is handed at every step.
    const size = data.train.frames * data.train.channels;
    const x = Float32Array.from(data.train.x);
    for (let i = 0; i < data.train.n; i++) x[i * size] = i;
    const inner = new ScratchEngine({ spec: tdnn.spec, optimizer: { optimizer: 'sgd', lr: 0.01 }, maxBatch: 64, seed: 3 });
    const seen: number[] = [];
    const engine: TrainingEngine = Object.assign(Object.create(inner) as ScratchEngine, {
      trainStep(bx: Float32Array, by: Int32Array, batch: number): number {
        for (let i = 0; i < batch; i++) {
          const idx = bx[i * size];
          seen.push(idx);
          expect(by[i]).toBe(data.train.y[idx]);
          expect(bx[i * size + 1]).toBe(x[idx * size + 1]); // the rest of the example came along
        }
        return inner.trainStep(bx, by, batch);
      },
    });
    const trainer = new Trainer(engine, { ...data.train, x }, 64, 3);
    expect(trainer.stepsPerEpoch).toBe(Math.ceil(900 / 64));
    const orders: number[][] = [];
    for (let e = 0; e < 2; e++) {
      seen.length = 0;
      for (let s = 0; s < trainer.stepsPerEpoch; s++) expect(trainer.trainStep().epochDone).toBe(s === trainer.stepsPerEpoch - 1);
      orders.push([...seen]);
    }
    const identity = Array.from({ length: data.train.n }, (_, i) => i);
    for (const order of orders) expect([...order].sort((p, q) => p - q)).toEqual(identity);
    expect(orders[1]).not.toEqual(orders[0]);
    expect(orders[0]).not.toEqual(identity);
  });
});

describe('Trainer learns', () => {
  it('the tdnn preset, with its own settings, on the standardised demo data: training loss falls clearly', () => {
    const settings = resolveSettings(tdnn.training);
    expect(settings.standardize).toBe(true);
    const engine = new ScratchEngine({ spec: tdnn.spec, optimizer: optimizerSettings(settings), maxBatch: settings.batch, seed: settings.seed });
    const trainer = new Trainer(engine, data.train, settings.batch, settings.seed);
    const classes = data.classes.length;
    const records = [];
    for (let epoch = 0; epoch < 5; epoch++) {
      while (!trainer.trainStep().epochDone);
      records.push(trainer.finishEpoch(data.dev, classes));
    }
    const first = records[0], last = records[records.length - 1];
    expect(records.map((r) => r.epoch)).toEqual([1, 2, 3, 4, 5]);
    for (const r of records) expect(Number.isFinite(r.trainLoss)).toBe(true);
    expect(last.trainLoss).toBeLessThan(first.trainLoss);
    // Clearly: well below both the first epoch and chance (a uniform guess over 9 classes costs ln 9 ≈ 2.197).
    expect(last.trainLoss).toBeLessThan(0.8 * first.trainLoss);
    expect(last.trainLoss).toBeLessThan(0.8 * Math.log(9));
    expect(last.trainAccuracy).toBeGreaterThan(2 / 9);
    expect(last.devAccuracy!).toBeGreaterThan(2 / 9);
  });
});
