import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { judgeAgainstNull, nullDivergence } from './null-model';
import { tempDir } from './test-helpers';

describe('the null model: tfjs against itself in other summation orders (demo data)', () => {
  const request = { model: 'fnn-10-tanh', backend: 'cpu' as const, steps: 25, settings: { optimizer: 'adam' as const, seed: 1, batch: 50 }, bound: 1e-12 };

  it('reorders the batch sums and switches backends; rounding alone makes them differ, a little', async () => {
    const judged = await judgeAgainstNull(request, 0);
    expect(judged.runs.map((r) => r.candidate)).toEqual(['tfjs-cpu-chunked2', 'tfjs-cpu-chunked3', 'tfjs-cpu-chunked5', 'tfjs-wasm']);
    for (const run of judged.runs) {
      expect(run.maxRelLossDiff).toBeGreaterThan(0);
      expect(run.maxRelLossDiff).toBeLessThan(1e-4);
      expect(run.firstFailingStep).toBeGreaterThanOrEqual(1);
    }
    // The judgement's bound is the null's largest divergence (here above the requested 1e-12).
    const largest = Math.max(...judged.runs.map((r) => r.maxRelLossDiff));
    expect(judged.bound).toBe(largest);
    expect(judged.ok).toBe(true);
    const tensorsBefore = tf.memory().numTensors;
    expect((await judgeAgainstNull(request, largest * 1.01)).ok).toBe(false);
    // Every engine the null model builds is disposed: a matrix of many cells holds no tensors of earlier ones.
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  }, 120_000);
});

describe('the null model of a network with batch normalisation', () => {
  it('does not chunk the batch (that would change the batch statistics): the scratch reference layers and the other backend', async () => {
    const dir = tempDir();
    try {
      const model = join(dir.path, 'bn.json');
      const spec = { input: [70, 16], layers: [{ type: 'Conv1D', filters: 3, kernelSize: 5 }, { type: 'BatchNormalization' }, { type: 'Activation', activation: 'relu' }, { type: 'GlobalAveragePooling1D' }, { type: 'Dense', units: 9, activation: 'softmax' }] };
      writeFileSync(model, JSON.stringify(spec));
      const runs = await nullDivergence({ model, backend: 'cpu', steps: 10, settings: { optimizer: 'sgd', lr: 0.05, seed: 1, batch: 50 } });
      expect(runs.map((r) => r.candidate)).toEqual(['scratch-reference', 'tfjs-wasm']);
      for (const run of runs) {
        expect(run.maxRelLossDiff).toBeGreaterThan(0);
        expect(run.maxRelLossDiff).toBeLessThan(1e-4);
      }
    } finally {
      dir.cleanup();
    }
  }, 120_000);
});
