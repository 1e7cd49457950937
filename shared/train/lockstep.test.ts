import { describe, expect, it } from 'vitest';
import { demoDataset } from '../data/demo';
import { ScratchEngine } from '../engine/scratch-engine';
import type { EngineOptions, TrainingEngine } from './engine';
import { DEFAULT_LOSS_BOUND, LockstepEngine, lossTrajectory, relativeLossDiff, runLockstep } from './lockstep';
import { prepareData } from './prepare';
import { Trainer } from './trainer';

/** The runner is engine-agnostic: these tests drive it with scratch engines and doctored ones. */
const train = prepareData(demoDataset(12), { standardize: true }).train;
const spec = {
  input: [12, 16],
  layers: [
    { type: 'Flatten' },
    { type: 'Dense', units: 6, activation: 'tanh' },
    { type: 'Dense', units: 9, activation: 'softmax' },
  ],
};
const options = (seed: number, lr = 0.05): EngineOptions => ({
  spec,
  optimizer: { optimizer: 'sgd', lr },
  maxBatch: 40,
  seed,
});

/** An engine that reports its loss scaled by `factor` (or NaN): a disagreement of known size. */
class Doctored extends ScratchEngine {
  constructor(
    private readonly factor: number,
    o: EngineOptions,
  ) {
    super(o);
  }
  override trainStep(x: Float32Array, labels: Int32Array, batch: number): number {
    return super.trainStep(x, labels, batch) * this.factor;
  }
}

describe('LockstepEngine', () => {
  it("copies the reference's weights into the candidate, so two equal engines never differ", () => {
    const r = runLockstep(new ScratchEngine(options(1)), new ScratchEngine(options(99)), train, {
      steps: 25,
      batch: 40,
      seed: 4,
    });
    expect(r.reference).toBe('scratch');
    expect(r.steps).toBe(25);
    expect(r.ok).toBe(true);
    expect(r.bound).toBe(DEFAULT_LOSS_BOUND);
    expect([r.maxAbsLossDiff, r.maxRelLossDiff, r.maxAbsWeightDiff, r.maxAbsGradDiff]).toEqual([0, 0, 0, 0]);
    // Tensors are compared every 10th step and at the last.
    expect(r.checks.map((c) => c.step)).toEqual([10, 20, 25]);
    expect(Object.keys(r.checks[0].weights)).toEqual([
      'dense_1/kernel',
      'dense_1/bias',
      'dense_2/kernel',
      'dense_2/bias',
    ]);
    expect(Object.keys(r.checks[0].gradients)).toEqual(Object.keys(r.checks[0].weights));
    for (const key of ['referenceLoss', 'candidateLoss', 'relLossDiff', 'referenceMs', 'candidateMs'] as const)
      expect(r.perStep[key]).toHaveLength(25);
    expect(r.referenceMsPerStep).toBeGreaterThan(0);
    // 100 examples in batches of 40: the trainer's epochs wrap and end on short batches, losses still falling.
    expect(r.perStep.referenceLoss[24]).toBeLessThan(r.perStep.referenceLoss[0]);
  });

  it('measures a loss disagreement and fails the run at the first step beyond the bound', () => {
    const r = runLockstep(new ScratchEngine(options(1)), new Doctored(1 + 3e-4, options(1)), train, {
      steps: 5,
      batch: 40,
      seed: 4,
    });
    expect(r.ok).toBe(false);
    expect(r.firstFailingStep).toBe(1);
    // |L − L(1+ε)| / (L(1+ε)) = ε / (1 + ε).
    for (const d of r.perStep.relLossDiff) expect(d).toBeCloseTo(3e-4 / (1 + 3e-4), 9);
    expect(r.maxAbsWeightDiff).toBe(0);
    const loose = runLockstep(new ScratchEngine(options(1)), new Doctored(1 + 3e-4, options(1)), train, {
      steps: 5,
      batch: 40,
      seed: 4,
      bound: 1e-3,
    });
    expect(loose.ok).toBe(true);
  });

  it('measures weight and gradient disagreements per tensor', () => {
    const r = runLockstep(new ScratchEngine(options(1)), new ScratchEngine(options(1, 0.06)), train, {
      steps: 3,
      batch: 40,
      seed: 4,
      checkEvery: 1,
    });
    expect(r.checks.map((c) => c.step)).toEqual([1, 2, 3]);
    expect(r.checks[0].weights['dense_1/kernel']).toBeGreaterThan(0);
    // Step 1's gradients are taken at the shared initial weights: equal; later ones are not.
    expect(Math.max(...Object.values(r.checks[0].gradients))).toBe(0);
    expect(r.checks[1].gradients['dense_2/bias']).toBeGreaterThan(0);
    expect(r.maxAbsWeightDiff).toBe(Math.max(...r.checks.flatMap((c) => Object.values(c.weights))));
    expect(r.perStep.relLossDiff[0]).toBe(0);
    expect(r.perStep.relLossDiff[2]).toBeGreaterThan(0);
  });

  it("resync: every step starts from the reference's weights, so drift cannot accumulate", () => {
    // Different learning rates: a plain run drifts apart from step 2 on.
    const drifting = runLockstep(new ScratchEngine(options(1)), new ScratchEngine(options(1, 0.06)), train, {
      steps: 8,
      batch: 40,
      seed: 4,
      checkEvery: 1,
    });
    expect(drifting.perStep.relLossDiff[1]).toBeGreaterThan(0);
    const r = runLockstep(new ScratchEngine(options(1)), new ScratchEngine(options(1, 0.06)), train, {
      steps: 8,
      batch: 40,
      seed: 4,
      checkEvery: 1,
      resync: true,
    });
    // Each step's loss and gradients come from the same weights: equal; each update still differs.
    expect(r.perStep.relLossDiff).toEqual(new Array(8).fill(0));
    for (const c of r.checks) {
      expect(Math.max(...Object.values(c.gradients))).toBe(0);
      expect(c.weights['dense_1/kernel']).toBeGreaterThan(0);
    }
  });

  it('resync hides no real disagreement', () => {
    const r = runLockstep(new ScratchEngine(options(1)), new Doctored(1 + 3e-4, options(1)), train, {
      steps: 5,
      batch: 40,
      seed: 4,
      resync: true,
    });
    expect(r.ok).toBe(false);
    expect(r.firstFailingStep).toBe(1);
    for (const d of r.perStep.relLossDiff) expect(d).toBeCloseTo(3e-4 / (1 + 3e-4), 9);
  });

  it('counts a NaN loss as an infinite difference, never as agreement', () => {
    const r = runLockstep(new ScratchEngine(options(1)), new Doctored(NaN, options(1)), train, {
      steps: 2,
      batch: 40,
      seed: 4,
    });
    expect(r.ok).toBe(false);
    expect(r.maxRelLossDiff).toBe(Infinity);
    expect(r.firstFailingStep).toBe(1);
  });

  it('is a TrainingEngine: predicts through the reference, sets the weights of both', () => {
    const a = new ScratchEngine(options(1)),
      b = new ScratchEngine(options(2));
    const lockstep: TrainingEngine = new LockstepEngine(a, b);
    expect(lockstep.id).toBe('lockstep(scratch,scratch)');
    expect(lockstep.paramCount).toBe(a.paramCount);
    const w = new Map([...a.getWeights()].map(([k, v]) => [k, v.map((x) => x + 1)]));
    lockstep.setWeights(w);
    expect(a.getWeights()).toEqual(w);
    expect(b.getWeights()).toEqual(w);
    const probs = new Float32Array(9),
      expected = new Float32Array(9);
    lockstep.predict(train.x, 1, probs);
    a.predict(train.x, 1, expected);
    expect(probs).toEqual(expected);
  });

  it('sets the learning rate of both engines', () => {
    const lockstep = new LockstepEngine(new ScratchEngine(options(1, 0.05)), new ScratchEngine(options(1, 0.5)));
    lockstep.setLearningRate(0.05);
    const trainer = new Trainer(lockstep, train, 40, 4);
    for (let i = 0; i < 3; i++) trainer.trainStep();
    expect(lockstep.report().maxAbsWeightDiff).toBe(0);
  });

  it('refuses two engines of different networks', () => {
    const other = { ...spec, layers: [{ type: 'Flatten' }, { type: 'Dense', units: 9, activation: 'softmax' }] };
    expect(
      () => new LockstepEngine(new ScratchEngine(options(1)), new ScratchEngine({ ...options(1), spec: other })),
    ).toThrow(/params/);
  });
});

describe('lossTrajectory', () => {
  it('trains one engine alone on the batches a lockstep run would feed it, so trajectories compare step by step', () => {
    const run = { steps: 12, batch: 40, seed: 4 };
    const lockstep = runLockstep(new ScratchEngine(options(1)), new ScratchEngine(options(1)), train, run);
    const alone = lossTrajectory(new ScratchEngine(options(1)), train, run);
    expect(alone).toEqual(lockstep.perStep.referenceLoss);
    const doctored = lossTrajectory(new Doctored(1.001, options(1)), train, run);
    expect(doctored.map((l, i) => relativeLossDiff(l, alone[i]))).toEqual(
      lockstep.perStep.referenceLoss.map(() => expect.closeTo(0.001, 9)),
    );
  });
});
