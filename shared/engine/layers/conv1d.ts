import { z } from 'zod';
import { ActivationStage, elementwise } from '../activations';
import { FastConv1D } from '../fast/fast-conv1d';
import type { FloatArray, FloatArrayCtor, Layer, Param } from '../types';
import { window1d } from '../window1d';
import {
  allocateWeights,
  defineLayer,
  kernelAndBias,
  sequenceInput,
  type LayerConfigOf,
  type ParamShape,
} from './descriptor';
import { activationField, boolField, intField, paddingField } from './fields';
import { kerasCommon, kerasWeighted } from './keras';
import { activate, convWeight, windowAttributes } from '../../onnx/ops';
import { attribute } from '../../onnx/proto';
import type { Value } from '../../onnx/graph';

const schema = z.object({
  filters: intField(),
  kernelSize: intField(),
  strides: intField({ default: 1 }),
  padding: paddingField(),
  dilationRate: intField({ default: 1 }),
  useBias: boolField(true),
  activation: activationField('linear'),
});
export type Conv1DConfig = LayerConfigOf<'Conv1D', z.output<typeof schema>>;

/** The kernel [kernelSize, in, filters] and the bias [filters]. */
function conv1dParams(config: Conv1DConfig, inputShape: readonly number[]): ParamShape[] {
  return kernelAndBias(config.name, [config.kernelSize, inputShape[1], config.filters], config.useBias);
}

/** Steps one kernel application spans: (kernelSize − 1)·dilationRate + 1. */
const spanOf = (config: Conv1DConfig) => (config.kernelSize - 1) * config.dilationRate + 1;

/**
 * 1-D convolution (cross-correlation, as in tfjs/Keras), channels last:
 *   z[b,t,f] = bias[f] + Σ_k Σ_c x[b, t·s + k·d − p, c] · W[k,c,f],   y = act(z)
 * with stride s, dilation d, left padding p; positions outside the input read as 0.
 */
export class Conv1D implements Layer {
  readonly className = 'Conv1D';
  readonly name: string;
  readonly params: Param[];
  needInputGrad = true;
  private readonly kernel: Param;
  private readonly bias: Param | null;
  private readonly act: ActivationStage;
  private readonly inLength: number;
  private readonly inChannels: number;
  private readonly outLength: number;
  private readonly padLeft: number;
  private readonly y: FloatArray;
  private readonly dz: FloatArray;
  private readonly dx: FloatArray;
  private x: FloatArray | null = null;

  constructor(
    private readonly config: Conv1DConfig,
    readonly inputShape: readonly number[],
    readonly outputShape: readonly number[],
    maxBatch: number,
    ctor: FloatArrayCtor,
  ) {
    this.name = config.name;
    [this.inLength, this.inChannels] = inputShape;
    this.outLength = outputShape[0];
    this.padLeft = window1d(this.inLength, spanOf(config), config.strides, config.padding).padLeft;
    this.params = allocateWeights(conv1dParams(config, inputShape), ctor).params;
    [this.kernel] = this.params;
    this.bias = this.params[1] ?? null;
    this.act = new ActivationStage(elementwise(config.activation));
    const outSize = maxBatch * this.outLength * config.filters;
    this.y = new ctor(outSize);
    this.dz = new ctor(outSize);
    this.dx = new ctor(maxBatch * this.inLength * this.inChannels);
  }

  forward(x: FloatArray, batch: number): FloatArray {
    this.x = x;
    const { filters: F, kernelSize: K, strides: S, dilationRate: D } = this.config;
    const L = this.inLength,
      C = this.inChannels,
      T = this.outLength,
      P = this.padLeft;
    const W = this.kernel.value,
      y = this.y;
    const bias = this.bias?.value;
    for (let b = 0; b < batch; b++) {
      const xb = b * L * C;
      for (let t = 0; t < T; t++) {
        const yo = (b * T + t) * F;
        for (let f = 0; f < F; f++) y[yo + f] = bias ? bias[f] : 0;
        for (let k = 0; k < K; k++) {
          const pos = t * S + k * D - P;
          if (pos < 0 || pos >= L) continue;
          const xo = xb + pos * C;
          const wo = k * C * F;
          for (let c = 0; c < C; c++) {
            const xv = x[xo + c];
            const wr = wo + c * F;
            for (let f = 0; f < F; f++) y[yo + f] += xv * W[wr + f];
          }
        }
      }
    }
    this.act.forward(y, batch * T * F);
    return y;
  }

  /**
   * dz = dy · act'(z);  dW[k,c,f] = Σ_b,t x[b, t·s+k·d−p, c] · dz[b,t,f];  dbias[f] = Σ_b,t dz[b,t,f];
   * dx[b, t·s+k·d−p, c] = Σ_t,k,f W[k,c,f] · dz[b,t,f].
   */
  backward(dy: FloatArray, batch: number): FloatArray | null {
    const x = this.x!;
    const { filters: F, kernelSize: K, strides: S, dilationRate: D } = this.config;
    const L = this.inLength,
      C = this.inChannels,
      T = this.outLength,
      P = this.padLeft;
    const W = this.kernel.value,
      dW = this.kernel.grad,
      dz = this.dz,
      dx = this.dx;
    this.act.backward(this.y, dy, dz, batch * T * F);
    dW.fill(0);
    if (this.bias) {
      const db = this.bias.grad;
      db.fill(0);
      for (let i = 0, n = batch * T; i < n; i++) for (let f = 0; f < F; f++) db[f] += dz[i * F + f];
    }
    const wantDx = this.needInputGrad;
    if (wantDx) dx.fill(0, 0, batch * L * C);
    for (let b = 0; b < batch; b++) {
      const xb = b * L * C;
      for (let t = 0; t < T; t++) {
        const zo = (b * T + t) * F;
        for (let k = 0; k < K; k++) {
          const pos = t * S + k * D - P;
          if (pos < 0 || pos >= L) continue;
          const xo = xb + pos * C;
          const wo = k * C * F;
          for (let c = 0; c < C; c++) {
            const xv = x[xo + c];
            const wr = wo + c * F;
            let acc = 0;
            for (let f = 0; f < F; f++) {
              const g = dz[zo + f];
              dW[wr + f] += xv * g;
              acc += W[wr + f] * g;
            }
            if (wantDx) dx[xo + c] += acc;
          }
        }
      }
    }
    return wantDx ? dx : null;
  }

  kinkSignature(batch: number): number {
    return this.act.kinkSignature(this.y, batch * this.outLength * this.config.filters);
  }
}

/** Conv1D, everything about it (the fast path runs it on the kernels at every shape). */
export const conv1dLayer = defineLayer({
  type: 'Conv1D',
  nameStem: 'conv1d',
  schema,
  starter: () => ({ filters: 8, kernelSize: 3, activation: 'relu' }),
  infer(config, inputShape, fail) {
    const [length] = sequenceInput(inputShape, fail);
    const { kernelSize, strides, dilationRate, padding } = config;
    if (strides > 1 && dilationRate > 1)
      fail(`strides ${strides} with dilationRate ${dilationRate}: tfjs supports strides > 1 only with dilationRate 1`);
    const span = spanOf(config);
    if (padding === 'valid' && span > length) {
      fail(
        dilationRate > 1
          ? `kernelSize ${kernelSize} with dilationRate ${dilationRate} spans ${span} steps, longer than its input length ${length}`
          : `kernelSize ${kernelSize} is longer than its input length ${length}`,
      );
    }
    const { outLength } = window1d(length, span, strides, padding);
    return { outputShape: [outLength, config.filters], params: conv1dParams(config, inputShape) };
  },
  reference: (l, maxBatch, ctor) => new Conv1D(l.config, l.inputShape, l.outputShape, maxBatch, ctor),
  fast: (l, maxBatch, alloc) => new FastConv1D(l.config, l.inputShape, l.outputShape, l.params, maxBatch, alloc),
  tfjs: (tf, c, args) =>
    tf.layers.conv1d({
      ...args,
      filters: c.filters,
      kernelSize: c.kernelSize,
      strides: c.strides,
      padding: c.padding,
      dilationRate: c.dilationRate,
      useBias: c.useBias,
      activation: elementwise(c.activation),
      // Zero only to skip tfjs's own random draw: the initial values are copied in after.
      kernelInitializer: 'zeros',
    }),
  keras: ({ config: c }) => [
    {
      class_name: 'Conv1D',
      config: {
        ...kerasCommon(c.name),
        filters: c.filters,
        kernel_size: [c.kernelSize],
        strides: [c.strides],
        padding: c.padding,
        data_format: 'channels_last',
        dilation_rate: [c.dilationRate],
        ...kerasWeighted(c),
      },
    },
  ],
  onnx: ({ config, inputShape }, weights, graph, x) => {
    const [length, channels] = inputShape;
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
});
