import { LockstepError } from '../errors';
import { SoftmaxNLL } from '../engine/loss';
import { Network } from '../engine/network';
import { Rng } from '../engine/rng';
import type { LayerConfig, LayerType, NetworkSpec, ResolvedNetwork } from '../engine/spec';
import { sizeOf, type FloatArray, type Layer } from '../engine/types';
import { makeMaxPoolTies, maxPoolTies, type Tie } from './ties';

/**
 * What the gradient lab differentiates: one of the engine's layers, alone, at a small random
 * input, or the softmax and the softmax-fused NLL loss. Every function is run by the scratch
 * engine's own code in float64 (the layer of a network built from a tfjs-style spec through
 * shared/engine/spec.ts), so "our backward" is exactly what training runs.
 */
/**
 * What the lab explains: the loss, and the layer types it has a formula for (formulas.ts) — each
 * written out by hand, so a new layer type joins the lab when its formula is written.
 */
export const LAB_KINDS = [
  'Softmax',
  'SoftmaxNLL',
  'AveragePooling1D',
  'MaxPooling1D',
  'Conv1D',
  'Dense',
  'Activation',
  'Flatten',
  'TimeSum',
  'GlobalAveragePooling1D',
  'Dropout',
  'BatchNormalization',
] as const satisfies readonly ('Softmax' | 'SoftmaxNLL' | LayerType)[];
export type LabKind = (typeof LAB_KINDS)[number];
/** The config of a layer the lab explains. */
export type LabLayerConfig = Extract<LayerConfig, { type: LabKind }>;

export interface LabSettings {
  kind: LabKind;
  /** Input time steps; for Softmax and SoftmaxNLL, the number of classes K. */
  length: number;
  /** Input channels (ignored by Softmax and SoftmaxNLL, whose input is one logit vector). */
  channels: number;
  /** The layer's own options, keyed as in a tfjs-layers config (kernelSize, strides, padding, …). */
  layer: Record<string, unknown>;
  /** Seeds the input, the weights and the dropout mask. */
  seed: number;
  /** Max pooling only: copy each other window's maximum onto a neighbour, so windows tie. */
  makeTies: boolean;
}

/** A function f: ℝⁿ → ℝᵐ at one point x, with the scratch engine's backward as a Jacobian row. */
export interface LabFunction {
  readonly kind: LabKind;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  /** The point the Jacobian is taken at. */
  readonly x: Float64Array;
  /** f(x) as a fresh array. */
  evaluate(x: Float64Array): Float64Array;
  /** The discrete choices (arg-maxes, active ReLUs) of the last evaluate; 0 when f has none. */
  signature(): number;
  /** Row i of ∂f/∂x at the point, by the engine's backward with dL/dy = eᵢ. */
  backwardRow(i: number): Float64Array;
}

export interface LabProblem {
  settings: LabSettings;
  fn: LabFunction;
  /** The network whose layer `layerIndex` is differentiated (null for Softmax and SoftmaxNLL). */
  spec: NetworkSpec | null;
  resolved: ResolvedNetwork | null;
  layerIndex: number;
  /** The network's weights (float64), for the tfjs copy of the same layer. */
  weights: Map<string, Float64Array>;
  /** Max pooling: every window whose maximum is attained more than once. */
  ties: Tie[];
}

/** Layers whose output is one flat vector: the spec needs no Flatten after them. */
const FLAT_OUTPUT: ReadonlySet<LabKind> = new Set(['Dense', 'Flatten', 'TimeSum', 'GlobalAveragePooling1D']);

/**
 * A spec holding the layer under study at `layerIndex`, made valid by the engine's rules: a
 * Dense needs a flat input (a Flatten first), and every network ends in a softmax Dense (a
 * tail the lab never runs).
 */
export function labSpec(settings: LabSettings): { spec: NetworkSpec; layerIndex: number } {
  const kind = settings.kind;
  if (kind === 'Softmax' || kind === 'SoftmaxNLL')
    throw new LockstepError(`${kind} is the loss, not a layer: it has no network spec`);
  const layer = { ...settings.layer, type: kind };
  const head = kind === 'Dense' ? [{ type: 'Flatten' as const }, layer] : [layer];
  const tail = [
    ...(FLAT_OUTPUT.has(kind) ? [] : [{ type: 'Flatten' as const }]),
    { type: 'Dense' as const, units: 2, activation: 'softmax' },
  ];
  return {
    spec: { input: [settings.length, settings.channels], layers: [...head, ...tail] },
    layerIndex: head.length - 1,
  };
}

function checkSize(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 1 || v > max)
    throw new LockstepError(`gradient lab: ${name} must be an integer in 1…${max}, got ${v}`);
}

/** The lab keeps Jacobians small enough to read cell by cell. */
export const MAX_LENGTH = 32;
export const MAX_CHANNELS = 4;

export function buildLabProblem(settings: LabSettings): LabProblem {
  checkSize('length', settings.length, MAX_LENGTH);
  checkSize('channels', settings.channels, MAX_CHANNELS);
  const rng = Rng.derive(settings.seed, 'gradient-lab');
  if (settings.kind === 'Softmax' || settings.kind === 'SoftmaxNLL') {
    if (settings.length < 2)
      throw new LockstepError(`gradient lab: ${settings.kind} needs at least 2 classes, got ${settings.length}`);
    const z = new Float64Array(settings.length);
    for (let i = 0; i < z.length; i++) z[i] = 2 * rng.normal();
    const fn = settings.kind === 'Softmax' ? softmaxFunction(z) : nllFunction(z);
    return { settings, fn, spec: null, resolved: null, layerIndex: 0, weights: new Map(), ties: [] };
  }

  const { spec, layerIndex } = labSpec(settings);
  const net = new Network(spec, { maxBatch: 1, dtype: 'float64', seed: settings.seed, inputGrad: true });
  const layer = net.layers[layerIndex];
  // Random biases, as the gradient check draws them: a zero bias would leave every ReLU kink at x = 0.
  for (const p of layer.params)
    if (p.shape.length === 1) for (let i = 0; i < p.value.length; i++) p.value[i] = rng.uniform(-0.5, 0.5);
  const x = new Float64Array(sizeOf(layer.inputShape));
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const rc = net.resolved.layers[layerIndex].config;
  let ties: Tie[] = [];
  if (rc.type === 'MaxPooling1D') {
    const geometry = {
      length: settings.length,
      channels: settings.channels,
      poolSize: rc.poolSize,
      strides: rc.strides,
      padding: rc.padding,
    };
    if (settings.makeTies) makeMaxPoolTies(x, geometry);
    ties = maxPoolTies(x, geometry);
  }
  const fn = layerFunction(settings.kind, layer, x);
  return {
    settings,
    fn,
    spec,
    resolved: net.resolved,
    layerIndex,
    weights: new Map(layer.params.map((p) => [p.name, Float64Array.from(p.value)])),
    ties,
  };
}

/** One built layer as a function of its input; a Dropout's mask is drawn once, then frozen. */
function layerFunction(kind: LabKind, layer: Layer, x: Float64Array): LabFunction {
  const m = sizeOf(layer.outputShape);
  const base = Float64Array.from(x);
  const run = (input: Float64Array): FloatArray => layer.forward(input, 1, true);
  run(base);
  layer.freezeRandomness?.(true);
  return {
    kind,
    inputShape: layer.inputShape,
    outputShape: layer.outputShape,
    x: base,
    evaluate: (input) => Float64Array.from(run(Float64Array.from(input)).subarray(0, m)),
    signature: () => layer.kinkSignature?.(1) ?? 0,
    backwardRow(i) {
      // Backward reads the forward's input and output: run it at the point first.
      run(base);
      const dy = new Float64Array(m);
      dy[i] = 1;
      return Float64Array.from(layer.backward(dy, 1)!.subarray(0, base.length));
    },
  };
}

/** A function of one logit vector z, run by the engine's fused softmax-NLL. */
function logitFunction(
  kind: LabKind,
  z: Float64Array,
  evaluate: LabFunction['evaluate'],
  backwardRow: LabFunction['backwardRow'],
): LabFunction {
  return { kind, inputShape: [z.length], outputShape: [z.length], x: z, evaluate, signature: () => 0, backwardRow };
}

/**
 * Softmax p = softmax(z) by the engine's fused loss. The engine never forms ∂p/∂z; its backward
 * gives ∂L_k/∂z = p − e_k for the loss L_k = −log p_k, and since ∂p_k/∂z = p_k ∂(log p_k)/∂z,
 * row k of the Jacobian is −p_k · (the engine's backward for label k).
 */
function softmaxFunction(z: Float64Array): LabFunction {
  const loss = new SoftmaxNLL(z.length, 1, Float64Array);
  return logitFunction(
    'Softmax',
    z,
    (input) => (loss.forward(input, null, 1), Float64Array.from(loss.probs)),
    (k) => {
      loss.forward(z, Int32Array.of(k), 1);
      const pk = loss.probs[k];
      return Float64Array.from(loss.backward(Int32Array.of(k), 1), (d) => -pk * d);
    },
  );
}

/** The NLL of softmax(z) for every label at once: output k is L_k = −log softmax(z)_k. */
function nllFunction(z: Float64Array): LabFunction {
  const K = z.length,
    loss = new SoftmaxNLL(K, 1, Float64Array);
  return logitFunction(
    'SoftmaxNLL',
    z,
    (input) => Float64Array.from({ length: K }, (_, k) => loss.forward(input, Int32Array.of(k), 1)),
    (k) => {
      loss.forward(z, Int32Array.of(k), 1);
      return Float64Array.from(loss.backward(Int32Array.of(k), 1));
    },
  );
}
