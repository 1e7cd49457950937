import type { DenseConfig } from '../layers/dense';
import type { ParamShape } from '../layers/descriptor';
import type { FloatArray, Layer } from '../types';
import type { Arena, ArenaSizer } from './arena';
import { FastParamLayer } from './fast-layer';

/** Dense on the kernels: the same function, params and buffers' meaning as layers/dense.ts (the reference, with the formulas). */
export class FastDense extends FastParamLayer implements Layer {
  readonly className = 'Dense';
  /** The kernel transposed, [units, in], for dL/dx. */
  private readonly wt: Float32Array;

  constructor(
    config: DenseConfig,
    inputShape: readonly number[],
    outputShape: readonly number[],
    weights: readonly ParamShape[],
    maxBatch: number,
    alloc: Arena | ArenaSizer,
  ) {
    super(config.name, weights, config.activation, inputShape, outputShape, maxBatch, alloc);
    this.wt = alloc.f32(inputShape[0] * config.units);
  }

  forward(x: FloatArray, batch: number): FloatArray {
    this.beginForward(x, batch);
    const a = this.arena,
      I = this.inSize,
      U = this.filters;
    a.kernels.gemm(batch, U, I, this.xPtr, I, 1, a.ptr(this.kernel.value), U, a.ptr(this.y), U);
    return this.endForward(batch);
  }

  /** dz = dy · act'(z);  dW = xᵀ · dz;  dbias = Σ_b dz;  dx = dz · Wᵀ. */
  backward(dy: FloatArray, batch: number): FloatArray | null {
    const dzPtr = this.beginBackward(dy, batch);
    const a = this.arena,
      k = a.kernels,
      I = this.inSize,
      U = this.filters;
    // A is x read column-wise: xᵀ.
    k.gemm(I, U, batch, this.xPtr, 1, I, dzPtr, U, a.ptr(this.kernel.grad), U);
    if (!this.needInputGrad) return null;
    k.transpose(a.ptr(this.kernel.value), a.ptr(this.wt), I, U, 1);
    this.dx.fill(0, 0, batch * I);
    k.gemm(batch, I, U, dzPtr, U, 1, a.ptr(this.wt), I, a.ptr(this.dx), I);
    return this.dx;
  }
}
