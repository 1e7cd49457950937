import { describe, expect, it } from 'vitest';
import { PRESETS } from '../presets';
import { DEFAULT_TOLERANCE, gradientCheck, relativeError, type GradCheckResult } from './gradcheck';
import { Conv1D } from './layers/conv1d';
import { Dense } from './layers/dense';
import { Network } from './network';
import { Rng } from './rng';
import { LAYER_TYPES, resolveSpec, type LayerSpec, type NetworkSpec, type Pool1DConfig } from './spec';
import type { FloatArray, Layer } from './types';

function summary(r: GradCheckResult): string {
  return r.layers
    .map(
      (l) =>
        `${l.layer} (${l.className}) ${l.maxRelError.toExponential(2)}: ${l.tensors.map((t) => `${t.name} ${t.checked}/${t.skipped} ${t.maxRelError.toExponential(2)}`).join(', ')}`,
    )
    .join('\n');
}

/**
 * gradientCheck passes, and every tensor was really compared: at most `maxSkipped` of its
 * sampled elements sat on a kink. The small specs below avoid exact ties (¼); relu outputs
 * feeding a max pool tie at 0 wherever a window is all zeros, a true kink, so presets with
 * relu → max pool are allowed up to half.
 */
function expectGradientsOk(
  spec: unknown,
  options: Parameters<typeof gradientCheck>[1] = {},
  maxSkipped = 0.25,
): GradCheckResult {
  const r = gradientCheck(spec, options);
  expect(r.tolerance).toBe(1e-6);
  expect(r.maxRelError, summary(r)).toBeLessThanOrEqual(1e-6);
  expect(r.ok, summary(r)).toBe(true);
  // Every tensor of every layer was really compared, most elements without a kink.
  for (const l of r.layers)
    for (const t of l.tensors) {
      expect(t.checked, `${t.name}\n${summary(r)}`).toBeGreaterThan(0);
      expect(t.skipped, `${t.name}\n${summary(r)}`).toBeLessThanOrEqual(maxSkipped * (t.checked + t.skipped));
    }
  return r;
}

/** Small specs on a [12, 3] input that together use every layer type and every option. */
const EVERY_LAYER_SPECS: Array<{ what: string; spec: NetworkSpec }> = [
  {
    what: 'conv valid sigmoid → max pool → conv same tanh → avg pool → flatten',
    spec: {
      input: [12, 3],
      layers: [
        { type: 'Conv1D', filters: 4, kernelSize: 3, activation: 'sigmoid' },
        { type: 'MaxPooling1D', poolSize: 2 },
        { type: 'Conv1D', filters: 3, kernelSize: 2, padding: 'same', activation: 'tanh' },
        { type: 'AveragePooling1D', poolSize: 2 },
        { type: 'Flatten' },
        { type: 'Dense', units: 3, activation: 'softmax' },
      ],
    },
  },
  {
    // Sigmoid, not relu, before this overlapping max pool: relu zeros tie exactly in a window,
    // where max is not differentiable, and the check would rightly skip most of them.
    what: 'conv strides 2 same sigmoid → max pool same strides 1 → avg pool same strides 2 → time sum',
    spec: {
      input: [12, 3],
      layers: [
        { type: 'Conv1D', filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'sigmoid' },
        { type: 'MaxPooling1D', poolSize: 3, strides: 1, padding: 'same' },
        { type: 'AveragePooling1D', poolSize: 3, strides: 2, padding: 'same' },
        { type: 'TimeSum' },
        { type: 'Dense', units: 3, activation: 'softmax' },
      ],
    },
  },
  {
    what: 'conv dilation 2 no bias → activation tanh → conv dilation 3 same sigmoid → global average → dense relu',
    spec: {
      input: [12, 3],
      layers: [
        { type: 'Conv1D', filters: 4, kernelSize: 3, dilationRate: 2, useBias: false },
        { type: 'Activation', activation: 'tanh' },
        { type: 'Conv1D', filters: 2, kernelSize: 2, dilationRate: 3, padding: 'same', activation: 'sigmoid' },
        { type: 'GlobalAveragePooling1D' },
        { type: 'Dense', units: 4, activation: 'relu' },
        { type: 'Dense', units: 3, activation: 'softmax' },
      ],
    },
  },
  {
    what: 'conv strides 3 tanh → dropout → flatten → dense sigmoid no bias → activation relu → dropout → dense tanh',
    spec: {
      input: [12, 3],
      layers: [
        { type: 'Conv1D', filters: 3, kernelSize: 4, strides: 3, activation: 'tanh' },
        { type: 'Dropout', rate: 0.3 },
        { type: 'Flatten' },
        { type: 'Dense', units: 5, activation: 'sigmoid', useBias: false },
        { type: 'Activation', activation: 'relu' },
        { type: 'Dropout', rate: 0.2 },
        { type: 'Dense', units: 4, activation: 'tanh' },
        { type: 'Dense', units: 3, activation: 'softmax', useBias: false },
      ],
    },
  },
  {
    what: 'max pool valid strides 2 → activation sigmoid → conv k1 → avg pool valid strides 1 → flatten',
    spec: {
      input: [12, 3],
      layers: [
        { type: 'MaxPooling1D', poolSize: 3, strides: 2 },
        { type: 'Activation', activation: 'sigmoid' },
        { type: 'Conv1D', filters: 2, kernelSize: 1 },
        { type: 'AveragePooling1D', poolSize: 2, strides: 1 },
        { type: 'Flatten' },
        { type: 'Dense', units: 3, activation: 'softmax' },
      ],
    },
  },
  {
    what: 'avg pool same strides 3 → conv same relu → max pool same strides 3 → activation linear → global average',
    spec: {
      input: [12, 3],
      layers: [
        { type: 'AveragePooling1D', poolSize: 4, strides: 3, padding: 'same' },
        { type: 'Conv1D', filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' },
        { type: 'MaxPooling1D', poolSize: 2, strides: 3, padding: 'same' },
        { type: 'Activation', activation: 'linear' },
        { type: 'GlobalAveragePooling1D' },
        { type: 'Dense', units: 3, activation: 'softmax' },
      ],
    },
  },
  {
    what: 'conv strides 2 valid linear → conv same strides 3 relu, even kernel → flatten → dense linear',
    spec: {
      input: [12, 3],
      layers: [
        { type: 'Conv1D', filters: 3, kernelSize: 2, strides: 2 },
        { type: 'Conv1D', filters: 2, kernelSize: 4, strides: 3, padding: 'same', activation: 'relu' },
        { type: 'Flatten' },
        { type: 'Dense', units: 4 },
        { type: 'Dense', units: 3, activation: 'softmax' },
      ],
    },
  },
  {
    // Batch statistics couple the examples: every input gradient sums over the whole batch.
    what: 'conv no bias → batch norm → tanh → max pool → flatten → batch norm (flat, momentum and epsilon set) → dense',
    spec: {
      input: [12, 3],
      layers: [
        { type: 'Conv1D', filters: 4, kernelSize: 3, useBias: false },
        { type: 'BatchNormalization' },
        { type: 'Activation', activation: 'tanh' },
        { type: 'MaxPooling1D', poolSize: 2 },
        { type: 'Flatten' },
        { type: 'BatchNormalization', momentum: 0.9, epsilon: 0.01 },
        { type: 'Dense', units: 3, activation: 'softmax' },
      ],
    },
  },
  {
    // Per-row statistics couple the features of a row (layer norm); a global max picks one step per channel.
    what: 'conv tanh → layer norm → global max pool → layer norm (flat, no offset, epsilon set) → dense',
    spec: {
      input: [12, 3],
      layers: [
        { type: 'Conv1D', filters: 4, kernelSize: 3, activation: 'tanh' },
        { type: 'LayerNormalization' },
        { type: 'GlobalMaxPooling1D' },
        { type: 'LayerNormalization', center: false, epsilon: 0.01 },
        { type: 'Dense', units: 3, activation: 'softmax' },
      ],
    },
  },
];

describe('gradientCheck', () => {
  it('the every-layer-type specs really cover every layer type and option', () => {
    const configs = EVERY_LAYER_SPECS.flatMap(({ spec }) => resolveSpec(spec).layers.map((l) => l.config));
    expect(new Set(configs.map((c) => c.type))).toEqual(new Set(LAYER_TYPES));
    const conv = configs.filter((c) => c.type === 'Conv1D');
    for (const padding of ['valid', 'same'])
      expect(
        conv.some((c) => c.padding === padding),
        padding,
      ).toBe(true);
    for (const s of [2, 3])
      expect(
        conv.some((c) => c.strides === s),
        `strides ${s}`,
      ).toBe(true);
    for (const d of [2, 3])
      expect(
        conv.some((c) => c.dilationRate === d),
        `dilation ${d}`,
      ).toBe(true);
    expect(conv.some((c) => !c.useBias)).toBe(true);
    for (const a of ['linear', 'relu', 'sigmoid', 'tanh']) {
      expect(
        conv.some((c) => c.activation === a),
        `conv ${a}`,
      ).toBe(true);
      expect(
        configs.some((c) => c.type === 'Dense' && c.activation === a),
        `dense ${a}`,
      ).toBe(true);
      expect(
        configs.some((c) => c.type === 'Activation' && c.activation === a),
        `activation ${a}`,
      ).toBe(true);
    }
    for (const type of ['MaxPooling1D', 'AveragePooling1D'])
      for (const padding of ['valid', 'same']) {
        const pools = configs.filter((c): c is Pool1DConfig => c.type === type).filter((c) => c.padding === padding);
        expect(
          pools.some((c) => c.strides !== c.poolSize),
          `${type} ${padding} strides ≠ poolSize`,
        ).toBe(true);
      }
    expect(configs.some((c) => c.type === 'Dense' && !c.useBias)).toBe(true);
  });

  it.each(EVERY_LAYER_SPECS)('every layer type: $what', ({ spec }) => {
    expectGradientsOk(spec);
  });

  it('every layer type: with a batch of 1 and another seed', () => {
    for (const { spec } of EVERY_LAYER_SPECS.slice(0, 3)) expectGradientsOk(spec, { batch: 1, seed: 5 });
  });

  /**
   * Every preset's own layers. The input is the full [70, 16], except for 'best': its batch-normalised
   * 32/64/64-filter convolutions make a full-length float64 check take minutes, so its layers,
   * exactly as in the preset, are checked on 24 frames (its pools and 'valid' convolution still fit).
   */
  const CHECK_FRAMES: Record<string, number> = { best: 24 };

  it.each([...PRESETS.keys()])('every preset: %s (its layers, maxPerTensor 100)', (name) => {
    const preset = PRESETS.get(name)!;
    expect(preset.spec.input).toEqual([70, 16]);
    const spec = { ...preset.spec, input: [CHECK_FRAMES[name] ?? 70, 16] };
    const r = expectGradientsOk(spec, { maxPerTensor: 100 }, 0.5);
    expect(r.layers.map((l) => l.layer)).toEqual(resolveSpec(preset.spec).layers.map((l) => l.config.name));
  });

  describe('a wrong gradient is caught and pinned to its layer', () => {
    const spec: NetworkSpec = {
      input: [12, 3],
      layers: [
        { type: 'Conv1D', filters: 3, kernelSize: 3, activation: 'tanh' },
        { type: 'Conv1D', filters: 2, kernelSize: 3, activation: 'sigmoid' },
        { type: 'Flatten' },
        { type: 'Dense', units: 4, activation: 'tanh' },
        { type: 'Dense', units: 3, activation: 'softmax' },
      ],
    };

    /** Patches `proto.backward` so that layer `name` scales one of its param gradients after the real backward. */
    function withScaledGrad<T>(
      proto: { backward(dy: FloatArray, batch: number): FloatArray | null },
      name: string,
      param: number,
      only: number | null,
      run: () => T,
    ): T {
      const original = proto.backward;
      proto.backward = function (this: Layer, dy: FloatArray, batch: number): FloatArray | null {
        const dx = original.call(this, dy, batch);
        if (this.name === name) {
          const g = this.params[param].grad;
          if (only === null) for (let i = 0; i < g.length; i++) g[i] *= 1.001;
          else g[only] *= 1.001;
        }
        return dx;
      };
      try {
        return run();
      } finally {
        proto.backward = original;
      }
    }

    it('the unpatched network passes', () => {
      expectGradientsOk(spec);
    });

    const mutations = [
      {
        what: 'dense_1 kernel × 1.001',
        proto: Dense.prototype,
        layer: 'dense_1',
        param: 0,
        tensor: 'dense_1/kernel',
        only: null,
      },
      {
        what: 'dense_2 bias × 1.001',
        proto: Dense.prototype,
        layer: 'dense_2',
        param: 1,
        tensor: 'dense_2/bias',
        only: null,
      },
      {
        what: 'conv1d_2 bias × 1.001',
        proto: Conv1D.prototype,
        layer: 'conv1d_2',
        param: 1,
        tensor: 'conv1d_2/bias',
        only: null,
      },
      {
        what: 'one element of conv1d_1 kernel × 1.001',
        proto: Conv1D.prototype,
        layer: 'conv1d_1',
        param: 0,
        tensor: 'conv1d_1/kernel',
        only: 5,
      },
    ];

    it.each(mutations)('$what', ({ proto, layer, param, tensor, only }) => {
      const r = withScaledGrad(proto as typeof Dense.prototype, layer, param, only, () => gradientCheck(spec));
      expect(r.ok).toBe(false);
      const worst = r.layers.reduce((a, b) => (b.maxRelError > a.maxRelError ? b : a));
      expect(worst.layer, summary(r)).toBe(layer);
      const t = worst.tensors.find((x) => x.name === tensor)!;
      // |1.001·n − n| / (1.001·|n|) ≈ 1e-3 for any element above the relative-error floor.
      expect(t.maxRelError).toBeGreaterThan(5e-4);
      expect(t.maxRelError).toBeLessThan(1.5e-3);
      // Only the patched layer is wrong: the others still pass.
      for (const l of r.layers)
        if (l.layer !== layer) expect(l.maxRelError, summary(r)).toBeLessThanOrEqual(DEFAULT_TOLERANCE);
    });

    it('the patch is removed afterwards', () => {
      expect(gradientCheck(spec).ok).toBe(true);
    });
  });

  it('relu zeros tied in a max-pool window sit on a kink: they are skipped, never compared', () => {
    const r = gradientCheck({
      input: [12, 3],
      layers: [
        { type: 'Conv1D', filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' },
        { type: 'MaxPooling1D', poolSize: 3, strides: 1, padding: 'same' },
        { type: 'TimeSum' },
        { type: 'Dense', units: 3, activation: 'softmax' },
      ],
    });
    const pool = r.layers[1].tensors.find((t) => t.name === 'max_pooling1d_1/input')!;
    expect(pool.skipped).toBeGreaterThan(0);
    expect(pool.checked).toBeGreaterThan(0);
    expect(r.ok, summary(r)).toBe(true);
  });

  it('relativeError uses the 1e-5 floor near zero', () => {
    expect(relativeError(1, 1.001)).toBeCloseTo(0.001 / 1.001, 15);
    expect(relativeError(-2, 2)).toBe(2);
    expect(relativeError(1e-12, 2e-12)).toBeCloseTo(1e-12 / 1e-5, 15);
    expect(relativeError(0, 0)).toBe(0);
  });
});

/*
 * The course derivations, each checked twice: the formula written out here against finite
 * differences of the layer's forward pass, and the layer's backward against the formula.
 */

/** A float64 network with the layer under test first (input gradients on); returns that layer. */
function firstLayer(layer: LayerSpec, input: [number, number], maxBatch = 2): Layer {
  const net = new Network(
    { input, layers: [layer, { type: 'Flatten' }, { type: 'Dense', units: 2, activation: 'softmax' }] },
    { maxBatch, dtype: 'float64', inputGrad: true },
  );
  const rng = new Rng(31);
  for (const p of net.layers[0].params) for (let i = 0; i < p.value.length; i++) p.value[i] = rng.uniform(-1, 1);
  return net.layers[0];
}

/** J[i][j] = ∂y_i/∂x_j of one example by float64 central differences of `layer.forward`. */
function numericJacobian(layer: Layer, x: Float64Array, outSize: number, h = 1e-6): number[][] {
  const J = Array.from({ length: outSize }, () => new Array<number>(x.length).fill(0));
  for (let j = 0; j < x.length; j++) {
    const xp = Float64Array.from(x),
      xm = Float64Array.from(x);
    xp[j] += h;
    xm[j] -= h;
    const yp = Float64Array.from(layer.forward(xp, 1, false).subarray(0, outSize));
    const ym = Float64Array.from(layer.forward(xm, 1, false).subarray(0, outSize));
    for (let i = 0; i < outSize; i++) J[i][j] = (yp[i] - ym[i]) / (2 * h);
  }
  return J;
}

function randomVector(n: number, rng: Rng): Float64Array {
  return Float64Array.from({ length: n }, () => rng.normal());
}

describe('average pooling derivative is +1/W over j = i…i+W−1', () => {
  it('W = 3, strides 1, one channel: the finite-difference Jacobian is the banded 1/W matrix', () => {
    const L = 8,
      W = 3,
      T = L - W + 1;
    const layer = firstLayer({ type: 'AveragePooling1D', poolSize: W, strides: 1 }, [L, 1]);
    const x = randomVector(L, new Rng(1));
    const J = numericJacobian(layer, x, T);
    for (let i = 0; i < T; i++)
      for (let j = 0; j < L; j++) {
        const formula = j >= i && j <= i + W - 1 ? 1 / W : 0;
        expect(Math.abs(J[i][j] - formula), `∂y_${i}/∂x_${j}`).toBeLessThan(1e-9);
      }
    // Backward is Jᵀ·dy: dx_j = Σ_{i : i ≤ j ≤ i+W−1} dy_i / W.
    const dy = randomVector(T, new Rng(2));
    layer.forward(x, 1, true);
    const dx = layer.backward(dy, 1)!;
    for (let j = 0; j < L; j++) {
      let want = 0;
      for (let i = Math.max(0, j - W + 1); i <= Math.min(T - 1, j); i++) want += dy[i] / W;
      expect(dx[j]).toBeCloseTo(want, 14);
    }
  });

  it('W = 3 with strides 2 and 2 channels: window i covers j = 2i…2i+2, per channel', () => {
    const L = 9,
      C = 2,
      W = 3,
      S = 2,
      T = Math.floor((L - W) / S) + 1;
    const layer = firstLayer({ type: 'AveragePooling1D', poolSize: W, strides: S }, [L, C]);
    const x = randomVector(L * C, new Rng(3));
    const J = numericJacobian(layer, x, T * C);
    for (let i = 0; i < T; i++)
      for (let c = 0; c < C; c++)
        for (let j = 0; j < L; j++)
          for (let c2 = 0; c2 < C; c2++) {
            const formula = c === c2 && j >= i * S && j <= i * S + W - 1 ? 1 / W : 0;
            expect(Math.abs(J[i * C + c][j * C + c2] - formula)).toBeLessThan(1e-9);
          }
  });
});

describe('max pooling derivative routes to one arg-max', () => {
  it('each output depends on exactly one input, its window’s maximum, with slope 1', () => {
    const L = 10,
      C = 2,
      W = 3,
      S = 2,
      T = Math.floor((L - W) / S) + 1;
    const layer = firstLayer({ type: 'MaxPooling1D', poolSize: W, strides: S }, [L, C]);
    const x = randomVector(L * C, new Rng(4)); // distinct values: no ties
    const J = numericJacobian(layer, x, T * C);
    for (let i = 0; i < T; i++)
      for (let c = 0; c < C; c++) {
        let arg = i * S;
        for (let j = i * S + 1; j < i * S + W; j++) if (x[j * C + c] > x[arg * C + c]) arg = j;
        for (let j = 0; j < L * C; j++) {
          const formula = j === arg * C + c ? 1 : 0;
          expect(Math.abs(J[i * C + c][j] - formula), `∂y_${i},${c}/∂x_${j}`).toBeLessThan(1e-9);
        }
      }
    // Backward: dx_j = Σ over windows whose arg-max is j of dy_i (overlapping windows can share one).
    const dy = randomVector(T * C, new Rng(5));
    layer.forward(x, 1, true);
    const dx = layer.backward(dy, 1)!;
    for (let j = 0; j < L * C; j++) {
      let want = 0;
      for (let o = 0; o < T * C; o++) want += J[o][j] * dy[o];
      expect(dx[j]).toBeCloseTo(want, 8);
    }
  });
});

describe('convolution d/dx and d/dw', () => {
  /**
   * With z[b,t,f] = bias[f] + Σ_k Σ_c x[b, t·s + k·d − p, c] · W[k,c,f] and y = act(z):
   *   dz = dy · act'(z)
   *   dW[k,c,f] = Σ_b Σ_t x[b, t·s + k·d − p, c] · dz[b,t,f]
   *   dbias[f]  = Σ_b Σ_t dz[b,t,f]
   *   dx[b,j,c] = Σ_{t,k : t·s + k·d − p = j} Σ_f W[k,c,f] · dz[b,t,f]
   */
  function formulas(
    x: Float64Array,
    dy: Float64Array,
    W: FloatArray,
    bias: FloatArray | null,
    B: number,
    L: number,
    C: number,
    K: number,
    F: number,
    s: number,
    d: number,
    padding: 'valid' | 'same',
    activation: 'linear' | 'tanh',
  ) {
    const span = (K - 1) * d + 1;
    const T = padding === 'same' ? Math.ceil(L / s) : Math.floor((L - span) / s) + 1;
    const p = padding === 'same' ? Math.floor(Math.max((T - 1) * s + span - L, 0) / 2) : 0;
    const xAt = (b: number, j: number, c: number): number => (j < 0 || j >= L ? 0 : x[(b * L + j) * C + c]);
    const dz = new Float64Array(B * T * F);
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T; t++)
        for (let f = 0; f < F; f++) {
          let z = bias ? bias[f] : 0;
          for (let k = 0; k < K; k++)
            for (let c = 0; c < C; c++) z += xAt(b, t * s + k * d - p, c) * W[(k * C + c) * F + f];
          const i = (b * T + t) * F + f;
          dz[i] = activation === 'tanh' ? dy[i] * (1 - Math.tanh(z) ** 2) : dy[i];
        }
    const dW = new Float64Array(K * C * F),
      db = new Float64Array(F),
      dx = new Float64Array(B * L * C);
    for (let k = 0; k < K; k++)
      for (let c = 0; c < C; c++)
        for (let f = 0; f < F; f++) {
          let sum = 0;
          for (let b = 0; b < B; b++)
            for (let t = 0; t < T; t++) sum += xAt(b, t * s + k * d - p, c) * dz[(b * T + t) * F + f];
          dW[(k * C + c) * F + f] = sum;
        }
    for (let f = 0; f < F; f++) for (let i = 0; i < B * T; i++) db[f] += dz[i * F + f];
    for (let b = 0; b < B; b++)
      for (let j = 0; j < L; j++)
        for (let c = 0; c < C; c++) {
          let sum = 0;
          for (let t = 0; t < T; t++)
            for (let k = 0; k < K; k++)
              if (t * s + k * d - p === j)
                for (let f = 0; f < F; f++) sum += W[(k * C + c) * F + f] * dz[(b * T + t) * F + f];
          dx[(b * L + j) * C + c] = sum;
        }
    return { dW, db, dx, T };
  }

  const cases = [
    { K: 3, s: 1, d: 1, padding: 'valid' as const, activation: 'tanh' as const },
    { K: 3, s: 1, d: 1, padding: 'same' as const, activation: 'linear' as const },
    { K: 4, s: 1, d: 1, padding: 'same' as const, activation: 'tanh' as const },
    { K: 3, s: 2, d: 1, padding: 'valid' as const, activation: 'tanh' as const },
    { K: 2, s: 3, d: 1, padding: 'same' as const, activation: 'tanh' as const },
    { K: 3, s: 1, d: 2, padding: 'valid' as const, activation: 'linear' as const },
    { K: 3, s: 1, d: 3, padding: 'same' as const, activation: 'tanh' as const },
  ];

  it.each(cases)(
    'K=$K strides=$s dilation=$d $padding $activation: backward matches the formulas',
    ({ K, s, d, padding, activation }) => {
      const L = 11,
        C = 3,
        F = 2,
        B = 2;
      const layer = firstLayer(
        { type: 'Conv1D', filters: F, kernelSize: K, strides: s, dilationRate: d, padding, activation },
        [L, C],
        B,
      );
      const rng = new Rng(K * 100 + s * 10 + d);
      const x = randomVector(B * L * C, rng);
      const [kernel, bias] = layer.params;
      const T = padding === 'same' ? Math.ceil(L / s) : Math.floor((L - (K - 1) * d - 1) / s) + 1;
      expect(layer.outputShape).toEqual([T, F]);
      const dy = randomVector(B * T * F, rng);
      const want = formulas(x, dy, kernel.value, bias.value, B, L, C, K, F, s, d, padding, activation);
      expect(want.T).toBe(T);
      layer.forward(x, B, true);
      const got = layer.backward(dy, B)!;
      for (let i = 0; i < B * L * C; i++) expect(got[i], `dx[${i}]`).toBeCloseTo(want.dx[i], 12);
      for (let i = 0; i < K * C * F; i++) expect(kernel.grad[i], `dW[${i}]`).toBeCloseTo(want.dW[i], 12);
      for (let f = 0; f < F; f++) expect(bias.grad[f], `db[${f}]`).toBeCloseTo(want.db[f], 12);
    },
  );

  it('the formulas themselves agree with finite differences of Σ dy·y', () => {
    const L = 9,
      C = 2,
      F = 2,
      B = 1,
      K = 3,
      s = 2,
      d = 1,
      padding = 'same' as const;
    const layer = firstLayer(
      { type: 'Conv1D', filters: F, kernelSize: K, strides: s, padding, activation: 'tanh' },
      [L, C],
      1,
    );
    const rng = new Rng(77);
    const x = randomVector(L * C, rng);
    const [kernel, bias] = layer.params;
    const T = Math.ceil(L / s);
    const dy = randomVector(T * F, rng);
    const want = formulas(x, dy, kernel.value, bias.value, B, L, C, K, F, s, d, padding, 'tanh');
    // f(θ) = Σ dy · y(θ): its gradient is exactly what backward(dy) computes.
    const f = (): number => {
      const y = layer.forward(x, 1, false);
      let sum = 0;
      for (let i = 0; i < T * F; i++) sum += dy[i] * y[i];
      return sum;
    };
    const central = (arr: FloatArray, i: number): number => {
      const h = 1e-6,
        v = arr[i];
      arr[i] = v + h;
      const up = f();
      arr[i] = v - h;
      const down = f();
      arr[i] = v;
      return (up - down) / (2 * h);
    };
    for (let i = 0; i < x.length; i++) expect(Math.abs(central(x, i) - want.dx[i]), `dx[${i}]`).toBeLessThan(1e-8);
    for (let i = 0; i < kernel.value.length; i++)
      expect(Math.abs(central(kernel.value, i) - want.dW[i]), `dW[${i}]`).toBeLessThan(1e-8);
    for (let i = 0; i < F; i++) expect(Math.abs(central(bias.value, i) - want.db[i]), `db[${i}]`).toBeLessThan(1e-8);
  });
});
