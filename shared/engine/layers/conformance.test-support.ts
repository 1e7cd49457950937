import { expect, it } from 'vitest';
import { demoDataset } from '../../data/demo';
import { TFJS_BACKENDS } from '../../tfjs/backend';
import { TFJS_TOLERANCE, tfjsGradientCheck } from '../../tfjs/gradcheck';
import { TfjsEngine } from '../../tfjs/tfjs-engine';
import { runLockstep } from '../../train/lockstep';
import { prepareData } from '../../train/prepare';
import { buildFastNetwork } from '../fast/fast-network';
import { gradientCheck, gradientPoint } from '../gradcheck';
import { Network } from '../network';
import { Rng } from '../rng';
import { ScratchEngine } from '../scratch-engine';

/**
 * The checks every layer type added through its descriptor passes, for its test file (the
 * `it`s are registered where this is called): the scratch gradient check in float64, the fast
 * path, tfjs autodiff on both backends, and 20 steps in lockstep with tfjs on both backends.
 * `spec` is a small network holding the layer ([12, 3] inputs); `trainSpec` one on the demo
 * dataset's [70, 16] inputs with 9 classes.
 */
export function layerConformance(options: {
  spec: unknown;
  trainSpec: unknown;
  layerName: string;
  wasmDir: string;
}): void {
  const { spec, trainSpec, layerName, wasmDir } = options;

  it('its backward matches central differences in float64 (every tensor compared)', () => {
    const r = gradientCheck(spec, { seed: 1 });
    expect(r.maxRelError).toBeLessThanOrEqual(1e-6);
    expect(r.ok).toBe(true);
    for (const l of r.layers) for (const t of l.tensors) expect(t.checked, t.name).toBeGreaterThan(0);
    expect(r.layers.some((l) => l.layer === layerName)).toBe(true);
  });

  it('the fast path runs its reference layer in the arena and computes what the reference network does', () => {
    const batch = 4;
    const { network: fast } = buildFastNetwork(spec, { maxBatch: batch, seed: 2 });
    const reference = new Network(spec, { maxBatch: batch, seed: 2 });
    const at = reference.layers.findIndex((l) => l.name === layerName);
    expect(fast.layers[at].constructor).toBe(reference.layers[at].constructor);
    const rng = new Rng(5);
    const x = Float32Array.from({ length: batch * reference.inputSize }, () => rng.normal());
    const labels = Int32Array.from({ length: batch }, () => rng.int(reference.resolved.classes));
    expect(fast.computeGradients(x, labels, batch)).toBeCloseTo(reference.computeGradients(x, labels, batch), 5);
    for (const [i, p] of reference.params.entries()) {
      for (let k = 0; k < p.grad.length; k++) expect(fast.params[i].grad[k], p.name).toBeCloseTo(p.grad[k], 5);
    }
  });

  it.each(TFJS_BACKENDS)('its backward matches tfjs-%s autodiff within the float32 tolerance', async (backend) => {
    const r = await tfjsGradientCheck(gradientPoint(spec, { seed: 1, batch: 3 }), { backend, wasmDir });
    for (const l of r.layers) expect(l.tfjsMaxRelError, l.layer).toBeLessThanOrEqual(TFJS_TOLERANCE);
    expect(r.ok).toBe(true);
  });

  it.each(TFJS_BACKENDS)('trains 20 steps in lockstep with tfjs-%s (Adam)', async (backend) => {
    const train = prepareData(demoDataset(), { standardize: true }).train;
    const engineOptions = {
      spec: trainSpec,
      optimizer: { optimizer: 'adam' as const, lr: 0.003 },
      maxBatch: 50,
      seed: 1,
    };
    const tfjs = await TfjsEngine.create({ ...engineOptions, backend, wasmDir });
    const r = runLockstep(new ScratchEngine(engineOptions), tfjs, train, { steps: 20, batch: 50, seed: 1 });
    tfjs.dispose();
    expect(r.maxRelLossDiff).toBeLessThanOrEqual(1e-4);
    expect(r.ok).toBe(true);
    expect(r.perStep.referenceLoss[19]).toBeLessThan(r.perStep.referenceLoss[0]);
  });
}
