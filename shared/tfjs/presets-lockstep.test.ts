import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { demoDataset } from '../data/demo';
import type { OptimizerName } from '../engine/optimizers';
import { ScratchEngine } from '../engine/scratch-engine';
import { PRESET_NAMES, PRESETS } from '../presets';
import { runLockstep, type LockstepReport } from '../train/lockstep';
import { prepareData } from '../train/prepare';
import { TFJS_BACKENDS, type TfjsBackend } from './backend';
import { TfjsEngine } from './tfjs-engine';

/**
 * Scratch against tfjs on the built-in demo data (seed 1, batch 50), every step's relative loss
 * difference within 1e-4. A few cases run the full 200 steps; every preset × optimizer ×
 * backend runs fewer steps under the same bound (the full 200-step matrix, minutes long on
 * the cpu backend, is scripts/lockstep-matrix.ts).
 */
const wasmDir = fileURLToPath(new URL('../../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url));
const train = prepareData(demoDataset(), true).train;

async function lockstep(model: string, optimizer: OptimizerName, backend: TfjsBackend, steps: number, resync = false): Promise<LockstepReport> {
  const preset = PRESETS.get(model)!;
  const options = { spec: preset.spec, optimizer: { optimizer, lr: preset.training.lr }, maxBatch: 50, seed: 1 };
  const tfjs = await TfjsEngine.create({ ...options, backend, wasmDir });
  try {
    return runLockstep(new ScratchEngine(options), tfjs, train, { steps, batch: 50, seed: 1, resync });
  } finally {
    tfjs.dispose();
  }
}

function expectInLockstep(r: LockstepReport, steps: number): void {
  expect(r.steps).toBe(steps);
  expect(r.firstFailingStep).toBeNull();
  expect(r.maxRelLossDiff).toBeLessThanOrEqual(1e-4);
  expect(r.ok).toBe(true);
}

describe('200 lockstep steps on the demo data', () => {
  it.each([
    ['tdnn', 'adam', 'wasm'],
    ['tdnn', 'sgd', 'wasm'],
    ['fnn-10-relu', 'adam', 'cpu'],
  ] as const)('%s with %s on tfjs-%s', async (model, optimizer, backend) => {
    const r = await lockstep(model, optimizer, backend, 200);
    expectInLockstep(r, 200);
    // Training happened: the loss fell well below its start.
    expect(r.perStep.referenceLoss[199]).toBeLessThan(0.85 * r.perStep.referenceLoss[0]);
    expect(r.checks.map((c) => c.step)).toEqual(Array.from({ length: 20 }, (_, i) => 10 * (i + 1)));
  });
});

describe('best over 200 steps, tfjs resynced to the scratch weights before every step', () => {
  // Free-running, best with Adam drifts past 1e-4 within ~40 steps once rounding flips a ReLU
  // right behind batch normalisation (src-main/cli/compare.test.ts); from identical weights at
  // every step along the whole trajectory, the two engines' steps must agree.
  it('with adam on tfjs-wasm', async () => {
    const r = await lockstep('best', 'adam', 'wasm', 200, true);
    expectInLockstep(r, 200);
    expect(r.perStep.referenceLoss[199]).toBeLessThan(0.85 * r.perStep.referenceLoss[0]);
  }, 300_000);
});

/** Fewer steps where a step is slow (tfjs-cpu runs the 'best' convolutions in plain JS). */
function stepsFor(model: string, backend: TfjsBackend): number {
  if (model === 'best') return backend === 'cpu' ? 2 : 10;
  if (model.startsWith('fnn-50') && backend === 'cpu') return 5;
  return 10;
}

describe.each(TFJS_BACKENDS)('every preset trains in lockstep on tfjs-%s', (backend) => {
  it.each(PRESET_NAMES.flatMap((model) => (['sgd', 'adam'] as const).map((optimizer) => [model, optimizer] as const)))(
    '%s with %s',
    async (model, optimizer) => {
      const steps = stepsFor(model, backend);
      expectInLockstep(await lockstep(model, optimizer, backend, steps), steps);
    },
  );
});
