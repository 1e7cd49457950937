import * as tf from '@tensorflow/tfjs';
import { checkOptimizerSettings } from '../engine/optimizers';
import { LockstepError } from '../errors';
import { resolveSpec, type ResolvedNetwork } from '../engine/spec';
import { sizeOf } from '../engine/types';
import type { EngineOptions, TrainingEngine } from '../train/engine';
import { activateBackend, type BackendOptions, type TfjsBackend } from './backend';
import { probeKernels } from './kernel-probe';
import { softmaxNll } from './loss';
import { assignValues, buildTfjsNetwork, type TfjsNetwork } from './network';
import { createTfjsOptimizer, setOptimizerLearningRate } from './optimizer';

export type TfjsEngineOptions = EngineOptions &
  BackendOptions & {
    /**
     * Sums each batch's loss (and so its gradients) in this many contiguous chunks, default 1.
     * The same mathematics and the same dropout masks in another float32 summation order:
     * a lockstep of this engine against an unchunked one measures what rounding alone does.
     */
    batchChunks?: number;
  };

/**
 * TensorFlow.js behind the common engine interface: the spec's tfjs-layers model with the
 * scratch engine's initial weights, tfjs's optimizer with the same settings, the same loss,
 * and L2 weight decay added as λ·w to kernel gradients, as the scratch engine does. Every
 * step's tensors are freed in the step, except the last gradients (kept for getGradients).
 */
export class TfjsEngine implements TrainingEngine {
  readonly id: string;
  readonly paramCount: number;
  private lastGradients: tf.NamedTensorMap | null = null;
  private disposed = false;

  private constructor(
    readonly backend: TfjsBackend,
    private readonly resolved: ResolvedNetwork,
    private readonly net: TfjsNetwork,
    private readonly optimizer: tf.Optimizer,
    private readonly weightDecay: number,
    private readonly maxBatch: number,
    private readonly batchChunks: number,
  ) {
    this.id = batchChunks > 1 ? `tfjs-${backend}-chunked${batchChunks}` : `tfjs-${backend}`;
    this.paramCount = resolved.paramCount;
  }

  /** Starts the backend, builds the model and checks, before any training, that the backend runs all of it. */
  static async create(options: TfjsEngineOptions): Promise<TfjsEngine> {
    const resolved = resolveSpec(options.spec);
    const weightDecay = checkOptimizerSettings(options.optimizer);
    const chunks = options.batchChunks ?? 1;
    if (!(Number.isInteger(chunks) && chunks >= 1))
      throw new LockstepError(`batchChunks must be an integer ≥ 1, got ${chunks}`);
    await activateBackend(options);
    const net = buildTfjsNetwork(resolved, options.seed);
    try {
      probeKernels(net, resolved, options.backend);
    } catch (e) {
      net.model.dispose();
      throw e;
    }
    return new TfjsEngine(
      options.backend,
      resolved,
      net,
      createTfjsOptimizer(options.optimizer),
      weightDecay,
      options.maxBatch,
      chunks,
    );
  }

  /** The model itself, for tools that inspect it (layer names, tfjs autodiff); do not dispose it. */
  get model(): tf.Sequential {
    return this.net.model;
  }

  trainStep(x: Float32Array, labels: Int32Array, batch: number): number {
    const { value, grads } = tf.tidy(() => {
      const xs = this.inputTensor(x, batch);
      const ys = tf.tensor1d(labels.subarray(0, batch), 'int32');
      return tf.variableGrads(
        () => this.batchLoss(xs, ys, batch),
        this.net.params.map((p) => p.variable),
      );
    });
    const loss = value.dataSync()[0];
    value.dispose();
    tf.tidy(() => {
      const lambda = this.weightDecay;
      this.optimizer.applyGradients(
        this.net.params.map((p) => {
          const g = grads[p.variable.name];
          return { name: p.variable.name, tensor: p.decay && lambda !== 0 ? tf.add(g, tf.mul(p.variable, lambda)) : g };
        }),
      );
    });
    if (this.lastGradients) tf.dispose(this.lastGradients);
    this.lastGradients = grads;
    return loss;
  }

  predict(x: Float32Array, batch: number, probs: Float32Array): void {
    const p = tf.tidy(() =>
      tf.softmax(this.net.model.apply(this.inputTensor(x, batch), { training: false }) as tf.Tensor),
    );
    probs.set(p.dataSync().subarray(0, batch * this.resolved.classes));
    p.dispose();
  }

  /** Every weight tensor, state (batch norm's moving statistics) included. */
  getWeights(): Map<string, Float32Array> {
    return new Map(this.net.weights.map((p) => [p.name, Float32Array.from(p.variable.dataSync())]));
  }

  setWeights(weights: ReadonlyMap<string, ArrayLike<number>>): void {
    for (const p of this.net.weights) {
      const w = weights.get(p.name);
      if (!w) throw new Error(`setWeights: no values for ${p.name}`);
      assignValues(p, w);
    }
  }

  /** Gradients of the last step, without weight decay (as the scratch engine reports them); zeros before the first. */
  getGradients(): Map<string, Float32Array> {
    return new Map(
      this.net.params.map((p) => {
        const g = this.lastGradients?.[p.variable.name];
        return [p.name, g ? Float32Array.from(g.dataSync()) : new Float32Array(sizeOf(p.shape))];
      }),
    );
  }

  setLearningRate(lr: number): void {
    setOptimizerLearningRate(this.optimizer, lr);
  }

  /** Frees every tensor the engine holds; a second call does nothing. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.lastGradients) tf.dispose(this.lastGradients);
    this.lastGradients = null;
    this.optimizer.dispose();
    this.net.model.dispose();
  }

  /** Mean NLL of a training pass: L = Σ_k (n_k / n) · L_k over the batch's chunks (one chunk: the plain mean). */
  private batchLoss(xs: tf.Tensor3D, ys: tf.Tensor1D, batch: number): tf.Scalar {
    const lossOf = (x: tf.Tensor, y: tf.Tensor1D): tf.Scalar =>
      softmaxNll(this.net.model.apply(x, { training: true }) as tf.Tensor, y, this.resolved.classes);
    const chunks = Math.min(this.batchChunks, batch);
    if (chunks === 1) return lossOf(xs, ys);
    const parts: tf.Scalar[] = [];
    for (let k = 0; k < chunks; k++) {
      const start = Math.floor((k * batch) / chunks),
        size = Math.floor(((k + 1) * batch) / chunks) - start;
      parts.push(tf.mul(lossOf(tf.slice(xs, start, size), tf.slice(ys, start, size)), size / batch));
    }
    return tf.addN(parts);
  }

  /** `[batch, time, channels]` from the first `batch` examples; checks the backend is still this engine's. */
  private inputTensor(x: Float32Array, batch: number): tf.Tensor3D {
    if (!(batch >= 1 && batch <= this.maxBatch)) throw new Error(`batch ${batch} is outside 1…${this.maxBatch}`);
    const current = tf.getBackend();
    if (current !== this.backend)
      throw new Error(`this engine runs on tfjs's ${this.backend} backend, but the process switched to ${current}`);
    const [T, C] = this.resolved.input;
    return tf.tensor3d(x.subarray(0, batch * T * C), [batch, T, C]);
  }
}
