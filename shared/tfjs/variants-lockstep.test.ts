import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { demoDataset } from '../data/demo';
import type { OptimizerSettings } from '../engine/optimizers';
import { ScratchEngine } from '../engine/scratch-engine';
import { LockstepEngine, runLockstep } from '../train/lockstep';
import { prepareData } from '../train/prepare';
import { Trainer } from '../train/trainer';
import { TFJS_BACKENDS, type TfjsBackend } from './backend';
import { TfjsEngine } from './tfjs-engine';

/**
 * Networks beyond the presets train in lockstep on both backends: max and average pooling with
 * 'valid' and 'same' padding and strides ≠ poolSize, strided and dilated convolutions, dropout
 * (tfjs draws the scratch engine's masks), weight decay, momentum with Nesterov, and a
 * learning rate changed mid-run.
 */
const wasmDir = fileURLToPath(new URL('../../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url));
const train = prepareData(demoDataset(), { standardize: true }).train;
const softmax = { type: 'Dense', units: 9, activation: 'softmax' };

const VARIANTS: Record<string, unknown> = {
  'strided conv, max pool same, dilated conv, average pool valid': {
    input: [70, 16],
    layers: [
      { type: 'Conv1D', filters: 8, kernelSize: 5, strides: 2, padding: 'same', activation: 'relu' },
      { type: 'MaxPooling1D', poolSize: 3, strides: 2, padding: 'same' },
      { type: 'Conv1D', filters: 6, kernelSize: 3, dilationRate: 2, activation: 'tanh' },
      { type: 'AveragePooling1D', poolSize: 2 },
      { type: 'Flatten' },
      softmax,
    ],
  },
  'average pool same with stride < pool, max pool valid with stride > pool, dilated same conv': {
    input: [70, 16],
    layers: [
      { type: 'Conv1D', filters: 6, kernelSize: 3, activation: 'sigmoid' },
      { type: 'AveragePooling1D', poolSize: 4, strides: 3, padding: 'same' },
      { type: 'MaxPooling1D', poolSize: 2, strides: 3 },
      {
        type: 'Conv1D',
        filters: 5,
        kernelSize: 2,
        dilationRate: 3,
        padding: 'same',
        useBias: false,
        activation: 'relu',
      },
      { type: 'GlobalAveragePooling1D' },
      softmax,
    ],
  },
  'dropout, activation layer, time sum': {
    input: [70, 16],
    layers: [
      { type: 'Conv1D', filters: 8, kernelSize: 3, strides: 3 },
      { type: 'Activation', activation: 'relu' },
      { type: 'Dropout', rate: 0.3 },
      { type: 'TimeSum' },
      { type: 'Dense', units: 12, activation: 'tanh' },
      { type: 'Dropout', rate: 0.2 },
      softmax,
    ],
  },
};

const OPTIMIZERS: OptimizerSettings[] = [
  { optimizer: 'sgd', lr: 0.05 },
  { optimizer: 'adam', lr: 0.002, weightDecay: 1e-3 },
  { optimizer: 'momentum', lr: 0.02, momentum: 0.9, nesterov: true, weightDecay: 1e-2 },
];

async function engines(
  spec: unknown,
  optimizer: OptimizerSettings,
  backend: TfjsBackend,
): Promise<[ScratchEngine, TfjsEngine]> {
  const options = { spec, optimizer, maxBatch: 50, seed: 1 };
  return [new ScratchEngine(options), await TfjsEngine.create({ ...options, backend, wasmDir })];
}

describe.each(TFJS_BACKENDS)('on tfjs-%s', (backend) => {
  it.each(Object.keys(VARIANTS).flatMap((name) => OPTIMIZERS.map((o) => [name, o.optimizer, o] as const)))(
    '%s, %s: 20 steps in lockstep',
    async (name, _o, optimizer) => {
      const [scratch, tfjs] = await engines(VARIANTS[name], optimizer, backend);
      const r = runLockstep(scratch, tfjs, train, { steps: 20, batch: 50, seed: 1 });
      tfjs.dispose();
      expect(r.maxRelLossDiff).toBeLessThanOrEqual(1e-4);
      expect(r.ok).toBe(true);
      expect(r.perStep.referenceLoss[19]).toBeLessThan(r.perStep.referenceLoss[0]);
    },
  );

  it('a learning rate changed mid-run reaches both engines', async () => {
    const [scratch, tfjs] = await engines(
      VARIANTS['dropout, activation layer, time sum'],
      { optimizer: 'adam', lr: 0.01 },
      backend,
    );
    const lockstep = new LockstepEngine(scratch, tfjs);
    const trainer = new Trainer(lockstep, train, 50, 1);
    for (let i = 0; i < 8; i++) {
      if (i === 4) lockstep.setLearningRate(0.001);
      trainer.trainStep();
    }
    const r = lockstep.report();
    lockstep.dispose();
    expect(r.ok).toBe(true);
    // The same schedule on the scratch engine alone gives the same losses, so the change reached it.
    const [alone] = await engines(
      VARIANTS['dropout, activation layer, time sum'],
      { optimizer: 'adam', lr: 0.01 },
      backend,
    );
    const solo = new Trainer(alone, train, 50, 1);
    const losses = Array.from(
      { length: 8 },
      (_, i) => (i === 4 && alone.setLearningRate(0.001), solo.trainStep().loss),
    );
    expect(r.perStep.referenceLoss).toEqual(losses);
  });
});
