import { Network } from './network';
import { Rng } from './rng';
import { sizeOf, type FloatArray } from './types';

/**
 * Checks every layer's backward pass against central finite differences, in float64: for
 * layer l, every parameter's gradient and dL/d(input of l), with the loss computed from
 * layer l's input onwards (so a wrong backward is pinned to its layer, not just detected).
 *
 * The numeric derivative n extrapolates central differences D(h) = (L(θ+h) − L(θ−h)) / 2h to
 * h → 0 by Ridders' method, which adapts to each element's curvature: typical errors are
 * ~1e-12, where a fixed step leaves either truncation (large activations) or rounding behind.
 * Relative error of analytic a against numeric n: |a − n| / max(|a|, |n|, FLOOR), FLOOR = 1e-5,
 * so gradients near zero are judged by absolute error (≤ 1e-11 passes at tolerance 1e-6; float64 differencing of a loss near 10 leaves ~1e-11).
 * A difference that would cross a kink (a ReLU turning on, a max-pool winner changing) is
 * detected by the layers' kink signatures and retried from a 100× smaller step; an
 * element that still crosses one is counted as skipped, never compared.
 */
export const RELATIVE_ERROR_FLOOR = 1e-5;
export const DEFAULT_TOLERANCE = 1e-6;

export interface GradCheckOptions {
  seed?: number;
  batch?: number;
  step?: number;
  tolerance?: number;
  /** Elements checked per tensor; larger tensors are sampled (seeded). 0 checks all. */
  maxPerTensor?: number;
}

export interface TensorCheck {
  name: string;
  checked: number;
  skipped: number;
  maxRelError: number;
  maxAbsError: number;
}

export interface LayerCheck {
  layer: string;
  className: string;
  maxRelError: number;
  tensors: TensorCheck[];
}

export interface GradCheckResult {
  ok: boolean;
  tolerance: number;
  maxRelError: number;
  layers: LayerCheck[];
}

export function relativeError(analytic: number, numeric: number): number {
  return Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), Math.abs(numeric), RELATIVE_ERROR_FLOOR);
}

/**
 * The point a gradient check differentiates at, and the scratch engine's backward pass there
 * (float64): the network (random biases too, so a zero-initialised bias does not hide a wrong
 * bias gradient), a random batch, every layer's input and dL/d(input), every param's gradient.
 * Dropout masks are the ones the forward drew, frozen from then on. `rng` is the check's stream,
 * left where the set-up stopped drawing.
 */
export interface GradientPoint {
  net: Network;
  batch: number;
  seed: number;
  x: Float64Array;
  labels: Int32Array;
  inputs: Float64Array[];
  inputGrads: Float64Array[];
  paramGrads: Map<string, Float64Array>;
  rng: Rng;
}

export function gradientPoint(spec: unknown, options: Pick<GradCheckOptions, 'seed' | 'batch'> = {}): GradientPoint {
  const seed = options.seed ?? 1;
  const batch = options.batch ?? 3;
  const net = new Network(spec, { maxBatch: batch, dtype: 'float64', seed });
  const rng = Rng.derive(seed, 'gradcheck');
  for (const p of net.params)
    if (p.shape.length === 1) for (let i = 0; i < p.value.length; i++) p.value[i] = rng.uniform(-0.5, 0.5);
  const x = new Float64Array(batch * net.inputSize);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const labels = new Int32Array(batch);
  for (let b = 0; b < batch; b++) labels[b] = rng.int(net.resolved.classes);

  // One forward keeping each layer's input, one backward keeping each layer's dL/d(input).
  for (const layer of net.layers) layer.needInputGrad = true;
  const inputs: Float64Array[] = [];
  let a: FloatArray = x;
  for (const layer of net.layers) {
    inputs.push(Float64Array.from(a.subarray(0, batch * sizeOf(layer.inputShape))));
    a = layer.forward(a, batch, true);
  }
  net.loss.forward(a, labels, batch);
  const inputGrads: Float64Array[] = new Array(net.layers.length);
  let d: FloatArray = net.loss.backward(labels, batch);
  for (let l = net.layers.length - 1; l >= 0; l--) {
    d = net.layers[l].backward(d, batch)!;
    inputGrads[l] = Float64Array.from(d.subarray(0, inputs[l].length));
  }
  for (const layer of net.layers) layer.freezeRandomness?.(true);
  const paramGrads = new Map(net.params.map((p) => [p.name, Float64Array.from(p.grad)]));
  return { net, batch, seed, x, labels, inputs, inputGrads, paramGrads, rng };
}

export function gradientCheck(spec: unknown, options: GradCheckOptions = {}): GradCheckResult {
  const h = options.step ?? 1e-2;
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  const maxPerTensor = options.maxPerTensor ?? 1000;
  const { net, batch, labels, inputs, inputGrads, paramGrads: analytic, rng } = gradientPoint(spec, options);

  /** The loss as a function of layer `from`'s input, everything else held fixed. */
  const lossFrom = (from: number, input: FloatArray): number => {
    let act = input;
    for (let l = from; l < net.layers.length; l++) act = net.layers[l].forward(act, batch, true);
    return net.loss.forward(act, labels, batch);
  };
  const signature = (): number =>
    net.layers.reduce((s, l) => (Math.imul(s, 31) + (l.kinkSignature?.(batch) ?? 0)) >>> 0, 7);

  const checkTensor = (name: string, values: FloatArray, grads: Float64Array, evaluate: () => number): TensorCheck => {
    const baseSignature = (evaluate(), signature());
    /** Numeric dL/dθ for θ = values[i], or null when every step size crosses a kink. */
    const numeric = (i: number): number | null => {
      const original = values[i];
      const at = (delta: number): number | null => {
        values[i] = original + delta;
        const l = evaluate();
        const same = signature() === baseSignature;
        values[i] = original;
        return same ? l : null;
      };
      return ridders(at, h) ?? ridders(at, h / 100);
    };
    const result: TensorCheck = { name, checked: 0, skipped: 0, maxRelError: 0, maxAbsError: 0 };
    for (const i of sampleIndices(values.length, maxPerTensor, rng)) {
      const n = numeric(i);
      if (n === null) {
        result.skipped++;
        continue;
      }
      result.checked++;
      result.maxRelError = Math.max(result.maxRelError, relativeError(grads[i], n));
      result.maxAbsError = Math.max(result.maxAbsError, Math.abs(grads[i] - n));
    }
    return result;
  };

  const layers: LayerCheck[] = net.layers.map((layer, l) => {
    const fromHere = (): number => lossFrom(l, inputs[l]);
    const tensors = [
      ...layer.params.map((p) => checkTensor(p.name, p.value, analytic.get(p.name)!, fromHere)),
      checkTensor(`${layer.name}/input`, inputs[l], inputGrads[l], fromHere),
    ];
    return {
      layer: layer.name,
      className: layer.className,
      maxRelError: Math.max(...tensors.map((t) => t.maxRelError)),
      tensors,
    };
  });
  const maxRelError = Math.max(...layers.map((l) => l.maxRelError));
  const allChecked = layers.every((l) => l.tensors.every((t) => t.checked > 0));
  return { ok: maxRelError <= tolerance && allChecked, tolerance, maxRelError, layers };
}

/**
 * Ridders' method (Numerical Recipes' dfridr): central differences at steps h, h/1.4, h/1.4², …
 * extrapolated to step 0 in a Neville tableau, keeping the entry with the smallest error
 * estimate. `f(δ)` is the loss with θ moved by δ, or null when that move crosses a kink.
 */
function ridders(f: (delta: number) => number | null, h: number): number | null {
  const shrink = 1.4,
    shrink2 = shrink * shrink,
    columns = 10,
    safe = 2;
  const table: number[][] = Array.from({ length: columns }, () => new Array<number>(columns).fill(0));
  const central = (step: number): number | null => {
    const plus = f(step),
      minus = f(-step);
    return plus === null || minus === null ? null : (plus - minus) / (2 * step);
  };
  let step = h;
  const first = central(step);
  if (first === null) return null;
  table[0][0] = first;
  let best = first,
    error = Infinity;
  for (let i = 1; i < columns; i++) {
    step /= shrink;
    const d = central(step);
    if (d === null) return null;
    table[0][i] = d;
    let factor = shrink2;
    for (let j = 1; j <= i; j++) {
      table[j][i] = (table[j - 1][i] * factor - table[j - 1][i - 1]) / (factor - 1);
      factor *= shrink2;
      const e = Math.max(Math.abs(table[j][i] - table[j - 1][i]), Math.abs(table[j][i] - table[j - 1][i - 1]));
      if (e <= error) {
        error = e;
        best = table[j][i];
      }
    }
    if (Math.abs(table[i][i] - table[i - 1][i - 1]) >= safe * error) break;
  }
  return best;
}

function sampleIndices(length: number, max: number, rng: Rng): number[] {
  const all = Array.from({ length }, (_, i) => i);
  if (max === 0 || length <= max) return all;
  rng.shuffle(all);
  return all.slice(0, max).sort((a, b) => a - b);
}
