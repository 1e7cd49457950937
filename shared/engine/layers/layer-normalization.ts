import type * as Tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { FloatArray, FloatArrayCtor, Layer, Param } from '../types';
import { allocateWeights, defineLayer, type LayerConfigOf, type ParamShape } from './descriptor';
import { boolField, numberField } from './fields';
import { ONES, ZEROS, kerasCommon } from './keras';
import { single, tfjsClass } from './tfjs-classes';
import { attribute } from '../../onnx/proto';

const schema = z.object({
  /** Added to the variance before its square root (Keras default 1e-3); set in a spec file. */
  epsilon: numberField({ lo: 0, hi: Infinity, open: true, default: 1e-3, hidden: true }),
  /** Adds the learned offset β (Keras `center`). */
  center: boolField(true),
  /** Multiplies by the learned scale γ (Keras `scale`). */
  scale: boolField(true),
});
export type LayerNormalizationConfig = LayerConfigOf<'LayerNormalization', z.output<typeof schema>>;

/** γ (with `scale`) and β (with `center`), one per feature of the last axis, in Keras's order. */
function layerNormParams(config: LayerNormalizationConfig, inputShape: readonly number[]): ParamShape[] {
  const features = [inputShape[inputShape.length - 1]];
  return [
    ...(config.scale ? [{ name: `${config.name}/gamma`, shape: features, fill: 1 }] : []),
    ...(config.center ? [{ name: `${config.name}/beta`, shape: features }] : []),
  ];
}

/**
 * Layer normalisation over the last axis, as Keras computes it (axis −1): each row r (one time
 * step of one example, or one flat example) of F features is normalised by its own statistics,
 *   μ_r = (1/F) Σ_f x[r,f],  σ²_r = (1/F) Σ_f (x[r,f] − μ_r)²,  x̂ = (x − μ_r)/√(σ²_r + ε),
 *   y[r,f] = γ_f · x̂[r,f] + β_f,
 * the same in training and inference (no batch statistics, no state).
 */
export class LayerNormalization implements Layer {
  readonly className = 'LayerNormalization';
  readonly name: string;
  readonly params: Param[];
  needInputGrad = true;
  private readonly gamma: Param | null;
  private readonly beta: Param | null;
  private readonly features: number;
  /** Rows per example (time steps; 1 for a flat input). */
  private readonly rows: number;
  private readonly y: FloatArray;
  private readonly dx: FloatArray;
  /** x̂ of the last forward, and 1/√(σ² + ε) per row, in float64. */
  private readonly xHat: Float64Array;
  private readonly invStd: Float64Array;

  constructor(
    private readonly config: LayerNormalizationConfig,
    readonly inputShape: readonly number[],
    readonly outputShape: readonly number[],
    maxBatch: number,
    ctor: FloatArrayCtor,
  ) {
    this.name = config.name;
    this.features = inputShape[inputShape.length - 1];
    this.rows = inputShape.length === 2 ? inputShape[0] : 1;
    this.params = allocateWeights(layerNormParams(config, inputShape), ctor).params;
    this.gamma = this.params.find((p) => p.name.endsWith('/gamma')) ?? null;
    this.beta = this.params.find((p) => p.name.endsWith('/beta')) ?? null;
    const size = maxBatch * this.rows * this.features;
    this.y = new ctor(size);
    this.dx = new ctor(size);
    this.xHat = new Float64Array(size);
    this.invStd = new Float64Array(maxBatch * this.rows);
  }

  forward(x: FloatArray, batch: number): FloatArray {
    const F = this.features,
      eps = this.config.epsilon;
    const gamma = this.gamma?.value,
      beta = this.beta?.value;
    for (let r = 0, n = batch * this.rows; r < n; r++) {
      const o = r * F;
      // Two passes (mean, then squared deviations), as tf.moments computes them.
      let sum = 0;
      for (let f = 0; f < F; f++) sum += x[o + f];
      const mu = sum / F;
      let squares = 0;
      for (let f = 0; f < F; f++) squares += (x[o + f] - mu) * (x[o + f] - mu);
      const invStd = 1 / Math.sqrt(squares / F + eps);
      this.invStd[r] = invStd;
      for (let f = 0; f < F; f++) {
        const h = (x[o + f] - mu) * invStd;
        this.xHat[o + f] = h;
        this.y[o + f] = (gamma ? gamma[f] * h : h) + (beta ? beta[f] : 0);
      }
    }
    return this.y;
  }

  /**
   * dγ_f = Σ_r dy[r,f]·x̂[r,f];  dβ_f = Σ_r dy[r,f];  with g = γ·dy (dy without `scale`),
   * dx[r,f] = (1/√(σ²_r + ε)) · (g[r,f] − (1/F) Σ_f' g[r,f'] − x̂[r,f] · (1/F) Σ_f' g[r,f']·x̂[r,f']).
   */
  backward(dy: FloatArray, batch: number): FloatArray | null {
    const F = this.features,
      n = batch * this.rows,
      xHat = this.xHat;
    const gamma = this.gamma?.value;
    if (this.gamma) this.gamma.grad.fill(0);
    if (this.beta) this.beta.grad.fill(0);
    for (let r = 0; r < n; r++) {
      const o = r * F;
      let sumG = 0,
        sumGX = 0;
      for (let f = 0; f < F; f++) {
        if (this.gamma) this.gamma.grad[f] += dy[o + f] * xHat[o + f];
        if (this.beta) this.beta.grad[f] += dy[o + f];
        const g = gamma ? gamma[f] * dy[o + f] : dy[o + f];
        sumG += g;
        sumGX += g * xHat[o + f];
      }
      if (!this.needInputGrad) continue;
      const meanG = sumG / F,
        meanGX = sumGX / F,
        invStd = this.invStd[r];
      for (let f = 0; f < F; f++) {
        const g = gamma ? gamma[f] * dy[o + f] : dy[o + f];
        this.dx[o + f] = invStd * (g - meanG - xHat[o + f] * meanGX);
      }
    }
    return this.needInputGrad ? this.dx : null;
  }
}

/**
 * tfjs 4.22's own LayerNormalization cannot be differentiated without γ or β: its batchNorm
 * kernel saves the missing scale or offset for the backward pass and fails. Without either, the
 * same function is written in tfjs ops (tf.moments, as its layer computes them), autodiff intact.
 */
const tfjsWithoutScaleOrOffset = (tf: typeof Tf) =>
  tfjsClass(tf, 'LayerNormalization', () => {
    return class LayerNormalizationOps extends tf.layers.Layer {
      private gamma: Tf.LayerVariable | null = null;
      private beta: Tf.LayerVariable | null = null;

      constructor(
        args: { name: string; inputShape?: number[] },
        private readonly c: LayerNormalizationConfig,
      ) {
        super(args);
      }

      override build(inputShape: Tf.Shape | Tf.Shape[]): void {
        const features = [(inputShape as Tf.Shape)[(inputShape as Tf.Shape).length - 1] as number];
        if (this.c.scale) this.gamma = this.addWeight('gamma', features, 'float32', tf.initializers.ones());
        if (this.c.center) this.beta = this.addWeight('beta', features, 'float32', tf.initializers.zeros());
        this.built = true;
      }

      override computeOutputShape(inputShape: Tf.Shape | Tf.Shape[]): Tf.Shape | Tf.Shape[] {
        return inputShape;
      }

      override call(inputs: Tf.Tensor | Tf.Tensor[]): Tf.Tensor {
        return tf.tidy(() => {
          const x = single(inputs);
          const { mean, variance } = tf.moments(x, -1, true);
          let y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.c.epsilon)));
          if (this.gamma) y = tf.mul(y, this.gamma.read());
          if (this.beta) y = tf.add(y, this.beta.read());
          return y;
        });
      }
    };
  });

/**
 * LayerNormalization, everything about it. The fast path runs the reference layer (there is
 * no kernel for it): its buffers go into the fast path's arena, so nothing is copied.
 */
export const layerNormalizationLayer = defineLayer({
  type: 'LayerNormalization',
  nameStem: 'layer_normalization',
  schema,
  infer: (config, inputShape) => ({ outputShape: [...inputShape], params: layerNormParams(config, inputShape) }),
  reference: (l, maxBatch, ctor) => new LayerNormalization(l.config, l.inputShape, l.outputShape, maxBatch, ctor),
  tfjs: (tf, c, args) =>
    c.center && c.scale
      ? tf.layers.layerNormalization({ ...args, axis: -1, epsilon: c.epsilon })
      : new (tfjsWithoutScaleOrOffset(tf))(args, c),
  keras: ({ config: c }) => [
    {
      class_name: 'LayerNormalization',
      config: {
        ...kerasCommon(c.name),
        axis: -1,
        epsilon: c.epsilon,
        center: c.center,
        scale: c.scale,
        beta_initializer: ZEROS,
        gamma_initializer: ONES,
        beta_regularizer: null,
        gamma_regularizer: null,
      },
    },
  ],
  // Opset 13 has no LayerNormalization (17 does): μ and σ² over the last axis from basic ops,
  // y = γ · (x − μ) / √(σ² + ε) + β.
  onnx: ({ config, inputShape }, weights, graph, x) => {
    const { name } = config;
    const input = graph.timeMajor(x, name);
    const features = [inputShape[inputShape.length - 1]];
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
});
