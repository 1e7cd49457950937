import { allocateWeights, type ParamShape } from '../layers/descriptor';
import type { BatchNormalizationConfig } from '../layers/batch-normalization';
import type { FloatArray, Layer, Param, StateTensor } from '../types';
import type { Arena, ArenaSizer } from './arena';
import { FastLayer } from './fast-layer';

/**
 * BatchNormalization on the kernels, in float64 as the reference (layers/batch-normalization.ts,
 * with the formulas) computes it, in the same order, so it gives the same values.
 */
export class FastBatchNormalization extends FastLayer implements Layer {
  readonly className = 'BatchNormalization';
  readonly params: Param[];
  readonly state: StateTensor[];
  private readonly gamma: Param;
  private readonly beta: Param;
  private readonly movingMean: StateTensor;
  private readonly movingVariance: StateTensor;
  private readonly channels: number;
  /** Values per channel per example (time steps; 1 for a flat input). */
  private readonly steps: number;
  /** Float64 per channel: mean, invStd, scale, shift, and backward's two rows. */
  private readonly stats: Float64Array;
  private xPtr = 0;
  private lastWasTraining = false;

  constructor(
    private readonly config: BatchNormalizationConfig,
    inputShape: readonly number[],
    outputShape: readonly number[],
    weights: readonly ParamShape[],
    maxBatch: number,
    alloc: Arena | ArenaSizer,
  ) {
    super(config.name, inputShape, outputShape, maxBatch, alloc);
    const C = (this.channels = inputShape[inputShape.length - 1]);
    this.steps = inputShape.length === 2 ? inputShape[0] : 1;
    ({ params: this.params, state: this.state } = allocateWeights(weights, alloc.ctor));
    [this.gamma, this.beta] = this.params;
    [this.movingMean, this.movingVariance] = this.state;
    this.stats = alloc.f64(6 * C);
  }

  forward(x: FloatArray, batch: number, training: boolean): FloatArray {
    const a = this.arena;
    this.xPtr = this.inputPtr(x, batch);
    this.lastWasTraining = training;
    a.kernels.batch_norm_forward(
      this.xPtr,
      a.ptr(this.y),
      batch * this.steps,
      this.channels,
      a.ptr(this.stats),
      a.ptr(this.gamma.value),
      a.ptr(this.beta.value),
      a.ptr(this.movingMean.value),
      a.ptr(this.movingVariance.value),
      this.config.epsilon,
      1 - this.config.momentum,
      training ? 1 : 0,
    );
    return this.y;
  }

  /** dγ = Σ dy·x̂;  dβ = Σ dy;  dx = γ/√(σ² + ε) · (dy − (1/N)·Σ dy − x̂·(1/N)·Σ dy·x̂) (inference: γ/√(m_var + ε) · dy). */
  backward(dy: FloatArray, batch: number): FloatArray | null {
    const a = this.arena,
      n = batch * this.steps;
    a.kernels.batch_norm_backward(
      this.xPtr,
      this.outputGradPtr(dy, batch),
      this.needInputGrad ? a.ptr(this.dx) : 0,
      n,
      this.channels,
      a.ptr(this.stats),
      a.ptr(this.gamma.grad),
      a.ptr(this.beta.grad),
      this.lastWasTraining ? 1 / n : 0,
    );
    return this.needInputGrad ? this.dx : null;
  }
}
