import { z } from 'zod';
import { ActivationStage, elementwise } from '../activations';
import { FastActivation } from '../fast/fast-activation';
import type { FloatArray, FloatArrayCtor, Layer } from '../types';
import { defineLayer, type LayerConfigOf } from './descriptor';
import { activationField } from './fields';
import { kerasCommon } from './keras';
import { activate } from '../../onnx/ops';

const schema = z.object({ activation: activationField() });
export type ActivationConfig = LayerConfigOf<'Activation', z.output<typeof schema>>;

/** An activation as a layer of its own: y = act(x), elementwise. */
export class Activation implements Layer {
  readonly className = 'Activation';
  readonly name: string;
  readonly params = [];
  needInputGrad = true;
  private readonly size: number;
  private readonly act: ActivationStage;
  private readonly y: FloatArray;
  private readonly dx: FloatArray;

  constructor(
    config: ActivationConfig,
    readonly inputShape: readonly number[],
    readonly outputShape: readonly number[],
    maxBatch: number,
    ctor: FloatArrayCtor,
  ) {
    this.name = config.name;
    this.size = inputShape.reduce((a, b) => a * b, 1);
    this.act = new ActivationStage(elementwise(config.activation));
    this.y = new ctor(maxBatch * this.size);
    this.dx = new ctor(maxBatch * this.size);
  }

  forward(x: FloatArray, batch: number): FloatArray {
    const n = batch * this.size;
    for (let i = 0; i < n; i++) this.y[i] = x[i];
    this.act.forward(this.y, n);
    return this.y;
  }

  /** dx = dy · act'(x), act' written in terms of y (see ActivationStage). */
  backward(dy: FloatArray, batch: number): FloatArray | null {
    if (!this.needInputGrad) return null;
    this.act.backward(this.y, dy, this.dx, batch * this.size);
    return this.dx;
  }

  kinkSignature(batch: number): number {
    return this.act.kinkSignature(this.y, batch * this.size);
  }
}

/** Activation, everything about it (the fast path runs it on the kernels at every shape). */
export const activationLayer = defineLayer({
  type: 'Activation',
  nameStem: 'activation',
  schema,
  starter: () => ({ activation: 'relu' }),
  infer: (_config, inputShape) => ({ outputShape: [...inputShape], params: [] }),
  reference: (l, maxBatch, ctor) => new Activation(l.config, l.inputShape, l.outputShape, maxBatch, ctor),
  fast: (l, maxBatch, alloc) => new FastActivation(l.config, l.inputShape, l.outputShape, maxBatch, alloc),
  tfjs: (tf, c, args) => tf.layers.activation({ ...args, activation: elementwise(c.activation) }),
  keras: ({ config: c }) => [
    { class_name: 'Activation', config: { ...kerasCommon(c.name), activation: c.activation } },
  ],
  onnx: ({ config }, _weights, graph, x) => activate(graph, config.name, x, config.activation),
});
