import type * as Tf from '@tensorflow/tfjs';
import type { z } from 'zod';
import { LockstepError } from '../../errors';
import type { Arena, ArenaSizer } from '../fast/arena';
import type { Rng } from '../rng';
import { sizeOf, type FloatArrayCtor, type Layer, type Param, type StateTensor } from '../types';
import type { OnnxMapping } from '../../onnx/ops';
import type { KerasLayer, TimeSumMapping } from './keras';

/**
 * Everything about one layer type, in one place (its file under shared/engine/layers): the config
 * schema with its defaults (spec validation, the TypeScript type and the editor's fields all come
 * from it), shape and parameter inference, the reference layer, the fast path's layer, the tfjs
 * layer, the Keras export and the ONNX export. The registry (registry.ts) lists them; everything else loops over it.
 */
export interface ParamShape {
  name: string;
  shape: number[];
  /** Absent for trained weights; false for state the forward pass updates (batch norm's moving statistics). */
  trainable?: false;
  /** What a 1-D tensor starts at when not 0 (batch norm's γ and moving variance: 1). */
  fill?: number;
}

/** A layer's config once resolved: its type, its name and every option with its default filled. */
export type LayerConfigOf<T extends string, O> = { type: T; name: string } & WithoutIndex<O>;
/** An options type's named keys (zod types an empty object as a record of `never`). */
type WithoutIndex<O> = { [K in keyof O as string extends K ? never : K]: O[K] };

export interface Inferred {
  outputShape: number[];
  /** Every weight tensor, trained and state, in Keras's weight order (what is saved and exported). */
  params: ParamShape[];
}

/** A resolved layer as the export sees it. */
export interface ResolvedLayerOf<C> {
  config: C;
  inputShape: number[];
  outputShape: number[];
  params: ParamShape[];
  paramCount: number;
}

/** Random streams a layer may draw from (dropout masks), shared by both engines in the same order. */
export interface LayerRngs {
  dropout: Rng;
}

/** What an export hook may do besides returning its layers. */
export interface KerasContext {
  /** Every resolved layer of the network, and the index of this one. */
  layers: readonly ResolvedLayerOf<{ type: string; name: string } & Record<string, unknown>>[];
  index: number;
  /** Adds a weight of the export's own (a layer the export inserts), before this layer's own weights. */
  addWeight(name: string, shape: number[], values: Float32Array): void;
  /** Multiplies a later Dense layer's kernel by a factor on export. */
  scaleKernel(layerName: string, factor: number): void;
  /** Records how a TimeSum was written, so that import can undo it (metadata.json's `timeSum`). */
  recordTimeSum(mapping: TimeSumMapping): void;
}

export interface LayerDescriptor<T extends string = string, O extends object = object> {
  readonly type: T;
  /** Keras's default layer-name stem (`conv1d` → `conv1d_1`, `conv1d_2`, …). */
  readonly nameStem: string;
  /** The options besides type and name, with their defaults (strict: other keys are rejected before it runs). */
  readonly schema: z.ZodType<O>;
  /** The options of a sensible new layer of this type in the editor (`classes`: the dataset's). */
  starter?(classes: number): Record<string, unknown>;
  /** Output shape and weights from the input shape; `fail` names the layer in its message. */
  infer(config: LayerConfigOf<T, O>, inputShape: number[], fail: (message: string) => never): Inferred;
  /** The reference layer (float32 to train, float64 to check gradients). */
  reference(
    layer: ResolvedLayerOf<LayerConfigOf<T, O>>,
    maxBatch: number,
    ctor: FloatArrayCtor,
    rngs: LayerRngs,
  ): Layer;
  /**
   * The fast path's layer on the WebAssembly kernels, or null where the reference layer runs
   * instead (absent: always; the descriptor says why), its buffers in the same arena.
   */
  fast?(layer: ResolvedLayerOf<LayerConfigOf<T, O>>, maxBatch: number, alloc: Arena | ArenaSizer): Layer | null;
  /** The tfjs-layers layer (tf is passed in, so the scratch engine never loads tfjs). */
  tfjs(
    tf: typeof Tf,
    config: LayerConfigOf<T, O>,
    args: { name: string; inputShape?: number[] },
    rngs: LayerRngs,
  ): Tf.layers.Layer;
  /** The Keras layers it is exported as (none: it is left out, a no-op in Keras). */
  keras(layer: ResolvedLayerOf<LayerConfigOf<T, O>>, context: KerasContext): KerasLayer[];
  /** Its ONNX nodes, opset 13, for inference (shared/onnx: the graph, the layouts, the helpers). */
  onnx: OnnxMapping<LayerConfigOf<T, O>>;
}

/** Checks a descriptor's types once, where it is written. */
export function defineLayer<T extends string, O extends object>(
  descriptor: LayerDescriptor<T, O>,
): LayerDescriptor<T, O> {
  return descriptor;
}

export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** The [time, channels] input a sequence layer needs, or a failure naming what it got. */
export function sequenceInput(inputShape: readonly number[], fail: (message: string) => never): [number, number] {
  if (inputShape.length !== 2) fail(`expects a [time, channels] input, got ${shapeText(inputShape)}`);
  return [inputShape[0], inputShape[1]];
}

/** A failure for a layer built outside resolveSpec (tests, the lab): the same messages. */
export const failAt =
  (where: string) =>
  (message: string): never => {
    throw new LockstepError(`${where}: ${message}`);
  };

/** Kernels take L2 weight decay; biases, scales and shifts do not (the Keras convention). */
export function takesDecay(p: ParamShape): boolean {
  return p.name.endsWith('/kernel');
}

/**
 * A layer's weight tensors from its inferred shapes (the only place they are named): trained
 * params with their gradients, then state, each starting at its fill.
 */
export function allocateWeights(
  shapes: readonly ParamShape[],
  ctor: FloatArrayCtor,
): { params: Param[]; state: StateTensor[] } {
  const params: Param[] = [];
  const state: StateTensor[] = [];
  for (const p of shapes) {
    const n = sizeOf(p.shape);
    const value = new ctor(n).fill(p.fill ?? 0);
    if (p.trainable === false) state.push({ name: p.name, shape: [...p.shape], value });
    else
      params.push({
        name: p.name,
        shape: [...p.shape],
        value,
        grad: new ctor(n),
        decay: takesDecay(p),
        ...(p.fill !== undefined ? { fill: p.fill } : {}),
      });
  }
  return { params, state };
}

/** A kernel [..., in, out] and, with `useBias`, a bias [out]: Conv1D's and Dense's weights. */
export function kernelAndBias(name: string, kernelShape: number[], useBias: boolean): ParamShape[] {
  const units = kernelShape[kernelShape.length - 1];
  return useBias
    ? [
        { name: `${name}/kernel`, shape: kernelShape },
        { name: `${name}/bias`, shape: [units] },
      ]
    : [{ name: `${name}/kernel`, shape: kernelShape }];
}
