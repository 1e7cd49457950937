import { z } from 'zod';
import { FastBatchNormalization } from '../fast/fast-batch-normalization';
import type { FloatArray, FloatArrayCtor, Layer, Param, StateTensor } from '../types';
import { allocateWeights, defineLayer, type LayerConfigOf, type ParamShape } from './descriptor';
import { numberField } from './fields';
import { ONES, ZEROS, kerasCommon } from './keras';
import { attribute } from '../../onnx/proto';

const schema = z.object({
  /** The moving statistics' decay per training step (Keras default 0.99). */
  momentum: numberField({ lo: 0, hi: 1, default: 0.99 }),
  /** Added to the variance before its square root (Keras default 1e-3); set in a spec file. */
  epsilon: numberField({ lo: 0, hi: Infinity, open: true, default: 1e-3, hidden: true }),
});
export type BatchNormalizationConfig = LayerConfigOf<'BatchNormalization', z.output<typeof schema>>;

/** γ and β trained, the moving mean and variance as state, one of each per channel (the last axis). */
export function batchNormParams(name: string, inputShape: readonly number[]): ParamShape[] {
  const channels = [inputShape[inputShape.length - 1]];
  return [
    { name: `${name}/gamma`, shape: channels, fill: 1 },
    { name: `${name}/beta`, shape: channels },
    { name: `${name}/moving_mean`, shape: channels, trainable: false },
    { name: `${name}/moving_variance`, shape: channels, trainable: false, fill: 1 },
  ];
}

/**
 * Batch normalisation over the last axis (channels), as Keras and tfjs-layers compute it.
 * Training: per channel c, over the N = batch·time values of the batch,
 *   μ_c = (1/N) Σ x,  σ²_c = (1/N) Σ (x − μ_c)²,  x̂ = (x − μ_c) / √(σ²_c + ε),  y = γ_c · x̂ + β_c,
 * and the moving statistics follow m ← m − (m − μ_c)·(1 − momentum) (the variance likewise, with
 * the biased σ²_c, as tfjs-layers updates them). Inference uses the moving statistics instead.
 * γ and β train; moving_mean and moving_variance are state, saved and exported with the weights.
 */
export class BatchNormalization implements Layer {
  readonly className = 'BatchNormalization';
  readonly name: string;
  readonly params: Param[];
  readonly state: StateTensor[];
  needInputGrad = true;
  private readonly gamma: Param;
  private readonly beta: Param;
  private readonly movingMean: StateTensor;
  private readonly movingVariance: StateTensor;
  /** Values per channel per example (time steps; 1 for a flat input). */
  private readonly steps: number;
  private readonly channels: number;
  private readonly y: FloatArray;
  private readonly dx: FloatArray;
  /** Per channel: the mean and 1/√(σ² + ε) the last forward used, then y = x·scale + shift. */
  private readonly mean: Float64Array;
  private readonly invStd: Float64Array;
  private readonly scale: Float64Array;
  private readonly shift: Float64Array;
  /** Per channel, backward's dx = dy·scale + (x − μ)·slope + offset. */
  private readonly slope: Float64Array;
  private readonly offset: Float64Array;
  private x: FloatArray | null = null;
  private lastWasTraining = false;

  constructor(
    private readonly config: BatchNormalizationConfig,
    readonly inputShape: readonly number[],
    readonly outputShape: readonly number[],
    maxBatch: number,
    ctor: FloatArrayCtor,
  ) {
    this.name = config.name;
    this.channels = inputShape[inputShape.length - 1];
    this.steps = inputShape.length === 2 ? inputShape[0] : 1;
    const C = this.channels;
    ({ params: this.params, state: this.state } = allocateWeights(batchNormParams(config.name, inputShape), ctor));
    [this.gamma, this.beta] = this.params;
    [this.movingMean, this.movingVariance] = this.state;
    const size = maxBatch * this.steps * C;
    this.y = new ctor(size);
    this.dx = new ctor(size);
    this.mean = new Float64Array(C);
    this.invStd = new Float64Array(C);
    this.scale = new Float64Array(C);
    this.shift = new Float64Array(C);
    this.slope = new Float64Array(C);
    this.offset = new Float64Array(C);
  }

  forward(x: FloatArray, batch: number, training: boolean): FloatArray {
    this.x = x;
    this.lastWasTraining = training;
    const C = this.channels,
      n = batch * this.steps,
      eps = this.config.epsilon;
    const { mean, invStd, scale, shift } = this;
    const mm = this.movingMean.value,
      mv = this.movingVariance.value,
      decay = 1 - this.config.momentum;
    for (let c = 0; c < C; c++) {
      if (training) {
        // Two passes (mean, then squared deviations), as tf.moments computes them.
        let sum = 0;
        for (let k = c; k < n * C; k += C) sum += x[k];
        const mu = sum / n;
        let squares = 0;
        for (let k = c; k < n * C; k += C) squares += (x[k] - mu) * (x[k] - mu);
        const variance = squares / n;
        mean[c] = mu;
        invStd[c] = 1 / Math.sqrt(variance + eps);
        mm[c] -= (mm[c] - mu) * decay;
        mv[c] -= (mv[c] - variance) * decay;
      } else {
        mean[c] = mm[c];
        invStd[c] = 1 / Math.sqrt(mv[c] + eps);
      }
      scale[c] = this.gamma.value[c] * invStd[c];
      shift[c] = this.beta.value[c] - mean[c] * scale[c];
    }
    const y = this.y;
    for (let i = 0; i < n; i++) {
      const o = i * C;
      for (let c = 0; c < C; c++) y[o + c] = x[o + c] * scale[c] + shift[c];
    }
    return y;
  }

  /**
   * With x̂ = (x − μ)/√(σ² + ε):  dγ = Σ dy·x̂;  dβ = Σ dy;
   * training: dx = γ/√(σ² + ε) · (dy − (1/N)·Σ dy − x̂·(1/N)·Σ dy·x̂) (μ and σ² depend on every x
   * of the batch); inference: dx = γ/√(m_var + ε) · dy.
   */
  backward(dy: FloatArray, batch: number): FloatArray | null {
    const x = this.x!;
    const C = this.channels,
      n = batch * this.steps;
    const { mean, invStd, scale, slope, offset } = this;
    const centre = this.lastWasTraining ? 1 / n : 0;
    const dGamma = this.gamma.grad,
      dBeta = this.beta.grad;
    for (let c = 0; c < C; c++) {
      let sumDy = 0,
        sumDyXc = 0;
      for (let k = c; k < n * C; k += C) {
        sumDy += dy[k];
        sumDyXc += dy[k] * (x[k] - mean[c]);
      }
      dBeta[c] = sumDy;
      dGamma[c] = sumDyXc * invStd[c];
      // scale = γ/√(σ² + ε), and x̂·Σ dy·x̂ = (x − μ)·invStd²·Σ dy·(x − μ).
      slope[c] = -scale[c] * invStd[c] * invStd[c] * sumDyXc * centre;
      offset[c] = -scale[c] * sumDy * centre;
    }
    if (!this.needInputGrad) return null;
    const dx = this.dx;
    for (let i = 0; i < n; i++) {
      const o = i * C;
      for (let c = 0; c < C; c++) dx[o + c] = dy[o + c] * scale[c] + (x[o + c] - mean[c]) * slope[c] + offset[c];
    }
    return dx;
  }
}

/**
 * BatchNormalization, everything about it. The fast path runs it on the kernels when the channels
 * pair up into float64 vectors of 2 (an even count); the reference layer otherwise.
 */
export const batchNormalizationLayer = defineLayer({
  type: 'BatchNormalization',
  nameStem: 'batch_normalization',
  schema,
  infer: (config, inputShape) => ({ outputShape: [...inputShape], params: batchNormParams(config.name, inputShape) }),
  reference: (l, maxBatch, ctor) => new BatchNormalization(l.config, l.inputShape, l.outputShape, maxBatch, ctor),
  fast: (l, maxBatch, alloc) =>
    l.inputShape[l.inputShape.length - 1] % 2 === 0
      ? new FastBatchNormalization(l.config, l.inputShape, l.outputShape, l.params, maxBatch, alloc)
      : null,
  tfjs: (tf, c, args) => tf.layers.batchNormalization({ ...args, axis: -1, momentum: c.momentum, epsilon: c.epsilon }),
  keras: ({ config: c }) => [
    {
      class_name: 'BatchNormalization',
      config: {
        ...kerasCommon(c.name),
        axis: -1,
        momentum: c.momentum,
        epsilon: c.epsilon,
        center: true,
        scale: true,
        beta_initializer: ZEROS,
        gamma_initializer: ONES,
        moving_mean_initializer: ZEROS,
        moving_variance_initializer: ONES,
        beta_regularizer: null,
        gamma_regularizer: null,
        beta_constraint: null,
        gamma_constraint: null,
      },
    },
  ],
  // y = gamma · (x − moving_mean) / √(moving_variance + epsilon) + beta, per channel (axis 1).
  onnx: ({ config, inputShape }, weights, graph, x) => {
    const { name } = config;
    const input = graph.channelsFirst(x, name);
    const channels = [inputShape[inputShape.length - 1]];
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
});
