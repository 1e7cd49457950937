import { describe, expect, it } from 'vitest';
import { Network } from '../network';
import { Rng } from '../rng';
import type { LayerSpec } from '../spec';
import { sizeOf, type FloatArray, type Layer } from '../types';
import { buildFastNetwork } from './fast-network';

/*
 * Each fast layer against its reference layer (layers/*.ts, float32): the same params, input
 * and output gradient in, the same output, input gradient and param gradients out, up to
 * float32 rounding (the reference adds in float64 before rounding each stored value).
 */

const B = 5;

function randomFill(a: FloatArray, rng: Rng): void {
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
}

/** Largest |a − e| relative to the largest |e| (at least 1), over the first n values. */
function normwiseError(a: ArrayLike<number>, e: ArrayLike<number>, n: number): number {
  let scale = 1,
    worst = 0;
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(e[i]));
  for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(a[i] - e[i]));
  return worst / scale;
}

const TOL = 2e-6;

/** The layer inside a network (a Flatten before a Dense, a softmax head after), fast and reference. */
function pair(layer: LayerSpec, input: [number, number]): { fast: Layer; ref: Layer } {
  const dense = layer.type === 'Dense';
  const flatOutput = ['Dense', 'TimeSum', 'GlobalAveragePooling1D'].includes(layer.type);
  const flatten = { type: 'Flatten' },
    head = { type: 'Dense', units: 2, activation: 'softmax' };
  const spec = { input, layers: [...(dense ? [flatten] : []), layer, ...(flatOutput ? [] : [flatten]), head] };
  const at = dense ? 1 : 0;
  return {
    fast: buildFastNetwork(spec, { maxBatch: B, seed: 3 }).network.layers[at],
    ref: new Network(spec, { maxBatch: B, seed: 3 }).layers[at],
  };
}

function compare(layer: LayerSpec, input: [number, number], batch = B): { fast: Layer; ref: Layer } {
  const { fast, ref } = pair(layer, input);
  fast.needInputGrad = ref.needInputGrad = true;
  const rng = new Rng(11);
  // Weights of Glorot's scale keep pre-activations O(1), as in training, so float32 rounding stays O(1e-7).
  ref.params.forEach((p, i) => {
    const fanIn = sizeOf(p.shape.slice(0, -1));
    for (let j = 0; j < p.value.length; j++) p.value[j] = rng.normal() / Math.sqrt(fanIn);
    fast.params[i].value.set(p.value);
  });
  const x = new Float32Array(batch * sizeOf(ref.inputShape));
  randomFill(x, rng);
  const dy = new Float32Array(batch * sizeOf(ref.outputShape));
  randomFill(dy, rng);
  const yRef = Float32Array.from(ref.forward(x, batch, true));
  const yFast = fast.forward(x, batch, true);
  const outN = batch * sizeOf(ref.outputShape);
  expect(normwiseError(yFast, yRef, outN), 'output').toBeLessThanOrEqual(TOL);
  const dxRef = Float32Array.from(ref.backward(dy, batch)!);
  const dxFast = fast.backward(dy, batch)!;
  expect(normwiseError(dxFast, dxRef, batch * sizeOf(ref.inputShape)), 'input gradient').toBeLessThanOrEqual(TOL);
  ref.params.forEach((p, i) => {
    expect(fast.params[i].name).toBe(p.name);
    expect(fast.params[i].shape).toEqual(p.shape);
    expect(normwiseError(fast.params[i].grad, p.grad, p.grad.length), p.name).toBeLessThanOrEqual(TOL);
  });
  return { fast, ref };
}

describe('fast layers equal the reference layers', () => {
  const ACTS = ['linear', 'relu', 'sigmoid', 'tanh'];

  describe('Conv1D', () => {
    const cases: Array<[string, Record<string, unknown>, [number, number]]> = [
      ['valid, 8 filters', { filters: 8, kernelSize: 3 }, [20, 16]],
      ['valid, 3 filters (a partial vector)', { filters: 3, kernelSize: 5 }, [18, 8]],
      ['same, 16 filters', { filters: 16, kernelSize: 5, padding: 'same' }, [21, 16]],
      ['same, even kernel', { filters: 5, kernelSize: 4, padding: 'same' }, [13, 3]],
      ['stride 2, same', { filters: 6, kernelSize: 3, strides: 2, padding: 'same' }, [17, 4]],
      ['stride 3, valid', { filters: 9, kernelSize: 4, strides: 3 }, [23, 5]],
      ['dilation 2, valid', { filters: 7, kernelSize: 3, dilationRate: 2 }, [19, 6]],
      ['dilation 3, same', { filters: 12, kernelSize: 3, dilationRate: 3, padding: 'same' }, [16, 2]],
      ['kernel 1', { filters: 10, kernelSize: 1 }, [9, 7]],
      ['no bias', { filters: 8, kernelSize: 3, useBias: false }, [12, 4]],
      ['kernel longer than half the input, same', { filters: 4, kernelSize: 7, padding: 'same' }, [5, 3]],
    ];
    for (const [what, config, input] of cases) {
      for (const activation of ACTS) {
        it(`${what}, ${activation}`, () => {
          compare({ type: 'Conv1D', activation, ...config }, input);
        });
      }
    }
    it('is the fast layer, not the reference one', () => {
      expect(pair({ type: 'Conv1D', filters: 2, kernelSize: 2 }, [5, 2]).fast.constructor.name).toBe('FastConv1D');
    });
  });

  describe('Dense', () => {
    for (const units of [1, 4, 9, 50]) {
      for (const activation of ACTS) {
        it(`${units} units, ${activation}`, () => {
          compare({ type: 'Dense', units, activation }, [1, 37]);
        });
      }
    }
    it('without bias, on a flattened 2-D input', () => {
      const { fast } = compare({ type: 'Dense', units: 11, useBias: false, activation: 'tanh' }, [6, 5]);
      expect(fast.constructor.name).toBe('FastDense');
      expect(fast.params).toHaveLength(1);
    });
  });

  describe('pooling and time sums', () => {
    const pools: Array<[Record<string, unknown>, [number, number]]> = [
      [{ poolSize: 2 }, [20, 16]],
      [{ poolSize: 3, strides: 1 }, [11, 8]],
      [{ poolSize: 3, strides: 2, padding: 'same' }, [12, 4]],
      [{ poolSize: 4, strides: 3, padding: 'same' }, [13, 8]],
      [{ poolSize: 5, padding: 'same' }, [7, 4]],
    ];
    for (const type of ['MaxPooling1D', 'AveragePooling1D'] as const) {
      for (const [config, input] of pools) {
        it(`${type} ${JSON.stringify(config)} on ${input.join('×')}`, () => {
          const { fast } = compare({ type, ...config }, input);
          expect(fast.constructor.name).toBe(type === 'MaxPooling1D' ? 'FastMaxPooling1D' : 'FastAveragePooling1D');
        });
      }
      it(`${type} keeps the reference layer when channels are not a multiple of 4`, () => {
        const { fast } = compare({ type, poolSize: 2 }, [10, 3]);
        expect(fast.constructor.name).toBe(type);
      });
    }
    it('MaxPooling1D sends each gradient to the first of tied maxima and records the same windows', () => {
      const { fast, ref } = pair({ type: 'MaxPooling1D', poolSize: 3 }, [9, 4]);
      fast.needInputGrad = ref.needInputGrad = true;
      const x = new Float32Array(B * 36).map((_, i) => Math.floor(i / 8) % 2); // runs of equal values
      expect(Array.from(fast.forward(x, B, true))).toEqual(Array.from(ref.forward(x, B, true)));
      expect(fast.kinkSignature!(B)).toBe(ref.kinkSignature!(B));
      const dy = new Float32Array(B * 12).map((_, i) => i + 1);
      expect(Array.from(fast.backward(dy, B)!)).toEqual(Array.from(ref.backward(dy, B)!));
    });
    for (const type of ['TimeSum', 'GlobalAveragePooling1D'] as const) {
      for (const input of [
        [9, 3],
        [16, 8],
      ] as Array<[number, number]>) {
        it(`${type} on ${input.join('×')}`, () => {
          expect(compare({ type }, input).fast.constructor.name).toBe('FastTimeSum');
        });
      }
    }
  });

  describe('Activation', () => {
    for (const activation of ACTS) {
      it(activation, () => {
        expect(compare({ type: 'Activation', activation }, [9, 7]).fast.constructor.name).toBe('FastActivation');
      });
    }
  });

  describe('BatchNormalization', () => {
    for (const input of [
      [11, 6],
      [7, 16],
    ] as Array<[number, number]>) {
      it(`training, on ${input.join('×')}, moving statistics included`, () => {
        const { fast, ref } = compare({ type: 'BatchNormalization', momentum: 0.9 }, input);
        expect(fast.constructor.name).toBe('FastBatchNormalization');
        ref.state!.forEach((t, i) => {
          expect(fast.state![i].name).toBe(t.name);
          expect(normwiseError(fast.state![i].value, t.value, t.value.length), t.name).toBeLessThanOrEqual(TOL);
        });
      });
    }
    it('at inference, from the moving statistics', () => {
      const { fast, ref } = pair({ type: 'BatchNormalization', epsilon: 0.01 }, [5, 4]);
      const rng = new Rng(4);
      ref.state!.forEach((t, i) => {
        for (let j = 0; j < t.value.length; j++) t.value[j] = i === 0 ? rng.normal() : 0.5 + rng.next();
        fast.state![i].value.set(t.value);
      });
      const x = new Float32Array(B * 20).map(() => rng.normal());
      const y = Float32Array.from(ref.forward(x, B, false));
      expect(normwiseError(fast.forward(x, B, false), y, B * 20)).toBeLessThanOrEqual(TOL);
      const dy = new Float32Array(B * 20).map(() => rng.normal());
      fast.needInputGrad = ref.needInputGrad = true;
      const dx = Float32Array.from(ref.backward(dy, B)!);
      expect(normwiseError(fast.backward(dy, B)!, dx, B * 20)).toBeLessThanOrEqual(TOL);
    });
    it('keeps the reference layer for an odd channel count', () => {
      expect(compare({ type: 'BatchNormalization' }, [6, 5]).fast.constructor.name).toBe('BatchNormalization');
    });
  });

  it('a batch smaller than the buffers touches only its own examples', () => {
    compare({ type: 'Conv1D', filters: 5, kernelSize: 3, padding: 'same', activation: 'relu' }, [10, 4], 2);
    compare({ type: 'Dense', units: 6, activation: 'sigmoid' }, [1, 9], 1);
  });

  it('ReLU kink signatures match the reference', () => {
    const { fast, ref } = compare({ type: 'Conv1D', filters: 4, kernelSize: 3, activation: 'relu' }, [8, 4]);
    expect(fast.kinkSignature!(B)).toBe(ref.kinkSignature!(B));
  });
});
