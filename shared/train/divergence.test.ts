import { afterAll, describe, expect, it } from 'vitest';
import { ScratchEngine } from '../engine/scratch-engine';
import { TfjsEngine } from '../tfjs/tfjs-engine';
import { divergenceMessage, firstNonFinite } from './divergence';
import type { EngineOptions, TrainingEngine } from './engine';

/** Two convolutions (linear, so a NaN is never dropped by an activation), integrated over time, softmax. */
const SPEC = {
  input: [12, 4],
  layers: [
    { type: 'Conv1D', filters: 3, kernelSize: 3, activation: 'tanh' },
    { type: 'Conv1D', filters: 2, kernelSize: 2, activation: 'linear' },
    { type: 'TimeSum' },
    { type: 'Dense', units: 3, activation: 'softmax' },
  ],
};
const OPTIONS: EngineOptions = { spec: SPEC, optimizer: { optimizer: 'sgd', lr: 0.1 }, maxBatch: 4, seed: 5 };
const x = Float32Array.from({ length: 4 * 12 * 4 }, (_, i) => Math.sin(i));
const y = Int32Array.from([0, 1, 2, 1]);

const created: TrainingEngine[] = [];
afterAll(() => created.forEach((e) => e.dispose()));
const ENGINES: Array<[string, () => Promise<TrainingEngine>]> = [
  ['scratch', async () => new ScratchEngine(OPTIONS)],
  ['tfjs (cpu)', async () => TfjsEngine.create({ ...OPTIONS, backend: 'cpu' })],
];

/** The engine's layers in order, from its weight names (`layer/param`). */
function layersOf(engine: TrainingEngine): string[] {
  return [...new Set([...engine.getWeights().keys()].map((n) => n.slice(0, n.lastIndexOf('/'))))];
}

/** Sets one value of one weight through the engine interface. */
function poison(engine: TrainingEngine, name: string, index: number, value: number): void {
  const weights = engine.getWeights();
  weights.get(name)![index] = value;
  engine.setWeights(weights);
}

describe.each(ENGINES)('divergence through the engine interface: %s', (_name, make) => {
  it('finds the first non-finite weight in layer order, whichever layer holds it', async () => {
    const engine = await make();
    created.push(engine);
    const [conv1, conv2, dense] = layersOf(engine);
    expect(firstNonFinite(engine)).toBeNull();
    poison(engine, `${conv2}/kernel`, 5, Infinity);
    expect(firstNonFinite(engine)).toEqual({
      layer: conv2,
      name: `${conv2}/kernel`,
      source: 'weights',
      index: 5,
      value: Infinity,
    });
    poison(engine, `${dense}/bias`, 1, NaN);
    expect(firstNonFinite(engine)?.layer).toBe(conv2);
    poison(engine, `${conv1}/bias`, 2, -Infinity);
    expect(firstNonFinite(engine)).toEqual({
      layer: conv1,
      name: `${conv1}/bias`,
      source: 'weights',
      index: 2,
      value: -Infinity,
    });
  });

  it('a step through a NaN weight: the message names the step, the engine, the first layer and a lower learning rate', async () => {
    const engine = await make();
    created.push(engine);
    const [conv1, conv2] = layersOf(engine);
    const finite = engine.trainStep(x, y, 4);
    expect(divergenceMessage(engine, { step: 1, epoch: 1, lr: 0.1, engineId: engine.id, loss: finite })).toBeNull();
    expect(divergenceMessage(engine, { step: 1, epoch: 1, lr: 0.1, engineId: engine.id })).toBeNull();
    poison(engine, `${conv2}/kernel`, 0, NaN);
    const loss = engine.trainStep(x, y, 4);
    expect(loss).toBeNaN();
    // The NaN reaches the first layer's gradients (through the second layer's kernel) and so its weights.
    const message = divergenceMessage(engine, { step: 2, epoch: 1, lr: 0.1, engineId: engine.id, loss });
    expect(message).toMatch(
      new RegExp(
        `^training diverged at step 2 \\(epoch 1\\): the ${engine.id} loss became NaN; the first non-finite value is in layer ${conv1} \\(its weights: ${conv1}/kernel\\[\\d+\\] = NaN\\)\\. Try a lower learning rate \\(this run used lr 0\\.1\\)\\.$`,
      ),
    );
  });
});

describe('divergence messages', () => {
  const engineOf = (weights: Record<string, number[]>, gradients: Record<string, number[]>) => ({
    getWeights: () => new Map(Object.entries(weights).map(([k, v]) => [k, Float32Array.from(v)])),
    getGradients: () => new Map(Object.entries(gradients).map(([k, v]) => [k, Float32Array.from(v)])),
  });
  const context = { step: 7, epoch: 2, lr: 0.5, engineId: 'scratch' };

  it('within layer order, a layer’s weights come before its gradients, and an earlier layer’s gradients before a later layer’s weights', () => {
    const e = engineOf(
      { 'a/kernel': [1, 2], 'a/bias': [0], 'b/kernel': [1, NaN] },
      { 'a/kernel': [0, 0], 'a/bias': [Infinity], 'b/kernel': [0, 0] },
    );
    expect(firstNonFinite(e)).toEqual({ layer: 'a', name: 'a/bias', source: 'gradients', index: 0, value: Infinity });
    const w = engineOf({ 'a/kernel': [1, -Infinity], 'a/bias': [0] }, { 'a/kernel': [NaN, 0], 'a/bias': [0] });
    expect(firstNonFinite(w)).toMatchObject({ name: 'a/kernel', source: 'weights', index: 1 });
  });

  it('a non-finite loss with finite tensors says so; non-finite weights behind a finite loss are caught when no loss is given', () => {
    const clean = engineOf({ 'a/kernel': [1] }, { 'a/kernel': [0] });
    expect(divergenceMessage(clean, { ...context, loss: Infinity })).toBe(
      'training diverged at step 7 (epoch 2): the scratch loss became Infinity; every weight and gradient is still finite (the loss itself overflowed). Try a lower learning rate (this run used lr 0.5).',
    );
    expect(divergenceMessage(clean, context)).toBeNull();
    const hidden = engineOf({ 'a/kernel': [1], 'b/bias': [NaN] }, { 'a/kernel': [0], 'b/bias': [0] });
    expect(divergenceMessage(hidden, { ...context, loss: 0.3 })).toBeNull();
    expect(divergenceMessage(hidden, context)).toBe(
      'training diverged at step 7 (epoch 2): the scratch weights are no longer finite; the first non-finite value is in layer b (its weights: b/bias[0] = NaN). Try a lower learning rate (this run used lr 0.5).',
    );
  });
});
