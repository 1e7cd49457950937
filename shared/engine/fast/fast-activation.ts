import { ActivationStage, elementwise } from '../activations';
import type { ActivationConfig } from '../layers/activation';
import type { FloatArray, Layer } from '../types';
import type { Arena, ArenaSizer } from './arena';
import { ACTIVATION_CODES, FastLayer } from './fast-layer';

/** Activation on the kernels (layers/activation.ts is the reference, with the formula). */
export class FastActivation extends FastLayer implements Layer {
  readonly className = 'Activation';
  readonly params = [];
  private readonly stage: ActivationStage;
  /** The kernels' scratch (tanh). */
  private readonly scratch: Float32Array;

  constructor(
    config: ActivationConfig,
    inputShape: readonly number[],
    outputShape: readonly number[],
    maxBatch: number,
    alloc: Arena | ArenaSizer,
  ) {
    super(config.name, inputShape, outputShape, maxBatch, alloc);
    this.stage = new ActivationStage(elementwise(config.activation));
    this.scratch = alloc.f32(maxBatch * this.outSize);
  }

  forward(x: FloatArray, batch: number): FloatArray {
    const a = this.arena,
      n = batch * this.inSize;
    this.y.set(x.subarray(0, n));
    a.kernels.activate(ACTIVATION_CODES[this.stage.kind], a.ptr(this.y), n, a.ptr(this.scratch));
    return this.y;
  }

  /** dx = dy · act'(x), act' written in terms of y. */
  backward(dy: FloatArray, batch: number): FloatArray | null {
    if (!this.needInputGrad) return null;
    const a = this.arena;
    a.kernels.activation_backward(
      ACTIVATION_CODES[this.stage.kind],
      a.ptr(this.y),
      this.outputGradPtr(dy, batch),
      a.ptr(this.dx),
      batch * this.outSize,
    );
    return this.dx;
  }

  kinkSignature(batch: number): number {
    return this.stage.kinkSignature(this.y, batch * this.outSize);
  }
}
