import { describe, expect, it } from 'vitest';
import { PRESETS } from '../../presets';
import type { OptimizerSettings } from '../optimizers';
import { Rng } from '../rng';
import { ScratchEngine } from '../scratch-engine';
import type { LayerSpec } from '../spec';

/*
 * The fast path (WebAssembly kernels) against the reference path (the readable JS layers):
 * the same spec, seed, batches and optimizer, 100 training steps each; every step's loss must
 * agree within 1e-6 relative. The two differ only in float32 rounding, so a wrong index, tap,
 * stride or update anywhere shows up as a loss difference orders of magnitude larger.
 *
 * One thing rounding may legitimately change: a discrete choice at a tie — a ReLU input within
 * rounding of 0, two max-pool inputs within rounding of each other (batch normalisation before
 * a ReLU puts thousands of inputs near 0 every step). After such a step the two runs follow
 * different, equally correct paths and drift apart chaotically. The layers' kink signatures
 * (the ones the gradient checks use) say when; that step's loss is still compared, then the
 * fast path takes the reference's weights and optimizer state and both go on together, so every
 * one of the 100 steps is compared.
 */

const STEPS = 100;

/** The discrete choices of the last forward pass, layer by layer. */
function kinks(engine: ScratchEngine, batch: number): string {
  return engine.network.layers.map((l) => l.kinkSignature?.(batch) ?? 0).join(',');
}

function maxRelativeLossDifference(
  spec: unknown,
  optimizer: OptimizerSettings,
  batch: number,
  classes: number,
): number {
  const options = { spec, optimizer, maxBatch: batch, seed: 7 };
  const fast = new ScratchEngine({ ...options, kernels: 'fast' });
  const reference = new ScratchEngine({ ...options, kernels: 'reference' });
  const [T, C] = (spec as { input: [number, number] }).input;
  const rng = new Rng(21);
  const x = new Float32Array(batch * T * C);
  const y = new Int32Array(batch);
  let worst = 0;
  for (let step = 0; step < STEPS; step++) {
    // The last step's batch is short, as an epoch's last batch may be.
    const size = step === STEPS - 1 ? Math.max(1, batch - 3) : batch;
    for (let i = 0; i < size * T * C; i++) x[i] = rng.normal();
    for (let i = 0; i < size; i++) y[i] = Math.floor(rng.next() * classes);
    const a = fast.trainStep(x, y, size),
      b = reference.trainStep(x, y, size);
    if (!Number.isFinite(a) || !Number.isFinite(b)) throw new Error(`step ${step}: losses ${a}, ${b}`);
    worst = Math.max(worst, Math.abs(a - b) / Math.abs(b));
    if (kinks(fast, size) !== kinks(reference, size)) {
      fast.setWeights(reference.getWeights());
      fast.setOptimizerState(reference.getOptimizerState());
    }
  }
  return worst;
}

const SGD: OptimizerSettings = { optimizer: 'sgd', lr: 0.01 };
/** The variants run every optimizer, with and without weight decay (the kernels take a different path for each). */
const VARIANT_OPTIMIZERS: OptimizerSettings[] = [
  { optimizer: 'sgd', lr: 0.01, weightDecay: 1e-3 },
  { optimizer: 'adam', lr: 0.002 },
  { optimizer: 'adam', lr: 0.002, weightDecay: 1e-3 },
  { optimizer: 'momentum', lr: 0.01, momentum: 0.9 },
  { optimizer: 'momentum', lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 1e-3 },
];

describe('fast path = reference path over 100 steps', () => {
  for (const name of ['tdnn', 'fnn-50-tanh', 'best']) {
    const preset = PRESETS.get(name)!;
    const own: OptimizerSettings = { optimizer: preset.training.optimizer, lr: preset.training.lr };
    for (const optimizer of [SGD, own]) {
      it(`${name}, ${optimizer.optimizer} lr ${optimizer.lr}`, () => {
        expect(maxRelativeLossDifference(preset.spec, optimizer, 16, 9)).toBeLessThanOrEqual(1e-6);
      });
    }
  }

  const head = (units: number): LayerSpec[] => [{ type: 'Dense', units, activation: 'softmax' }];
  const variants: Array<[string, LayerSpec[]]> = [
    [
      'same padding, stride 2, average pooling',
      [
        { type: 'Conv1D', filters: 8, kernelSize: 4, strides: 2, padding: 'same', activation: 'tanh' },
        { type: 'AveragePooling1D', poolSize: 2, padding: 'same' },
        { type: 'Flatten' },
        ...head(4),
      ],
    ],
    [
      'dilation 2, max pooling with overlapping windows, TimeSum',
      [
        { type: 'Conv1D', filters: 12, kernelSize: 3, dilationRate: 2, activation: 'relu' },
        { type: 'MaxPooling1D', poolSize: 3, strides: 2, padding: 'same' },
        { type: 'Conv1D', filters: 3, kernelSize: 2, activation: 'sigmoid' },
        { type: 'TimeSum' },
        ...head(4),
      ],
    ],
    [
      'stride 3 valid, dilation 3 same, global average pooling, dropout',
      [
        { type: 'Conv1D', filters: 16, kernelSize: 3, strides: 3, activation: 'relu' },
        {
          type: 'Conv1D',
          filters: 8,
          kernelSize: 2,
          dilationRate: 3,
          padding: 'same',
          useBias: false,
          activation: 'linear',
        },
        { type: 'GlobalAveragePooling1D' },
        { type: 'Dropout', rate: 0.25 },
        ...head(4),
      ],
    ],
    [
      'batch normalization after a convolution and after a Dense',
      [
        { type: 'Conv1D', filters: 6, kernelSize: 3, padding: 'same', activation: 'relu' },
        { type: 'BatchNormalization', momentum: 0.9 },
        { type: 'Flatten' },
        { type: 'Dense', units: 10, activation: 'tanh' },
        { type: 'BatchNormalization' },
        ...head(4),
      ],
    ],
    [
      'reference layers among fast ones (a 5-channel pool, a 5-channel batch normalization)',
      [
        { type: 'Conv1D', filters: 5, kernelSize: 3, padding: 'same' },
        { type: 'BatchNormalization' },
        { type: 'Activation', activation: 'tanh' },
        { type: 'MaxPooling1D', poolSize: 2 },
        { type: 'Flatten' },
        { type: 'Dense', units: 7, activation: 'relu' },
        ...head(4),
      ],
    ],
  ];
  for (const [what, layers] of variants) {
    for (const optimizer of VARIANT_OPTIMIZERS) {
      it(`${what}, ${JSON.stringify(optimizer)}`, () => {
        expect(maxRelativeLossDifference({ input: [24, 5], layers }, optimizer, 8, 4)).toBeLessThanOrEqual(1e-6);
      });
    }
  }
});

describe('the fast path', () => {
  it('is the default, and builds the kernels layers where it has them', () => {
    const engine = new ScratchEngine({ spec: PRESETS.get('best')!.spec, optimizer: SGD, maxBatch: 4, seed: 1 });
    expect(engine.kernels).toBe('fast');
    expect(engine.network.layers.map((l) => l.constructor.name)).toEqual(
      engine.network.layers.map((l) =>
        l.className === 'Dropout'
          ? 'Dropout'
          : `Fast${l.className === 'GlobalAveragePooling1D' ? 'TimeSum' : l.className}`,
      ),
    );
    expect(engine.network.layers.filter((l) => l.className !== 'Dropout')).toHaveLength(
      engine.network.layers.length - 1,
    );
  });

  it('skips the input gradient of every layer before the first one with params and of that one', () => {
    const engine = new ScratchEngine({ spec: PRESETS.get('fnn-50-tanh')!.spec, optimizer: SGD, maxBatch: 2, seed: 1 });
    expect(engine.network.layers.map((l) => [l.className, l.needInputGrad])).toEqual([
      ['Flatten', false],
      ['Dense', false],
      ['Dense', true],
      ['Dense', true],
    ]);
  });

  it('starts from the same weights as the reference path and reports the same gradients', () => {
    const options = { spec: PRESETS.get('tdnn')!.spec, optimizer: SGD, maxBatch: 3, seed: 5 };
    const fast = new ScratchEngine(options),
      reference = new ScratchEngine({ ...options, kernels: 'reference' });
    expect(fast.getWeights()).toEqual(reference.getWeights());
    const x = new Float32Array(3 * 70 * 16).map((_, i) => Math.sin(i));
    const y = Int32Array.from([0, 4, 8]);
    fast.trainStep(x, y, 3);
    reference.trainStep(x, y, 3);
    // Float32 sums over batch and time against float64-rounded ones: agreement to ~1e-5 of the largest gradient.
    for (const [name, g] of reference.getGradients()) {
      const h = fast.getGradients().get(name)!;
      const scale = Math.max(...g.map(Math.abs));
      g.forEach((v, i) => expect(Math.abs(h[i] - v), name).toBeLessThanOrEqual(1e-5 * scale));
    }
  });
});
