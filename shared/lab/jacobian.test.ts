import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TOLERANCE } from '../engine/gradcheck';
import { TFJS_TOLERANCE } from '../tfjs/gradcheck';
import { runGradientLab } from './gradient-lab';
import { backwardJacobian, finiteDifferenceJacobian, float64Error, type Jacobian } from './jacobian';
import { buildLabProblem, labSpec, type LabSettings } from './problem';

const base = { seed: 1, makeTies: false, channels: 2, length: 8 };

/** Every layer type and option the lab offers, on shapes where windows overlap, pad and stride. */
const CASES: Array<Partial<LabSettings> & Pick<LabSettings, 'kind' | 'layer'>> = [
  { kind: 'Softmax', length: 6, layer: {} },
  { kind: 'SoftmaxNLL', length: 6, layer: {} },
  { kind: 'AveragePooling1D', layer: { poolSize: 3, strides: 1, padding: 'valid' } },
  { kind: 'AveragePooling1D', length: 7, layer: { poolSize: 4, strides: 2, padding: 'same' } },
  { kind: 'MaxPooling1D', layer: { poolSize: 3, strides: 1, padding: 'valid' } },
  { kind: 'MaxPooling1D', length: 7, layer: { poolSize: 2, strides: 3, padding: 'same' } },
  { kind: 'Conv1D', layer: { filters: 3, kernelSize: 3, strides: 1, padding: 'valid', activation: 'linear' } },
  { kind: 'Conv1D', layer: { filters: 2, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh' } },
  { kind: 'Conv1D', layer: { filters: 2, kernelSize: 2, dilationRate: 3, padding: 'same', activation: 'sigmoid' } },
  { kind: 'Conv1D', layer: { filters: 2, kernelSize: 3, padding: 'valid', activation: 'relu', useBias: false } },
  { kind: 'Dense', length: 4, layer: { units: 5, activation: 'sigmoid' } },
  { kind: 'Dense', length: 4, layer: { units: 3, activation: 'relu' } },
  { kind: 'Activation', layer: { activation: 'tanh' } },
  { kind: 'Activation', layer: { activation: 'relu' } },
  { kind: 'Flatten', length: 4, layer: {} },
  { kind: 'TimeSum', length: 5, layer: {} },
  { kind: 'GlobalAveragePooling1D', length: 5, layer: {} },
  { kind: 'Dropout', length: 5, layer: { rate: 0.4 } },
  { kind: 'BatchNormalization', length: 6, layer: {} },
];

function entry(j: Jacobian, row: number, col: number): number {
  return j.values[row * j.cols + col];
}

describe('the three Jacobians agree away from kinks', () => {
  for (const c of CASES) {
    for (const seed of [1, 2]) {
      it(`${c.kind} ${JSON.stringify(c.layer)} seed ${seed}`, async () => {
        const r = await runGradientLab({ ...base, ...c, seed });
        const { oursVsNumeric, oursVsTfjs, tfjsVsNumeric } = r.errors;
        expect(r.ours.rows * r.ours.cols).toBeGreaterThan(0);
        expect(oursVsNumeric.compared).toBeGreaterThan(0);
        expect(oursVsNumeric.maxRel).toBeLessThanOrEqual(DEFAULT_TOLERANCE);
        expect(oursVsTfjs.maxRel).toBeLessThanOrEqual(TFJS_TOLERANCE);
        expect(tfjsVsNumeric.maxRel).toBeLessThanOrEqual(TFJS_TOLERANCE);
        expect(r.ties).toEqual([]);
      });
    }
  }
});

describe('the Jacobians have the closed forms of docs/derivations.md', () => {
  it('softmax: J = diag(y) − y yᵀ, rows summing to 0', async () => {
    const r = await runGradientLab({ ...base, kind: 'Softmax', length: 5, layer: {} });
    for (let k = 0; k < 5; k++) {
      let rowSum = 0;
      for (let j = 0; j < 5; j++) {
        const expected = r.y[k] * ((k === j ? 1 : 0) - r.y[j]);
        expect(entry(r.ours, k, j)).toBeCloseTo(expected, 14);
        expect(entry(r.numeric, k, j)).toBeCloseTo(expected, 10);
        rowSum += entry(r.ours, k, j);
      }
      expect(Math.abs(rowSum)).toBeLessThan(1e-15);
    }
  });

  it('softmax + NLL: row k is softmax(z) − e_k', async () => {
    const r = await runGradientLab({ ...base, kind: 'SoftmaxNLL', length: 4, layer: {} });
    const z = r.x,
      m = Math.max(...z),
      s = z.reduce((a, v) => a + Math.exp(v - m), 0);
    for (let k = 0; k < 4; k++)
      for (let j = 0; j < 4; j++)
        expect(entry(r.ours, k, j)).toBeCloseTo(Math.exp(z[j] - m) / s - (k === j ? 1 : 0), 14);
  });

  it("average pooling 'same': +1/n_i over the real elements of window i, 0 elsewhere", async () => {
    // L = 5, W = 4, s = 1, 'same': T = 5, padLeft = 1, windows [0,3), [0,4), [1,5), [2,5), [3,5).
    const r = await runGradientLab({
      ...base,
      kind: 'AveragePooling1D',
      length: 5,
      channels: 1,
      layer: { poolSize: 4, strides: 1, padding: 'same' },
    });
    const windows = [
      [0, 3],
      [0, 4],
      [1, 5],
      [2, 5],
      [3, 5],
    ];
    windows.forEach(([start, end], i) => {
      for (let j = 0; j < 5; j++) expect(entry(r.ours, i, j)).toBe(j >= start && j < end ? 1 / (end - start) : 0);
    });
  });

  it('Flatten is the identity; GlobalAveragePooling1D is 1/L on its own channel', async () => {
    const flat = await runGradientLab({ ...base, kind: 'Flatten', length: 3, layer: {} });
    for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) expect(entry(flat.ours, i, j)).toBe(i === j ? 1 : 0);
    const gap = await runGradientLab({ ...base, kind: 'GlobalAveragePooling1D', length: 4, layer: {} });
    for (let c = 0; c < 2; c++) for (let j = 0; j < 8; j++) expect(entry(gap.ours, c, j)).toBe(j % 2 === c ? 0.25 : 0);
  });

  it('batch normalisation (training): δ_cc′ γ/√(σ²+ε) (δ_tt′ − 1/N − x̂_t x̂_t′ / N)', async () => {
    const L = 5,
      C = 2,
      eps = 1e-3;
    const r = await runGradientLab({
      ...base,
      kind: 'BatchNormalization',
      length: L,
      channels: C,
      layer: { epsilon: eps },
    });
    const gamma = r.problem.weights.get('batch_normalization_1/gamma')!;
    for (let c = 0; c < C; c++) {
      const xs = Array.from({ length: L }, (_, t) => r.x[t * C + c]);
      const mean = xs.reduce((a, v) => a + v, 0) / L;
      const s = Math.sqrt(xs.reduce((a, v) => a + (v - mean) ** 2, 0) / L + eps);
      const xHat = xs.map((v) => (v - mean) / s);
      for (let t = 0; t < L; t++) {
        for (let u = 0; u < L; u++) {
          const expected = (gamma[c] / s) * ((t === u ? 1 : 0) - 1 / L - (xHat[t] * xHat[u]) / L);
          expect(entry(r.ours, t * C + c, u * C + c)).toBeCloseTo(expected, 12);
          expect(Math.abs(entry(r.ours, t * C + c, u * C + (1 - c)))).toBe(0);
        }
      }
    }
  });

  it('dropout: a diagonal of the frozen mask, 0 or 1/(1 − rate), the same mask in tfjs', async () => {
    const r = await runGradientLab({ ...base, kind: 'Dropout', length: 6, layer: { rate: 0.5 } });
    const diagonal = Array.from({ length: 12 }, (_, i) => entry(r.ours, i, i));
    expect(new Set(diagonal)).toEqual(new Set([0, 2]));
    for (let i = 0; i < 12; i++) {
      for (let j = 0; j < 12; j++) if (i !== j) expect(entry(r.ours, i, j)).toBe(0);
      expect(entry(r.tfjs, i, i)).toBe(diagonal[i]);
    }
  });
});

describe('max-pooling ties are reported and marked, never compared', () => {
  const settings: LabSettings = {
    ...base,
    kind: 'MaxPooling1D',
    length: 8,
    channels: 2,
    layer: { poolSize: 3, strides: 1, padding: 'valid' },
    makeTies: true,
  };

  it('"make ties" makes windows whose maximum is attained twice; every tied entry is kinked', async () => {
    const r = await runGradientLab(settings);
    expect(r.ties.length).toBeGreaterThan(0);
    const tiedEntries = new Set<number>();
    for (const tie of r.ties) {
      expect(tie.inputs.length).toBeGreaterThanOrEqual(2);
      expect(new Set(tie.inputs.map((j) => r.x[j])).size).toBe(1);
      expect(r.y[tie.output]).toBe(r.x[tie.inputs[0]]);
      for (const j of tie.inputs) tiedEntries.add(tie.output * r.ours.cols + j);
    }
    const kinked = new Set([...r.kinked.keys()].filter((k) => r.kinked[k]));
    expect(kinked).toEqual(tiedEntries);
    expect(r.kinkedCount).toBe(tiedEntries.size);
  });

  it('at a tie the engine and tfjs give the whole slope to the first maximum; the central difference measures ½', async () => {
    const r = await runGradientLab(settings);
    for (const tie of r.ties) {
      const [first, ...rest] = tie.inputs;
      expect(entry(r.ours, tie.output, first)).toBe(1);
      expect(entry(r.tfjs, tie.output, first)).toBe(1);
      for (const j of rest) {
        expect(entry(r.ours, tie.output, j)).toBe(0);
        expect(entry(r.tfjs, tie.output, j)).toBe(0);
      }
      // Two-way ties: each input's one-sided slopes are 1 and 0.
      if (tie.inputs.length === 2)
        for (const j of tie.inputs) expect(entry(r.numeric, tie.output, j)).toBeCloseTo(0.5, 9);
    }
    // Away from the ties all three still agree.
    expect(r.errors.oursVsNumeric.ok && r.errors.oursVsTfjs.ok && r.errors.tfjsVsNumeric.ok).toBe(true);
  });

  it('without "make ties", random inputs tie nowhere and nothing is kinked', async () => {
    const r = await runGradientLab({ ...settings, makeTies: false });
    expect(r.ties).toEqual([]);
    expect(r.kinkedCount).toBe(0);
  });
});

describe('tfjs resources', () => {
  it('every kind leaves no tensor behind (models, inputs and gradients are disposed)', async () => {
    await runGradientLab({ ...base, ...CASES[0] });
    const before = tf.memory().numTensors;
    for (const c of CASES) await runGradientLab({ ...base, ...c });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('the comparison catches a wrong derivative', () => {
  it('one entry off by 0.1 % fails the float64 check', () => {
    const { fn } = buildLabProblem({
      ...base,
      kind: 'Conv1D',
      layer: { filters: 2, kernelSize: 3, activation: 'tanh' },
    });
    const ours = backwardJacobian(fn);
    const { jacobian: numeric, kinked } = finiteDifferenceJacobian(fn);
    expect(float64Error(ours, numeric, kinked).ok).toBe(true);
    let biggest = 0;
    ours.values.forEach((v, k) => {
      if (Math.abs(v) > Math.abs(ours.values[biggest])) biggest = k;
    });
    ours.values[biggest] *= 1.001;
    const e = float64Error(ours, numeric, kinked);
    expect(e.ok).toBe(false);
    expect(e.maxRel).toBeGreaterThan(9e-4);
  });
});

describe('settings', () => {
  it('a Dense is studied behind a Flatten; pools and convs before a Flatten and the softmax tail', () => {
    expect(labSpec({ ...base, kind: 'Dense', layer: { units: 3 } })).toEqual({
      spec: {
        input: [8, 2],
        layers: [{ type: 'Flatten' }, { units: 3, type: 'Dense' }, { type: 'Dense', units: 2, activation: 'softmax' }],
      },
      layerIndex: 1,
    });
    expect(labSpec({ ...base, kind: 'MaxPooling1D', layer: { poolSize: 2 } }).spec.layers.map((l) => l.type)).toEqual([
      'MaxPooling1D',
      'Flatten',
      'Dense',
    ]);
  });

  it("a kernel longer than the input is rejected with the spec's own message", () => {
    expect(() => buildLabProblem({ ...base, length: 3, kind: 'Conv1D', layer: { filters: 1, kernelSize: 5 } })).toThrow(
      'layer 1 Conv1D: kernelSize 5 is longer than its input length 3',
    );
  });

  it('sizes beyond what a heatmap can show are refused', () => {
    expect(() => buildLabProblem({ ...base, length: 33, kind: 'Flatten', layer: {} })).toThrow(
      'gradient lab: length must be an integer in 1…32, got 33',
    );
  });

  it('the same seed gives the same input; another seed another', () => {
    const a = buildLabProblem({ ...base, kind: 'Flatten', layer: {} }).fn.x;
    expect(buildLabProblem({ ...base, kind: 'Flatten', layer: {} }).fn.x).toEqual(a);
    expect(buildLabProblem({ ...base, seed: 2, kind: 'Flatten', layer: {} }).fn.x).not.toEqual(a);
  });
});
