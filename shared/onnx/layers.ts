/**
 * Each Lockstep layer type as ONNX nodes (opset 13), one self-contained function per type.
 * A mapping gets the layer's config, its resolved input/output shapes (Lockstep's, without the
 * batch: `[time, channels]` or `[features]`), its weights by short name (`kernel`, `bias`,
 * `gamma`, … in Lockstep's layout), the graph builder and the incoming value; it returns the
 * value it produces. Inference only: Dropout is the identity, BatchNormalization uses its moving
 * statistics.
 */
import type { ActivationName } from '../engine/activations';
import type { LayerConfig, LayerType, Padding } from '../engine/spec';
import { window1d } from '../engine/window1d';
import { OnnxGraphBuilder, type Value } from './graph';
import { attribute, type OnnxAttribute } from './proto';

export interface LayerShapes {
  input: number[];
  output: number[];
}

/** A layer's weight by its short name; throws when the model lacks it. */
export type LayerWeights = (param: string) => Float32Array;

/** The config of one layer type (a config type shared by several types narrowed to it). */
export type ConfigOf<T extends LayerType> = LayerConfig & { type: T };

export type OnnxLayerMapping<C extends LayerConfig> = (
  config: C,
  shapes: LayerShapes,
  weights: LayerWeights,
  graph: OnnxGraphBuilder,
  x: Value,
) => Value;

const ACTIVATION_OPS: Record<ActivationName, string | null> = {
  linear: null,
  relu: 'Relu',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  softmax: 'Softmax',
};

/** The activation applied to `x` (nothing for 'linear'); softmax runs over a flat value's features. */
function activate(graph: OnnxGraphBuilder, scope: string, x: Value, kind: ActivationName): Value {
  const op = ACTIVATION_OPS[kind];
  if (op === null) return x;
  const attributes = kind === 'softmax' ? [attribute.int('axis', 1)] : [];
  return { name: graph.node(scope, op, [x.name], attributes), layout: x.layout };
}

/**
 * A window's attributes over time, with TensorFlow's padding made explicit: 'same' gives
 * ceil(L / stride) outputs and pads the shortfall, the odd step on the right.
 */
function windowAttributes(
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
function convWeight(kernel: Float32Array, kernelSize: number, channels: number, filters: number): Float32Array {
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
function timeAxis(x: Value): number {
  return x.layout === 'time-major' ? 1 : 2;
}

function pooling(op: 'MaxPool' | 'AveragePool'): OnnxLayerMapping<ConfigOf<'MaxPooling1D' | 'AveragePooling1D'>> {
  return (config, shapes, _weights, graph, x) => {
    const input = graph.channelsFirst(x, config.name);
    const attributes = windowAttributes(shapes.input[0], config.poolSize, config.strides, 1, config.padding);
    // Keras's 'same' average pooling divides by the real steps under the window, not the padding.
    if (op === 'AveragePool') attributes.push(attribute.int('count_include_pad', 0));
    return { name: graph.node(config.name, op, [input.name], attributes), layout: 'channels-first' };
  };
}

type Mappings = { [T in LayerType]: OnnxLayerMapping<ConfigOf<T>> };

export const ONNX_LAYERS: Mappings = {
  Conv1D: (config, shapes, weights, graph, x) => {
    const [length, channels] = shapes.input;
    const { name, kernelSize, filters } = config;
    const input = graph.channelsFirst(x, name);
    const inputs = [
      input.name,
      graph.constant(
        `${name}/kernel`,
        [filters, channels, kernelSize],
        convWeight(weights('kernel'), kernelSize, channels, filters),
      ),
    ];
    if (config.useBias) inputs.push(graph.constant(`${name}/bias`, [filters], weights('bias')));
    const attributes = [
      ...windowAttributes(length, kernelSize, config.strides, config.dilationRate, config.padding),
      attribute.ints('dilations', [config.dilationRate]),
    ];
    const conv: Value = { name: graph.node(name, 'Conv', inputs, attributes), layout: 'channels-first' };
    return activate(graph, name, conv, config.activation);
  },
  MaxPooling1D: pooling('MaxPool'),
  AveragePooling1D: pooling('AveragePool'),
  Dense: (config, shapes, weights, graph, x) => {
    const { name, units } = config;
    const inputs = [x.name, graph.constant(`${name}/kernel`, [shapes.input[0], units], weights('kernel'))];
    if (config.useBias) inputs.push(graph.constant(`${name}/bias`, [units], weights('bias')));
    const dense: Value = { name: graph.node(name, 'Gemm', inputs), layout: 'flat' };
    return activate(graph, name, dense, config.activation);
  },
  // Keras flattens [time, channels] row-major, so a channels-first sequence goes back to time-major first.
  Flatten: (config, _shapes, _weights, graph, x) => {
    if (x.layout === 'flat') return x;
    const input = graph.timeMajor(x, config.name);
    return { name: graph.node(config.name, 'Flatten', [input.name], [attribute.int('axis', 1)]), layout: 'flat' };
  },
  TimeSum: (config, _shapes, _weights, graph, x) => {
    const axes = graph.int64s(`${config.name}/axes`, [timeAxis(x)]);
    return {
      name: graph.node(config.name, 'ReduceSum', [x.name, axes], [attribute.int('keepdims', 0)]),
      layout: 'flat',
    };
  },
  GlobalAveragePooling1D: (config, _shapes, _weights, graph, x) => {
    const attributes = [attribute.ints('axes', [timeAxis(x)]), attribute.int('keepdims', 0)];
    return { name: graph.node(config.name, 'ReduceMean', [x.name], attributes), layout: 'flat' };
  },
  GlobalMaxPooling1D: (config, _shapes, _weights, graph, x) => {
    const attributes = [attribute.ints('axes', [timeAxis(x)]), attribute.int('keepdims', 0)];
    return { name: graph.node(config.name, 'ReduceMax', [x.name], attributes), layout: 'flat' };
  },
  // Opset 13 has no LayerNormalization (17 does): μ and σ² over the last axis from basic ops,
  // y = γ · (x − μ) / √(σ² + ε) + β.
  LayerNormalization: (config, shapes, weights, graph, x) => {
    const { name } = config;
    const input = graph.timeMajor(x, name);
    const features = [shapes.input[shapes.input.length - 1]];
    const overLast = [attribute.ints('axes', [input.layout === 'flat' ? 1 : 2]), attribute.int('keepdims', 1)];
    const mean = graph.node(name, 'ReduceMean', [input.name], overLast);
    const centered = graph.node(name, 'Sub', [input.name, mean]);
    const squared = graph.node(name, 'Mul', [centered, centered]);
    const variance = graph.node(name, 'ReduceMean', [squared], overLast);
    const epsilon = graph.constant(`${name}/epsilon`, [1], Float32Array.of(config.epsilon));
    const std = graph.node(name, 'Sqrt', [graph.node(name, 'Add', [variance, epsilon])]);
    let y = graph.node(name, 'Div', [centered, std]);
    if (config.scale) y = graph.node(name, 'Mul', [y, graph.constant(`${name}/gamma`, features, weights('gamma'))]);
    if (config.center) y = graph.node(name, 'Add', [y, graph.constant(`${name}/beta`, features, weights('beta'))]);
    return { name: y, layout: input.layout };
  },
  Dropout: (_config, _shapes, _weights, _graph, x) => x,
  Activation: (config, _shapes, _weights, graph, x) => activate(graph, config.name, x, config.activation),
  // y = gamma · (x − moving_mean) / √(moving_variance + epsilon) + beta, per channel (axis 1).
  BatchNormalization: (config, shapes, weights, graph, x) => {
    const { name } = config;
    const input = graph.channelsFirst(x, name);
    const channels = [shapes.input[shapes.input.length - 1]];
    const inputs = [
      input.name,
      ...['gamma', 'beta', 'moving_mean', 'moving_variance'].map((p) =>
        graph.constant(`${name}/${p}`, channels, weights(p)),
      ),
    ];
    return {
      name: graph.node(name, 'BatchNormalization', inputs, [attribute.float('epsilon', config.epsilon)]),
      layout: input.layout,
    };
  },
};
