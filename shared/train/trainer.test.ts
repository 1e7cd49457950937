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
const data = prepareData(demoDataset(), { standardize: true });
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
function run(
  spec: unknown,
  settings: TrainingSettings,
  epochs: number,
  train: Split = data.train,
): { losses: number[]; weights: Map<string, Float32Array> } {
  const engine = new ScratchEngine({
    spec,
    optimizer: optimizerSettings(settings),
    maxBatch: settings.batch,
    seed: settings.seed,
  });
  const trainer = new Trainer(engine, train, settings.batch, settings.seed);
  const losses: number[] = [];
  for (let e = 0; e < epochs;) {
    const { loss, epochDone } = trainer.trainStep();
    losses.push(loss);
    if (epochDone) e++;
  }
  expect(losses.length).toBe(epochs * trainer.stepsPerEpoch);
  return { losses, weights: engine.getWeights() };
}

describe('Trainer determinism', () => {
  const cases = [
    {
      what: 'tdnn, adam (its preset settings)',
      spec: tdnn.spec,
      settings: resolveSettings({ ...tdnn.training, batch: 64 }),
    },
    {
      what: 'conv + dropout, Nesterov momentum with weight decay',
      spec: DROPOUT_SPEC,
      settings: resolveSettings({
        optimizer: 'momentum',
        lr: 0.05,
        nesterov: true,
        weightDecay: 1e-3,
        batch: 128,
        seed: 4,
      }),
    },
  ];

  it.each(cases)(
    '$what: same seed, data and settings → bit-identical per-step losses over 2 epochs',
    ({ spec, settings }) => {
      const a = run(spec, settings, 2);
      const b = run(spec, settings, 2);
      expect(a.losses.every(Number.isFinite)).toBe(true);
      expect(b.losses).toEqual(a.losses);
      expect(b.weights).toEqual(a.weights);
      // The last batch of an epoch is short (900 is not a multiple of the batch), and it still matches.
      expect(900 % settings.batch).not.toBe(0);
    },
  );

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
    const inner = new ScratchEngine({
      spec: tdnn.spec,
      optimizer: { optimizer: 'sgd', lr: 0.01 },
      maxBatch: 64,
      seed: 3,
    });
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
      for (let s = 0; s < trainer.stepsPerEpoch; s++)
        expect(trainer.trainStep().epochDone).toBe(s === trainer.stepsPerEpoch - 1);
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
    const engine = new ScratchEngine({
      spec: tdnn.spec,
      optimizer: optimizerSettings(settings),
      maxBatch: settings.batch,
      seed: settings.seed,
    });
    const trainer = new Trainer(engine, data.train, settings.batch, settings.seed);
    const classes = data.classes.length;
    const records = [];
    for (let epoch = 0; epoch < 5; epoch++) {
      while (!trainer.trainStep().epochDone);
      records.push(trainer.finishEpoch(data.dev, classes));
    }
    const first = records[0],
      last = records[records.length - 1];
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

describe('Trainer training aids (any engine: applied by the trainer)', () => {
  const settings = resolveSettings({ ...tdnn.training, batch: 100, seed: 2 });

  function recordingEngine(aidsSeed = 2): {
    engine: TrainingEngine;
    rates: number[];
    batches: Float32Array[];
    labels: number[][];
  } {
    const inner = new ScratchEngine({
      spec: tdnn.spec,
      optimizer: optimizerSettings(settings),
      maxBatch: 100,
      seed: aidsSeed,
    });
    const rates: number[] = [];
    const batches: Float32Array[] = [];
    const labels: number[][] = [];
    const engine: TrainingEngine = Object.assign(Object.create(inner) as ScratchEngine, {
      setLearningRate(lr: number) {
        rates.push(lr);
        inner.setLearningRate(lr);
      },
      trainStep(x: Float32Array, y: Int32Array, batch: number) {
        batches.push(Float32Array.from(x.subarray(0, batch * 70 * 16)));
        labels.push(Array.from(y.subarray(0, batch)));
        return inner.trainStep(x, y, batch);
      },
    });
    return { engine, rates, batches, labels };
  }

  it('a schedule sets every step’s rate through the engine, and the epoch record carries the last one', () => {
    const aids = { ...settings, epochs: 3, lrSchedule: 'cosine' as const, warmupEpochs: 1 };
    const { engine, rates } = recordingEngine();
    const trainer = new Trainer(engine, data.train, 100, 2, aids);
    const records = [];
    for (let e = 0; e < 3; e++) {
      while (!trainer.trainStep().epochDone);
      records.push(trainer.finishEpoch(undefined, 9));
    }
    const S = trainer.stepsPerEpoch;
    expect(rates).toHaveLength(3 * S);
    expect(rates[0]).toBeCloseTo(settings.lr / S, 15);
    expect(rates[S - 1]).toBe(settings.lr);
    expect(rates[S]).toBe(settings.lr);
    expect(rates[2 * S]).toBeCloseTo(settings.lr / 2, 12);
    expect(records.map((r) => r.lr)).toEqual([rates[S - 1], rates[2 * S - 1], rates[3 * S - 1]]);
    // Without aids (or with none on) the engine's rate is never touched and records carry none.
    const plain = recordingEngine();
    const t = new Trainer(plain.engine, data.train, 100, 2, settings);
    while (!t.trainStep().epochDone);
    expect(plain.rates).toEqual([]);
    expect(t.finishEpoch(undefined, 9).lr).toBeUndefined();
  });

  it('augmentation changes the batches the engine sees, reproducibly, without changing their order or labels', () => {
    const aids = { ...settings, timeShift: 3, timeMask: 5, freqMask: 2 };
    const runs = [aids, aids, settings].map((a) => {
      const r = recordingEngine();
      const trainer = new Trainer(r.engine, data.train, 100, 2, a);
      const losses = Array.from({ length: 4 }, () => trainer.trainStep().loss);
      return { ...r, losses };
    });
    expect(runs[1].losses).toEqual(runs[0].losses);
    expect(runs[1].batches).toEqual(runs[0].batches);
    expect(runs[2].batches[0]).not.toEqual(runs[0].batches[0]);
    // The shuffle stream is untouched: the same examples in the same order, so the same labels.
    expect(runs[0].labels).toEqual(runs[2].labels);
  });

  it('early stopping: stops after `patience` epochs without a better dev accuracy and restores the best epoch’s weights', () => {
    // A fake engine whose dev accuracy per epoch is scripted: its one "weight" is that accuracy in tenths.
    const size = 70 * 16;
    const dev = { ...data.dev!, n: 10, x: new Float32Array(10 * size), y: new Int32Array(10).fill(1) };
    for (let i = 0; i < 10; i++) dev.x[i * size] = i;
    let tenths = 0;
    const engine: TrainingEngine = {
      id: 'scripted',
      paramCount: 1,
      trainStep: () => 1,
      predict(x, batch, probs) {
        for (let b = 0; b < batch; b++)
          for (let k = 0; k < 9; k++) probs[b * 9 + k] = k === (x[b * size] < tenths ? 1 : 0) ? 1 : 0;
      },
      getWeights: () => new Map([['w', Float32Array.of(tenths)]]),
      setWeights: (w) => void (tenths = w.get('w')![0]),
      getGradients: () => new Map(),
      setLearningRate: () => {},
      dispose: () => {},
    };
    const trainer = new Trainer(engine, data.train, 300, 1, { ...settings, patience: 2 });
    const script = [3, 6, 5, 6, 4, 9];
    const seen: number[] = [];
    for (const s of script) {
      tenths = s;
      while (!trainer.trainStep().epochDone);
      seen.push(trainer.finishEpoch(dev, 9).devAccuracy!);
      if (trainer.stopEarly) break;
    }
    // Epoch 2 (0.6) is not beaten by epoch 3 (0.5) or epoch 4 (a tie, 0.6): stop after epoch 4.
    expect(seen).toEqual([0.3, 0.6, 0.5, 0.6]);
    expect(trainer.epoch).toBe(4);
    tenths = 0;
    const best = trainer.restoreBest()!;
    expect(best.epoch).toBe(2);
    expect(best.devEval!.accuracy).toBe(0.6);
    expect(tenths).toBe(6);
    // Without patience nothing is kept or stopped.
    const plain = new Trainer(engine, data.train, 300, 1, settings);
    while (!plain.trainStep().epochDone);
    plain.finishEpoch(dev, 9);
    expect(plain.stopEarly).toBe(false);
    expect(plain.restoreBest()).toBeNull();
  });
});

describe('resolveSettings: training aids', () => {
  it('accepts and checks them', () => {
    const s = resolveSettings({
      epochs: 10,
      lrSchedule: 'step',
      decayEvery: 3,
      decayFactor: 0.2,
      warmupEpochs: 2,
      timeStretch: 0.15,
      timeShift: 4,
      timeMask: 8,
      freqMask: 2,
      patience: 5,
    });
    expect(s).toMatchObject({
      lrSchedule: 'step',
      decayEvery: 3,
      decayFactor: 0.2,
      warmupEpochs: 2,
      timeStretch: 0.15,
      timeShift: 4,
      timeMask: 8,
      freqMask: 2,
      patience: 5,
    });
    expect(() => resolveSettings({ lrSchedule: 'linear' })).toThrow(
      'lrSchedule must be one of constant, cosine, step, got "linear"',
    );
    expect(() => resolveSettings({ lrSchedule: 'step' })).toThrow(
      "lrSchedule 'step' needs decayEvery (epochs between decays)",
    );
    expect(() => resolveSettings({ epochs: 5, warmupEpochs: 5 })).toThrow(
      'warmupEpochs must be less than epochs (5), got 5',
    );
    expect(() => resolveSettings({ decayFactor: 1.5 })).toThrow('decayFactor must be a number in (0, 1], got 1.5');
    expect(() => resolveSettings({ timeMask: -1 })).toThrow('timeMask must be an integer ≥ 0, got -1');
    expect(() => resolveSettings({ timeStretch: 0.8 })).toThrow('timeStretch must be a number in 0…0.5, got 0.8');
    expect(() => resolveSettings({ patience: 0 })).toThrow('patience must be an integer ≥ 1, got 0');
  });
});
