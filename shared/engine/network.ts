import { initializeParams } from './init';
import { descriptorOf } from './layers/registry';
import { SoftmaxNLL } from './loss';
import { Rng } from './rng';
import { resolveSpec, type ResolvedLayer, type ResolvedNetwork } from './spec';
import {
  arrayCtor,
  type DType,
  type FloatArray,
  type FloatArrayCtor,
  type Layer,
  type Param,
  type StateTensor,
} from './types';

export interface NetworkOptions {
  /** The largest batch any call will pass; every buffer is sized for it once. */
  maxBatch: number;
  dtype?: DType;
  /** Seeds the Glorot initialisation and the dropout masks. */
  seed?: number;
  /** Compute dL/dinput too (gradient checks, saliency); off in training, saving a pass. */
  inputGrad?: boolean;
  /** Replaces the reference layers and buffers (the fast path, shared/engine/fast); float32 only. */
  build?: LayerBuilder;
}

/** Where every float buffer is allocated, and which layers replace their reference implementation. */
export interface LayerBuilder {
  ctor: FloatArrayCtor;
  /** A layer to use instead of the reference one, or null to keep the reference layer. */
  layer(resolved: ResolvedLayer, maxBatch: number): Layer | null;
}

/** The reference layer of a resolved layer, as its descriptor builds it. */
function buildLayer(resolved: ResolvedLayer, maxBatch: number, ctor: FloatArrayCtor, dropoutRng: Rng): Layer {
  return descriptorOf(resolved.config.type).reference(resolved, maxBatch, ctor, { dropout: dropoutRng });
}

/** A built network: its layers in order, their parameters, and the fused softmax-NLL loss. */
export class Network {
  readonly resolved: ResolvedNetwork;
  readonly layers: Layer[];
  /** The trained weights, in layer order (what the optimizer updates). */
  readonly params: Param[];
  /** Every weight tensor, trained and state, in the resolved spec's order (what is saved). */
  readonly weights: Array<Param | StateTensor>;
  readonly loss: SoftmaxNLL;
  readonly maxBatch: number;
  readonly dtype: DType;
  /** Values per example in the input, time × channels. */
  readonly inputSize: number;

  constructor(spec: unknown, options: NetworkOptions) {
    this.resolved = resolveSpec(spec);
    this.maxBatch = options.maxBatch;
    this.dtype = options.dtype ?? 'float32';
    const { build } = options;
    if (build && this.dtype !== 'float32') throw new Error('a layer builder needs float32');
    const ctor = build?.ctor ?? arrayCtor(this.dtype);
    const seed = options.seed ?? 1;
    const dropoutRng = Rng.derive(seed, 'dropout');
    this.layers = this.resolved.layers.map(
      (l) => build?.layer(l, this.maxBatch) ?? buildLayer(l, this.maxBatch, ctor, dropoutRng),
    );
    // A layer needs dL/d(input) only when a layer before it has params (or the input gradient is asked for).
    let needed = options.inputGrad ?? false;
    for (const layer of this.layers) {
      layer.needInputGrad = needed;
      needed ||= layer.params.length > 0;
    }
    this.params = this.layers.flatMap((l) => l.params);
    this.weights = this.layers.flatMap((l) => [...l.params, ...(l.state ?? [])]);
    this.loss = new SoftmaxNLL(this.resolved.classes, this.maxBatch, ctor);
    this.inputSize = this.resolved.input[0] * this.resolved.input[1];
    initializeParams(this.params, Rng.derive(seed, 'init'));
  }

  get paramCount(): number {
    return this.resolved.paramCount;
  }

  /** Logits `[batch, classes]` for the first `batch` examples of x (`[batch, time, channels]`). */
  forward(x: FloatArray, batch: number, training: boolean): FloatArray {
    this.checkBatch(batch);
    let a = x;
    for (const layer of this.layers) a = layer.forward(a, batch, training);
    return a;
  }

  /** Class probabilities `[batch, classes]` (the loss's buffer: copy it to keep it). */
  predict(x: FloatArray, batch: number): FloatArray {
    this.loss.forward(this.forward(x, batch, false), null, batch);
    return this.loss.probs;
  }

  /** Mean NLL of a batch without touching gradients; probabilities land in `loss.probs`. */
  evaluate(x: FloatArray, labels: Int32Array, batch: number, labelOffset = 0): number {
    return this.loss.forward(this.forward(x, batch, false), labels, batch, labelOffset);
  }

  /** Forward and backward over one batch: sets every param's grad; returns the mean loss. */
  computeGradients(x: FloatArray, labels: Int32Array, batch: number, labelOffset = 0): number {
    const value = this.loss.forward(this.forward(x, batch, true), labels, batch, labelOffset);
    let d: FloatArray | null = this.loss.backward(labels, batch, labelOffset);
    for (let i = this.layers.length - 1; i >= 0 && d; i--) d = this.layers[i].backward(d, batch);
    this.lastInputGrad = d;
    return value;
  }

  /** dL/dx of the last computeGradients, when built with `inputGrad`. */
  lastInputGrad: FloatArray | null = null;

  /** Copies of every weight tensor (state included) by tfjs name (`dense_1/kernel`), float32. */
  getWeights(): Map<string, Float32Array> {
    return new Map(this.weights.map((p) => [p.name, Float32Array.from(p.value)]));
  }

  /** Sets weights by name; every weight tensor (state included) must be present with its exact size. */
  setWeights(weights: ReadonlyMap<string, ArrayLike<number>>): void {
    for (const p of this.weights) {
      const w = weights.get(p.name);
      if (!w) throw new Error(`setWeights: no values for ${p.name}`);
      if (w.length !== p.value.length)
        throw new Error(`setWeights: ${p.name} has ${w.length} values, expected ${p.value.length}`);
      p.value.set(w);
    }
  }

  private checkBatch(batch: number): void {
    if (!(batch >= 1 && batch <= this.maxBatch)) throw new Error(`batch ${batch} is outside 1…${this.maxBatch}`);
  }
}
