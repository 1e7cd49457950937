import { describe, expect, it } from 'vitest';
import { Network } from '../network';
import { Rng } from '../rng';
import type { LayerSpec } from '../spec';
import { sizeOf, type DType, type Layer } from '../types';

/*
 * Every layer's forward pass against a naive reference written here from the layer's
 * definition (tfjs/Keras conventions, channels-last [batch, time, channels]): explicit
 * zero (or −∞) padding, then direct nested loops. The references share no code with the engine.
 */

type Act = 'linear' | 'relu' | 'sigmoid' | 'tanh';
const ACTS: Act[] = ['linear', 'relu', 'sigmoid', 'tanh'];

function act(kind: Act, z: number): number {
  switch (kind) {
    case 'linear':
      return z;
    case 'relu':
      return Math.max(0, z);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-z));
    case 'tanh':
      return (Math.exp(z) - Math.exp(-z)) / (Math.exp(z) + Math.exp(-z));
  }
}

/** TensorFlow's SAME padding: ⌈L/s⌉ outputs, total pad max((T−1)s + span − L, 0), the odd step on the right. */
function samePadding(L: number, span: number, s: number): { T: number; left: number; total: number } {
  const T = Math.ceil(L / s);
  const total = Math.max((T - 1) * s + span - L, 0);
  return { T, left: Math.floor(total / 2), total };
}

function outLength(L: number, span: number, s: number, padding: 'valid' | 'same'): number {
  return padding === 'same' ? Math.ceil(L / s) : Math.floor((L - span) / s) + 1;
}

/** x[b, j, c] of a [B, L, C] array, with `fill` for positions in an explicit padding of `left` steps. */
function padded(x: ArrayLike<number>, L: number, C: number, left: number, fill: number) {
  return (b: number, j: number, c: number): number => {
    const t = j - left;
    return t < 0 || t >= L ? fill : x[(b * L + t) * C + c];
  };
}

function randomArray(n: number, rng: Rng, scale = 1): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * rng.normal();
  return a;
}

/** Builds a network from `prefix`, the layer under test and a softmax head; returns that layer. */
function makeLayer(
  layer: LayerSpec,
  input: [number, number],
  options: { prefix?: LayerSpec[]; maxBatch?: number; dtype?: DType; seed?: number } = {},
): { net: Network; layer: Layer } {
  const prefix = options.prefix ?? [];
  const net = new Network(
    { input, layers: [...prefix, layer, { type: 'Flatten' }, { type: 'Dense', units: 2, activation: 'softmax' }] },
    { maxBatch: options.maxBatch ?? 3, dtype: options.dtype ?? 'float64', seed: options.seed ?? 1 },
  );
  const l = net.layers[prefix.length];
  l.needInputGrad = true;
  // Random params (biases too: they start at zero, which would hide a wrong bias index).
  const rng = new Rng(99);
  for (const p of l.params) for (let i = 0; i < p.value.length; i++) p.value[i] = rng.uniform(-1, 1);
  return { net, layer: l };
}

function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  n: number,
  tol: number,
  what: string,
): void {
  for (let i = 0; i < n; i++) {
    const e = expected[i],
      a = actual[i];
    if (!(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)))) {
      throw new Error(`${what}: element ${i} is ${a}, expected ${e} (tolerance ${tol})`);
    }
  }
}

describe('Conv1D forward vs a naive zero-padded cross-correlation', () => {
  /** z[b,t,f] = bias[f] + Σ_k Σ_c xpad[b, t·s + k·d, c] · W[k,c,f]. */
  function reference(
    x: ArrayLike<number>,
    B: number,
    L: number,
    C: number,
    W: ArrayLike<number>,
    bias: ArrayLike<number> | null,
    K: number,
    F: number,
    s: number,
    d: number,
    padding: 'valid' | 'same',
    a: Act,
  ) {
    const span = (K - 1) * d + 1;
    const T = outLength(L, span, s, padding);
    const left = padding === 'same' ? samePadding(L, span, s).left : 0;
    const xp = padded(x, L, C, left, 0);
    const y = new Float64Array(B * T * F);
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T; t++)
        for (let f = 0; f < F; f++) {
          let z = bias ? bias[f] : 0;
          for (let k = 0; k < K; k++) for (let c = 0; c < C; c++) z += xp(b, t * s + k * d, c) * W[(k * C + c) * F + f];
          y[(b * T + t) * F + f] = act(a, z);
        }
    return { y, T };
  }

  const cases: Array<{
    L: number;
    C: number;
    F: number;
    K: number;
    s: number;
    d: number;
    padding: 'valid' | 'same';
    useBias: boolean;
    activation: Act;
  }> = [];
  for (const padding of ['valid', 'same'] as const)
    for (const [s, d] of [
      [1, 1],
      [2, 1],
      [3, 1],
      [1, 2],
      [1, 3],
    ])
      for (const K of [1, 2, 3, 4])
        for (const L of [10, 11])
          cases.push({
            L,
            C: 3,
            F: 4,
            K,
            s,
            d,
            padding,
            useBias: (K + s + d) % 2 === 0,
            activation: ACTS[(K + L + s) % 4],
          });
  for (const activation of ACTS)
    for (const useBias of [true, false])
      cases.push({ L: 11, C: 2, F: 3, K: 3, s: 2, d: 1, padding: 'same', useBias, activation });

  it.each(cases)(
    'L=$L K=$K strides=$s dilation=$d $padding useBias=$useBias $activation',
    ({ L, C, F, K, s, d, padding, useBias, activation }) => {
      const { layer } = makeLayer(
        { type: 'Conv1D', filters: F, kernelSize: K, strides: s, dilationRate: d, padding, useBias, activation },
        [L, C],
        { maxBatch: 4 },
      );
      const rng = new Rng(L * 1000 + K * 100 + s * 10 + d);
      const B = 3;
      const x = randomArray(4 * L * C, rng);
      const W = layer.params[0].value;
      const bias = useBias ? layer.params[1].value : null;
      expect(layer.params.length).toBe(useBias ? 2 : 1);
      expect(layer.params[0].shape).toEqual([K, C, F]);
      const { y, T } = reference(x, B, L, C, W, bias, K, F, s, d, padding, activation);
      expect(layer.outputShape).toEqual([T, F]);
      const out = layer.forward(x, B, false);
      expectClose(out, y, B * T * F, 1e-12, 'conv1d');
    },
  );

  it('float32 matches the float64 reference to float32 precision', () => {
    const { layer } = makeLayer(
      { type: 'Conv1D', filters: 5, kernelSize: 3, padding: 'same', activation: 'tanh' },
      [16, 4],
      { dtype: 'float32' },
    );
    const rng = new Rng(5);
    const x = Float32Array.from(randomArray(3 * 16 * 4, rng));
    const { y } = reference(x, 3, 16, 4, layer.params[0].value, layer.params[1].value, 3, 5, 1, 1, 'same', 'tanh');
    expect(layer.forward(x, 3, false)).toBeInstanceOf(Float32Array);
    expectClose(layer.forward(x, 3, false), y, y.length, 1e-5, 'conv1d float32');
  });

  it('a hand-computed case: x = [1,2,3,4], one channel, kernel [1,−1], same padding', () => {
    // span 2, T = 4, total pad 1 → 0 left, 1 right: z_t = x_t − x_{t+1} with x_4 = 0.
    const { layer } = makeLayer(
      { type: 'Conv1D', filters: 1, kernelSize: 2, padding: 'same', useBias: false },
      [4, 1],
      { maxBatch: 1 },
    );
    layer.params[0].value.set([1, -1]);
    expect(Array.from(layer.forward(Float64Array.from([1, 2, 3, 4]), 1, false).subarray(0, 4))).toEqual([
      -1, -1, -1, 4,
    ]);
  });
});

describe('pooling forward vs a naive padded reference', () => {
  /** Max over the −∞-padded window; the first (lowest-index) maximum is the arg-max. */
  function refMax(
    x: ArrayLike<number>,
    B: number,
    L: number,
    C: number,
    W: number,
    s: number,
    padding: 'valid' | 'same',
  ) {
    const T = outLength(L, W, s, padding);
    const left = padding === 'same' ? samePadding(L, W, s).left : 0;
    const xp = padded(x, L, C, left, -Infinity);
    const y = new Float64Array(B * T * C),
      arg = new Int32Array(B * T * C);
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T; t++)
        for (let c = 0; c < C; c++) {
          let best = -Infinity,
            at = -1;
          for (let w = 0; w < W; w++) {
            const v = xp(b, t * s + w, c);
            if (v > best) {
              best = v;
              at = t * s + w - left;
            }
          }
          y[(b * T + t) * C + c] = best;
          arg[(b * T + t) * C + c] = (b * L + at) * C + c;
        }
    return { y, arg, T };
  }

  /** Mean over the real (unpadded) elements of each window. */
  function refAvg(
    x: ArrayLike<number>,
    B: number,
    L: number,
    C: number,
    W: number,
    s: number,
    padding: 'valid' | 'same',
  ) {
    const T = outLength(L, W, s, padding);
    const left = padding === 'same' ? samePadding(L, W, s).left : 0;
    const xp = padded(x, L, C, left, NaN);
    const y = new Float64Array(B * T * C),
      count = new Int32Array(T);
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T; t++)
        for (let c = 0; c < C; c++) {
          let sum = 0,
            n = 0;
          for (let w = 0; w < W; w++) {
            const v = xp(b, t * s + w, c);
            if (!Number.isNaN(v)) {
              sum += v;
              n++;
            }
          }
          y[(b * T + t) * C + c] = sum / n;
          count[t] = n;
        }
    return { y, T, count };
  }

  const cases: Array<{ L: number; W: number; s: number; padding: 'valid' | 'same' }> = [];
  for (const padding of ['valid', 'same'] as const)
    for (const L of [7, 8, 10])
      for (const W of [1, 2, 3, 4]) for (const s of [1, 2, 3, 5]) cases.push({ L, W, s, padding });

  it.each(cases)(
    'MaxPooling1D L=$L poolSize=$W strides=$s $padding: forward and arg-max backward',
    ({ L, W, s, padding }) => {
      const C = 3,
        B = 2;
      const { layer } = makeLayer({ type: 'MaxPooling1D', poolSize: W, strides: s, padding }, [L, C]);
      const rng = new Rng(L * 100 + W * 10 + s);
      const x = randomArray(3 * L * C, rng);
      const { y, arg, T } = refMax(x, B, L, C, W, s, padding);
      expect(layer.outputShape).toEqual([T, C]);
      expectClose(layer.forward(x, B, false), y, B * T * C, 0, 'max pool');
      // Backward routes each dy to its window's arg-max (summing where windows overlap).
      const dy = randomArray(3 * T * C, rng);
      const dx = new Float64Array(B * L * C);
      for (let o = 0; o < B * T * C; o++) dx[arg[o]] += dy[o];
      expectClose(layer.backward(dy, B)!, dx, B * L * C, 1e-15, 'max pool backward');
    },
  );

  it.each(cases)('AveragePooling1D L=$L poolSize=$W strides=$s $padding', ({ L, W, s, padding }) => {
    const C = 3,
      B = 2;
    const { layer } = makeLayer({ type: 'AveragePooling1D', poolSize: W, strides: s, padding }, [L, C]);
    const rng = new Rng(L * 100 + W * 10 + s + 7);
    const x = randomArray(3 * L * C, rng);
    const { y, T } = refAvg(x, B, L, C, W, s, padding);
    expect(layer.outputShape).toEqual([T, C]);
    expectClose(layer.forward(x, B, false), y, B * T * C, 1e-14, 'average pool');
  });

  it("'same' average pooling divides by the count of real elements, not poolSize", () => {
    // L = 5, poolSize 4, strides 1: T = 5, total pad 3 → 1 left, 2 right.
    // Windows over real indices: [0,2], [0,3], [1,4], [2,4], [3,4].
    const { layer } = makeLayer({ type: 'AveragePooling1D', poolSize: 4, strides: 1, padding: 'same' }, [5, 1], {
      maxBatch: 1,
    });
    const x = Float64Array.from([1, 2, 4, 8, 16]);
    const y = Array.from(layer.forward(x, 1, false).subarray(0, 5));
    expect(y).toEqual([(1 + 2 + 4) / 3, (1 + 2 + 4 + 8) / 4, (2 + 4 + 8 + 16) / 4, (4 + 8 + 16) / 3, (8 + 16) / 2]);
    // Backward: dx[j] = Σ over windows containing j of dy[i] / |window(i)|.
    const dx = Array.from(layer.backward(Float64Array.from([1, 1, 1, 1, 1]), 1)!.subarray(0, 5));
    const expected = [
      1 / 3 + 1 / 4,
      1 / 3 + 1 / 4 + 1 / 4,
      1 / 3 + 1 / 4 + 1 / 4 + 1 / 3,
      1 / 4 + 1 / 4 + 1 / 3 + 1 / 2,
      1 / 4 + 1 / 3 + 1 / 2,
    ];
    expectClose(dx, expected, 5, 1e-15, 'average pool backward');
  });

  it("'same' max pooling never picks a padded position, even when every real value is negative", () => {
    const { layer } = makeLayer({ type: 'MaxPooling1D', poolSize: 3, strides: 1, padding: 'same' }, [4, 1], {
      maxBatch: 1,
    });
    const y = Array.from(layer.forward(Float64Array.from([-5, -7, -6, -9]), 1, false).subarray(0, 4));
    expect(y).toEqual([-5, -5, -6, -6]);
  });

  it('max-pool ties: x = [−0.5, −0.2, −3, −1], pool 2, backward of ones gives dx = [0, 1, 0, 1]', () => {
    const { layer } = makeLayer({ type: 'MaxPooling1D', poolSize: 2 }, [4, 1], { maxBatch: 1 });
    const y = layer.forward(Float64Array.from([-0.5, -0.2, -3, -1]), 1, false);
    expect(Array.from(y.subarray(0, 2))).toEqual([-0.2, -1]);
    expect(Array.from(layer.backward(Float64Array.from([1, 1]), 1)!.subarray(0, 4))).toEqual([0, 1, 0, 1]);
  });

  it('an exact tie [2, 2] sends the whole gradient to the first (lower index) element', () => {
    const { layer } = makeLayer({ type: 'MaxPooling1D', poolSize: 2 }, [4, 2], { maxBatch: 1 });
    // Channel 0: windows [2, 2] and [1, 1]; channel 1: [−3, −3] and [5, 5].
    const x = Float64Array.from([2, -3, 2, -3, 1, 5, 1, 5]);
    const y = layer.forward(x, 1, false);
    expect(Array.from(y.subarray(0, 4))).toEqual([2, -3, 1, 5]);
    const dx = layer.backward(Float64Array.from([0.5, 3, 7, -2]), 1)!;
    expect(Array.from(dx.subarray(0, 8))).toEqual([0.5, 3, 0, 0, 7, -2, 0, 0]);
  });
});

describe('Dense forward (and backward) vs naive loops', () => {
  for (const activation of ACTS)
    for (const useBias of [true, false])
      it(`${activation}, useBias ${useBias}`, () => {
        const I = 12,
          U = 5,
          B = 3;
        const { layer } = makeLayer({ type: 'Dense', units: U, activation, useBias }, [4, 3], {
          prefix: [{ type: 'Flatten' }],
          maxBatch: 4,
        });
        expect(layer.params[0].shape).toEqual([I, U]);
        const rng = new Rng(3);
        const x = randomArray(4 * I, rng);
        const W = layer.params[0].value,
          bias = useBias ? layer.params[1].value : null;
        const y = new Float64Array(B * U);
        for (let b = 0; b < B; b++)
          for (let u = 0; u < U; u++) {
            let z = bias ? bias[u] : 0;
            for (let i = 0; i < I; i++) z += x[b * I + i] * W[i * U + u];
            y[b * U + u] = act(activation, z);
          }
        expectClose(layer.forward(x, B, true), y, B * U, 1e-13, 'dense');

        // dz = dy·f'(z) with f' from the float64 formula; dW = xᵀdz, db = Σ_b dz, dx = dz Wᵀ.
        const dy = randomArray(4 * U, rng);
        const fprime = (v: number): number => {
          const e = 1e-6;
          return (act(activation, v + e) - act(activation, v - e)) / (2 * e);
        };
        const dz = new Float64Array(B * U);
        for (let b = 0; b < B; b++)
          for (let u = 0; u < U; u++) {
            let z = bias ? bias[u] : 0;
            for (let i = 0; i < I; i++) z += x[b * I + i] * W[i * U + u];
            dz[b * U + u] = dy[b * U + u] * fprime(z);
          }
        const dW = new Float64Array(I * U),
          db = new Float64Array(U),
          dx = new Float64Array(B * I);
        for (let b = 0; b < B; b++)
          for (let u = 0; u < U; u++) {
            db[u] += dz[b * U + u];
            for (let i = 0; i < I; i++) {
              dW[i * U + u] += x[b * I + i] * dz[b * U + u];
              dx[b * I + i] += W[i * U + u] * dz[b * U + u];
            }
          }
        const got = layer.backward(dy, B)!;
        expectClose(got, dx, B * I, 1e-8, 'dense dx');
        expectClose(layer.params[0].grad, dW, I * U, 1e-8, 'dense dW');
        if (bias) expectClose(layer.params[1].grad, db, U, 1e-8, 'dense db');
      });
});

describe('Flatten, TimeSum, GlobalAveragePooling1D', () => {
  it('Flatten is channels-last: flat index t·C + c, as a following Dense kernel row sees it', () => {
    const L = 4,
      C = 3,
      U = 2,
      B = 2;
    const net = new Network(
      { input: [L, C], layers: [{ type: 'Flatten' }, { type: 'Dense', units: U, activation: 'softmax' }] },
      { maxBatch: B, dtype: 'float64' },
    );
    expect(net.layers[0].outputShape).toEqual([L * C]);
    const rng = new Rng(4);
    const x = randomArray(B * L * C, rng);
    const flat = net.layers[0].forward(x, B, false);
    for (let b = 0; b < B; b++)
      for (let t = 0; t < L; t++)
        for (let c = 0; c < C; c++) expect(flat[b * L * C + t * C + c]).toBe(x[(b * L + t) * C + c]);
    // Logits through the network: z[b,u] = Σ_t Σ_c x[b,t,c] · W[t·C + c, u] (bias 0 at init).
    const W = net.params[0].value;
    const logits = net.forward(x, B, false);
    for (let b = 0; b < B; b++)
      for (let u = 0; u < U; u++) {
        let z = 0;
        for (let t = 0; t < L; t++) for (let c = 0; c < C; c++) z += x[(b * L + t) * C + c] * W[(t * C + c) * U + u];
        expect(logits[b * U + u]).toBeCloseTo(z, 12);
      }
    const dy = randomArray(B * L * C, rng);
    net.layers[0].needInputGrad = true;
    expect(Array.from(net.layers[0].backward(dy, B)!.subarray(0, B * L * C))).toEqual(Array.from(dy));
  });

  for (const type of ['TimeSum', 'GlobalAveragePooling1D'] as const)
    it(`${type}: y[b,c] = ${type === 'TimeSum' ? 'Σ_t' : '(1/T) Σ_t'} x[b,t,c], dx[b,t,c] = ${type === 'TimeSum' ? '' : '(1/T)·'}dy[b,c]`, () => {
      const L = 7,
        C = 3,
        B = 3;
      const { layer } = makeLayer({ type }, [L, C], { maxBatch: 4 });
      expect(layer.outputShape).toEqual([C]);
      expect(layer.className).toBe(type);
      const rng = new Rng(8);
      const x = randomArray(4 * L * C, rng);
      const y = new Float64Array(B * C);
      for (let b = 0; b < B; b++)
        for (let c = 0; c < C; c++) {
          let s = 0;
          for (let t = 0; t < L; t++) s += x[(b * L + t) * C + c];
          y[b * C + c] = type === 'TimeSum' ? s : s / L;
        }
      expectClose(layer.forward(x, B, false), y, B * C, 1e-14, type);
      const dy = randomArray(4 * C, rng);
      const dx = layer.backward(dy, B)!;
      for (let b = 0; b < B; b++)
        for (let t = 0; t < L; t++)
          for (let c = 0; c < C; c++)
            expect(dx[(b * L + t) * C + c]).toBeCloseTo(type === 'TimeSum' ? dy[b * C + c] : dy[b * C + c] / L, 15);
    });
});

describe('Dropout', () => {
  const rate = 0.3;

  it('inference is the identity (forward and backward)', () => {
    const { layer } = makeLayer({ type: 'Dropout', rate }, [5, 4]);
    const rng = new Rng(1);
    const x = randomArray(3 * 20, rng);
    const y = layer.forward(x, 3, false);
    expect(Array.from(y.subarray(0, 60))).toEqual(Array.from(x));
    const dy = randomArray(60, rng);
    expect(Array.from(layer.backward(dy, 3)!.subarray(0, 60))).toEqual(Array.from(dy));
  });

  it('training keeps elements scaled by 1/(1 − rate), drops ≈ rate of them, and backward uses the same mask', () => {
    const L = 500,
      C = 20,
      B = 10,
      n = B * L * C; // 100 000 elements
    const { layer } = makeLayer({ type: 'Dropout', rate }, [L, C], { maxBatch: B });
    const rng = new Rng(2);
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) x[i] = 0.5 + rng.next(); // never 0, so a kept element is never 0
    const y = Float64Array.from(layer.forward(x, B, true));
    let dropped = 0;
    for (let i = 0; i < n; i++) {
      if (y[i] === 0) dropped++;
      else if (Math.abs(y[i] - x[i] / (1 - rate)) > 1e-12)
        throw new Error(`element ${i}: ${y[i]} is neither 0 nor x/(1 − rate)`);
    }
    // Binomial(n, 0.3): standard deviation of the fraction √(0.21/n) ≈ 0.0014; allow 7σ.
    expect(Math.abs(dropped / n - rate)).toBeLessThan(0.01);
    const dy = randomArray(n, rng);
    const dx = layer.backward(dy, B)!;
    for (let i = 0; i < n; i++) {
      const want = y[i] === 0 ? 0 : dy[i] / (1 - rate);
      if (Math.abs(dx[i] - want) > 1e-12) throw new Error(`dx[${i}] = ${dx[i]}, expected ${want}`);
    }
  });

  it('draws a fresh mask every training pass, unless frozen', () => {
    const { layer } = makeLayer({ type: 'Dropout', rate: 0.5 }, [50, 4], { maxBatch: 2 });
    const x = new Float64Array(400).fill(1);
    const a = Array.from(layer.forward(x, 2, true));
    const b = Array.from(layer.forward(x, 2, true));
    expect(a).not.toEqual(b);
    layer.freezeRandomness!(true);
    const c = Array.from(layer.forward(x, 2, true));
    expect(Array.from(layer.forward(x, 2, true))).toEqual(c);
    expect(c).toEqual(b);
    layer.freezeRandomness!(false);
  });

  it('the same seed draws the same masks', () => {
    const masks = [1, 1, 2].map((seed) => {
      const { layer } = makeLayer({ type: 'Dropout', rate: 0.5 }, [50, 4], { maxBatch: 2, seed });
      return Array.from(layer.forward(new Float64Array(400).fill(1), 2, true));
    });
    expect(masks[0]).toEqual(masks[1]);
    expect(masks[0]).not.toEqual(masks[2]);
  });

  it('rate 0 is the identity even in training', () => {
    const { layer } = makeLayer({ type: 'Dropout', rate: 0 }, [5, 4]);
    const x = randomArray(60, new Rng(3));
    expect(Array.from(layer.forward(x, 3, true).subarray(0, 60))).toEqual(Array.from(x));
  });
});

describe('Activation layer', () => {
  for (const activation of ACTS)
    it(`${activation}: forward and backward`, () => {
      const { layer } = makeLayer({ type: 'Activation', activation }, [6, 3]);
      const rng = new Rng(6);
      const x = randomArray(3 * 18, rng, 2);
      const y = layer.forward(x, 3, true);
      expectClose(
        y,
        Array.from(x, (v) => act(activation, v)),
        54,
        1e-14,
        activation,
      );
      const dy = randomArray(54, rng);
      const dx = layer.backward(dy, 3)!;
      // f' written from the definitions: relu [z>0], sigmoid σ(1−σ), tanh 1−tanh², linear 1.
      const fprime = (z: number): number =>
        activation === 'relu'
          ? z > 0
            ? 1
            : 0
          : activation === 'sigmoid'
            ? act('sigmoid', z) * (1 - act('sigmoid', z))
            : activation === 'tanh'
              ? 1 - act('tanh', z) ** 2
              : 1;
      expectClose(
        dx,
        Array.from(x, (v, i) => dy[i] * fprime(v)),
        54,
        1e-13,
        `${activation} backward`,
      );
      expect(Array.from(x.subarray(0, 3))).not.toEqual([0, 0, 0]); // forward did not clobber its input
    });
});

describe('buffers are preallocated and reused', () => {
  const layers: Array<{
    what: string;
    spec: LayerSpec;
    input: [number, number];
    prefix?: LayerSpec[];
    training: boolean;
  }> = [
    {
      what: 'Conv1D',
      spec: { type: 'Conv1D', filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' },
      input: [8, 2],
      training: true,
    },
    { what: 'MaxPooling1D', spec: { type: 'MaxPooling1D', poolSize: 3, strides: 2 }, input: [8, 2], training: true },
    {
      what: 'AveragePooling1D',
      spec: { type: 'AveragePooling1D', poolSize: 2, padding: 'same' },
      input: [9, 2],
      training: true,
    },
    {
      what: 'Dense',
      spec: { type: 'Dense', units: 4, activation: 'tanh' },
      input: [8, 2],
      prefix: [{ type: 'Flatten' }],
      training: true,
    },
    { what: 'Flatten', spec: { type: 'Flatten' }, input: [8, 2], training: true },
    { what: 'TimeSum', spec: { type: 'TimeSum' }, input: [8, 2], training: true },
    { what: 'GlobalAveragePooling1D', spec: { type: 'GlobalAveragePooling1D' }, input: [8, 2], training: true },
    { what: 'Dropout (training)', spec: { type: 'Dropout', rate: 0.4 }, input: [8, 2], training: true },
    { what: 'Dropout (inference)', spec: { type: 'Dropout', rate: 0.4 }, input: [8, 2], training: false },
    { what: 'Activation', spec: { type: 'Activation', activation: 'sigmoid' }, input: [8, 2], training: true },
  ];

  it.each(layers)(
    '$what returns the same output and input-gradient buffers on every call, with fresh values',
    ({ spec, input, prefix, training }) => {
      const { layer } = makeLayer(spec, input, { prefix, maxBatch: 3 });
      const inSize = sizeOf(layer.inputShape),
        outSize = sizeOf(layer.outputShape);
      const rng = new Rng(12);
      const x = randomArray(3 * inSize, rng);
      const dy = randomArray(3 * outSize, rng);
      const y1 = layer.forward(x, 3, training);
      const first = Float64Array.from(y1.subarray(0, 3 * outSize));
      const dx1 = layer.backward(dy, 3);
      expect(dx1).not.toBeNull();
      const firstDx = Float64Array.from(dx1!.subarray(0, 3 * inSize));
      // Second call: same buffer objects in, different values.
      for (let i = 0; i < x.length; i++) x[i] = -2 * x[i] + 0.25;
      for (let i = 0; i < dy.length; i++) dy[i] = 3 * dy[i] - 0.5;
      const y2 = layer.forward(x, 3, training);
      const dx2 = layer.backward(dy, 3);
      expect(y2).toBe(y1);
      expect(dx2).toBe(dx1);
      // The buffers hold the new pass, not the old one.
      expect(Array.from(y2.subarray(0, 3 * outSize))).not.toEqual(Array.from(first));
      expect(Array.from(dx2!.subarray(0, 3 * inSize))).not.toEqual(Array.from(firstDx));
    },
  );

  it('params keep their value and grad arrays across steps', () => {
    const { net, layer } = makeLayer({ type: 'Conv1D', filters: 3, kernelSize: 2 }, [6, 2]);
    const values = layer.params.map((p) => p.value),
      grads = layer.params.map((p) => p.grad);
    const x = Float32Array.from(randomArray(3 * 12, new Rng(1)));
    const labels = Int32Array.from([0, 1, 0]);
    net.computeGradients(Float64Array.from(x), labels, 3);
    net.computeGradients(Float64Array.from(x), labels, 3);
    layer.params.forEach((p, i) => {
      expect(p.value).toBe(values[i]);
      expect(p.grad).toBe(grads[i]);
    });
  });

  it('a batch smaller than maxBatch only reads and writes its own examples', () => {
    const { layer } = makeLayer({ type: 'Conv1D', filters: 2, kernelSize: 3 }, [6, 2], { maxBatch: 4 });
    const rng = new Rng(21);
    const x = randomArray(4 * 12, rng);
    const full = Float64Array.from(layer.forward(x, 4, false));
    const x2 = Float64Array.from(x);
    for (let i = 2 * 12; i < x2.length; i++) x2[i] = 1e6; // examples 2 and 3 are junk
    const y = layer.forward(x2, 2, false);
    expect(Array.from(y.subarray(0, 2 * 4 * 2))).toEqual(Array.from(full.subarray(0, 2 * 4 * 2)));
    // Examples beyond `batch` keep the previous call's output.
    expect(Array.from(y.subarray(2 * 4 * 2))).toEqual(Array.from(full.subarray(2 * 4 * 2)));
  });
});

describe('param gradients are set, not accumulated', () => {
  const cases: Array<{ what: string; spec: LayerSpec; prefix?: LayerSpec[] }> = [
    {
      what: 'Conv1D',
      spec: { type: 'Conv1D', filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh' },
    },
    { what: 'Dense', spec: { type: 'Dense', units: 4, activation: 'sigmoid' }, prefix: [{ type: 'Flatten' }] },
  ];

  it.each(cases)('$what: two identical backward passes leave identical grads', ({ spec, prefix }) => {
    const { layer } = makeLayer(spec, [9, 2], { prefix });
    const rng = new Rng(40);
    const x = randomArray(3 * 18, rng);
    const dy = randomArray(3 * sizeOf(layer.outputShape), rng);
    layer.forward(x, 3, true);
    layer.backward(dy, 3);
    const first = layer.params.map((p) => Array.from(p.grad));
    expect(first[0].some((g) => g !== 0)).toBe(true);
    layer.forward(x, 3, true);
    layer.backward(dy, 3);
    expect(layer.params.map((p) => Array.from(p.grad))).toEqual(first);
  });

  it('Network.computeGradients twice on one batch gives the same grads for every param', () => {
    const net = new Network(
      {
        input: [10, 3],
        layers: [
          { type: 'Conv1D', filters: 4, kernelSize: 3, activation: 'relu' },
          { type: 'MaxPooling1D' },
          { type: 'Flatten' },
          { type: 'Dense', units: 5, activation: 'tanh' },
          { type: 'Dense', units: 3, activation: 'softmax' },
        ],
      },
      { maxBatch: 4, dtype: 'float64', seed: 2 },
    );
    const x = randomArray(4 * 30, new Rng(41));
    const labels = Int32Array.from([0, 2, 1, 2]);
    const l1 = net.computeGradients(x, labels, 4);
    const first = net.params.map((p) => Array.from(p.grad));
    const l2 = net.computeGradients(x, labels, 4);
    expect(l2).toBe(l1);
    expect(net.params.map((p) => Array.from(p.grad))).toEqual(first);
  });
});

describe('Network initialisation', () => {
  it('kernels are Glorot-uniform, U(−a, a) with a = √(6 / (fanIn + fanOut)); biases are zero', () => {
    // Conv kernel [k, in, out]: fanIn = k·in, fanOut = k·out. Dense kernel [in, out].
    const net = new Network(
      {
        input: [40, 16],
        layers: [
          { type: 'Conv1D', filters: 64, kernelSize: 5 },
          { type: 'Flatten' },
          { type: 'Dense', units: 9, activation: 'softmax' },
        ],
      },
      { maxBatch: 1, seed: 3 },
    );
    const limits = [Math.sqrt(6 / (5 * 16 + 5 * 64)), 0, Math.sqrt(6 / (36 * 64 + 9)), 0];
    expect(net.params.map((p) => p.name)).toEqual([
      'conv1d_1/kernel',
      'conv1d_1/bias',
      'dense_1/kernel',
      'dense_1/bias',
    ]);
    net.params.forEach((p, i) => {
      const a = limits[i];
      if (a === 0) {
        expect(
          Array.from(p.value).every((v) => v === 0),
          p.name,
        ).toBe(true);
        return;
      }
      let max = 0,
        sumSq = 0;
      for (const v of p.value) {
        max = Math.max(max, Math.abs(v));
        sumSq += v * v;
      }
      expect(max, p.name).toBeLessThanOrEqual(a);
      expect(max, p.name).toBeGreaterThan(0.99 * a);
      // Var U(−a, a) = a²/3; with n ≥ 5120 draws the sample variance is within a few percent.
      expect(sumSq / p.value.length / ((a * a) / 3), p.name).toBeGreaterThan(0.93);
      expect(sumSq / p.value.length / ((a * a) / 3), p.name).toBeLessThan(1.07);
    });
  });

  it('the same seed gives the same weights; another seed other weights', () => {
    const spec = {
      input: [20, 4],
      layers: [
        { type: 'Conv1D', filters: 3, kernelSize: 3, activation: 'sigmoid' },
        { type: 'TimeSum' },
        { type: 'Dense', units: 9, activation: 'softmax' },
      ],
    };
    const w = (seed: number) => new Network(spec, { maxBatch: 1, seed }).getWeights();
    expect(w(5)).toEqual(w(5));
    expect(w(5).get('conv1d_1/kernel')).not.toEqual(w(6).get('conv1d_1/kernel'));
  });
});
