/**
 * What the layer descriptors' ONNX mappings (their `onnx` hook, opset 13) share: the weights'
 * accessor, activations, explicit window padding and the kernel layout. Inference only: Dropout is
 * the identity, BatchNormalization uses its moving statistics.
 */
import type { ActivationName } from '../engine/activations';
import type { Padding } from '../engine/spec';
import { window1d } from '../engine/window1d';
import type { OnnxGraphBuilder, Value } from './graph';
import { attribute, type OnnxAttribute } from './proto';

/** A layer's weight by its short name (`kernel`, `bias`, `gamma`, … in Lockstep's layout); throws when absent. */
export type LayerWeights = (param: string) => Float32Array;

/** One layer as ONNX nodes: it gets the resolved layer, its weights, the graph and the incoming value. */
export type OnnxMapping<C> = (
  layer: { config: C; inputShape: readonly number[] },
  weights: LayerWeights,
  graph: OnnxGraphBuilder,
  x: Value,
) => Value;

interface PoolConfig {
  name: string;
  poolSize: number;
  strides: number;
  padding: Padding;
}

const ACTIVATION_OPS: Record<ActivationName, string | null> = {
  linear: null,
  relu: 'Relu',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  softmax: 'Softmax',
};

/** The activation applied to `x` (nothing for 'linear'); softmax runs over a flat value's features. */
export function activate(graph: OnnxGraphBuilder, scope: string, x: Value, kind: ActivationName): Value {
  const op = ACTIVATION_OPS[kind];
  if (op === null) return x;
  const attributes = kind === 'softmax' ? [attribute.int('axis', 1)] : [];
  return { name: graph.node(scope, op, [x.name], attributes), layout: x.layout };
}

/**
 * A window's attributes over time, with TensorFlow's padding made explicit: 'same' gives
 * ceil(L / stride) outputs and pads the shortfall, the odd step on the right.
 */
export function windowAttributes(
  length: number,
  size: number,
  strides: number,
  dilation: number,
  padding: Padding,
): OnnxAttribute[] {
  const span = (size - 1) * dilation + 1;
  const { outLength, padLeft } = window1d(length, span, strides, padding);
  const padRight = Math.max((outLength - 1) * strides + span - length - padLeft, 0);
  return [
    attribute.ints('kernel_shape', [size]),
    attribute.ints('strides', [strides]),
    attribute.ints('pads', [padLeft, padRight]),
  ];
}

/** Keras's Conv1D kernel `[kernelSize, in, filters]` as ONNX's Conv weight `[filters, in, kernelSize]`. */
export function convWeight(kernel: Float32Array, kernelSize: number, channels: number, filters: number): Float32Array {
  const w = new Float32Array(kernel.length);
  for (let k = 0; k < kernelSize; k++) {
    for (let c = 0; c < channels; c++) {
      for (let f = 0; f < filters; f++)
        w[(f * channels + c) * kernelSize + k] = kernel[(k * channels + c) * filters + f];
    }
  }
  return w;
}

/** Which axis holds time in a sequence value. */
export function timeAxis(x: Value): number {
  return x.layout === 'time-major' ? 1 : 2;
}

/** Max or average pooling over time as ONNX's MaxPool / AveragePool, 'same' padded explicitly. */
export function onnxPooling(op: 'MaxPool' | 'AveragePool'): OnnxMapping<PoolConfig> {
  return ({ config, inputShape }, _weights, graph, x) => {
    const input = graph.channelsFirst(x, config.name);
    const attributes = windowAttributes(inputShape[0], config.poolSize, config.strides, 1, config.padding);
    // Keras's 'same' average pooling divides by the real steps under the window, not the padding.
    if (op === 'AveragePool') attributes.push(attribute.int('count_include_pad', 0));
    return { name: graph.node(config.name, op, [input.name], attributes), layout: 'channels-first' };
  };
}
