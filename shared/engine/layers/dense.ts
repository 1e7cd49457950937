import { z } from 'zod';
import { ActivationStage, elementwise } from '../activations';
import { FastDense } from '../fast/fast-dense';
import type { FloatArray, FloatArrayCtor, Layer, Param } from '../types';
import {
  allocateWeights,
  defineLayer,
  kernelAndBias,
  shapeText,
  type LayerConfigOf,
  type ParamShape,
} from './descriptor';
import { activationField, boolField, intField } from './fields';
import { kerasCommon, kerasWeighted } from './keras';
import { activate } from '../../onnx/ops';
import type { Value } from '../../onnx/graph';

const schema = z.object({ units: intField(), useBias: boolField(true), activation: activationField('linear') });
export type DenseConfig = LayerConfigOf<'Dense', z.output<typeof schema>>;

/** The kernel [in, units] and the bias [units]. */
function denseParams(config: DenseConfig, inputShape: readonly number[]): ParamShape[] {
  return kernelAndBias(config.name, [inputShape[0], config.units], config.useBias);
}

/**
 * Fully connected: z[b,u] = bias[u] + Σ_i x[b,i] · W[i,u],  y = act(z).
 * A final softmax Dense outputs logits z; the loss applies the softmax.
 */
export class Dense implements Layer {
  readonly className = 'Dense';
  readonly name: string;
  readonly params: Param[];
  needInputGrad = true;
  private readonly kernel: Param;
  private readonly bias: Param | null;
  private readonly act: ActivationStage;
  private readonly inSize: number;
  private readonly units: number;
  private readonly y: FloatArray;
  private readonly dz: FloatArray;
  private readonly dx: FloatArray;
  private x: FloatArray | null = null;

  constructor(
    config: DenseConfig,
    readonly inputShape: readonly number[],
    readonly outputShape: readonly number[],
    maxBatch: number,
    ctor: FloatArrayCtor,
  ) {
    this.name = config.name;
    this.inSize = inputShape[0];
    this.units = config.units;
    this.params = allocateWeights(denseParams(config, inputShape), ctor).params;
    [this.kernel] = this.params;
    this.bias = this.params[1] ?? null;
    this.act = new ActivationStage(elementwise(config.activation));
    this.y = new ctor(maxBatch * this.units);
    this.dz = new ctor(maxBatch * this.units);
    this.dx = new ctor(maxBatch * this.inSize);
  }

  forward(x: FloatArray, batch: number): FloatArray {
    this.x = x;
    const I = this.inSize,
      U = this.units,
      W = this.kernel.value,
      y = this.y;
    const bias = this.bias?.value;
    for (let b = 0; b < batch; b++) {
      const yo = b * U,
        xo = b * I;
      for (let u = 0; u < U; u++) y[yo + u] = bias ? bias[u] : 0;
      for (let i = 0; i < I; i++) {
        const xv = x[xo + i];
        const wo = i * U;
        for (let u = 0; u < U; u++) y[yo + u] += xv * W[wo + u];
      }
    }
    this.act.forward(y, batch * U);
    return y;
  }

  /** dz = dy · act'(z);  dW[i,u] = Σ_b x[b,i] · dz[b,u];  dbias[u] = Σ_b dz[b,u];  dx[b,i] = Σ_u W[i,u] · dz[b,u]. */
  backward(dy: FloatArray, batch: number): FloatArray | null {
    const x = this.x!;
    const I = this.inSize,
      U = this.units,
      W = this.kernel.value,
      dW = this.kernel.grad,
      dz = this.dz,
      dx = this.dx;
    this.act.backward(this.y, dy, dz, batch * U);
    dW.fill(0);
    if (this.bias) {
      const db = this.bias.grad;
      db.fill(0);
      for (let b = 0; b < batch; b++) for (let u = 0; u < U; u++) db[u] += dz[b * U + u];
    }
    for (let b = 0; b < batch; b++) {
      const zo = b * U,
        xo = b * I;
      for (let i = 0; i < I; i++) {
        const xv = x[xo + i];
        const wo = i * U;
        for (let u = 0; u < U; u++) dW[wo + u] += xv * dz[zo + u];
      }
    }
    if (!this.needInputGrad) return null;
    for (let b = 0; b < batch; b++) {
      const zo = b * U,
        xo = b * I;
      for (let i = 0; i < I; i++) {
        const wo = i * U;
        let acc = 0;
        for (let u = 0; u < U; u++) acc += W[wo + u] * dz[zo + u];
        dx[xo + i] = acc;
      }
    }
    return dx;
  }

  kinkSignature(batch: number): number {
    return this.act.kinkSignature(this.y, batch * this.units);
  }
}

/** Dense, everything about it (the fast path runs it on the kernels at every shape). */
export const denseLayer = defineLayer({
  type: 'Dense',
  nameStem: 'dense',
  schema,
  starter: (classes) => ({ units: classes, activation: 'relu' }),
  infer(config, inputShape, fail) {
    if (inputShape.length !== 1) {
      fail(
        `expects a flat input, got ${shapeText(inputShape)}: add a Flatten, TimeSum or GlobalAveragePooling1D before it`,
      );
    }
    return { outputShape: [config.units], params: denseParams(config, inputShape) };
  },
  reference: (l, maxBatch, ctor) => new Dense(l.config, l.inputShape, l.outputShape, maxBatch, ctor),
  fast: (l, maxBatch, alloc) => new FastDense(l.config, l.inputShape, l.outputShape, l.params, maxBatch, alloc),
  tfjs: (tf, c, args) =>
    tf.layers.dense({
      ...args,
      units: c.units,
      useBias: c.useBias,
      activation: elementwise(c.activation),
      kernelInitializer: 'zeros',
    }),
  keras: ({ config: c }) => [
    {
      class_name: 'Dense',
      config: {
        ...kerasCommon(c.name),
        units: c.units,
        ...kerasWeighted(c),
      },
    },
  ],
  onnx: ({ config, inputShape }, weights, graph, x) => {
    const { name, units } = config;
    const inputs = [x.name, graph.constant(`${name}/kernel`, [inputShape[0], units], weights('kernel'))];
    if (config.useBias) inputs.push(graph.constant(`${name}/bias`, [units], weights('bias')));
    const dense: Value = { name: graph.node(name, 'Gemm', inputs), layout: 'flat' };
    return activate(graph, name, dense, config.activation);
  },
});
