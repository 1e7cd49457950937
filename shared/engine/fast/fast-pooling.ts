import { hashStep } from '../activations';
import type { Pool1DConfig } from '../layers/pool1d';
import type { FloatArray, Layer } from '../types';
import { window1d } from '../window1d';
import type { Arena, ArenaSizer } from './arena';
import { FastLayer } from './fast-layer';

/** The window geometry of a pooling layer, as the kernels take it. */
function poolGeometry(config: Pool1DConfig, inputShape: readonly number[], outputShape: readonly number[]) {
  const [L, C] = inputShape;
  return {
    L,
    C,
    T: outputShape[0],
    W: config.poolSize,
    S: config.strides,
    P: window1d(L, config.poolSize, config.strides, config.padding).padLeft,
  };
}

/** MaxPooling1D on the kernels (layers/max-pooling1d.ts is the reference, with the formulas). */
export class FastMaxPooling1D extends FastLayer implements Layer {
  readonly className = 'MaxPooling1D';
  readonly params = [];
  private readonly geometry: ReturnType<typeof poolGeometry>;
  /** Flat input index of each output's arg-max. */
  private readonly argmax: Int32Array;

  constructor(
    config: Pool1DConfig,
    inputShape: readonly number[],
    outputShape: readonly number[],
    maxBatch: number,
    alloc: Arena | ArenaSizer,
  ) {
    super(config.name, inputShape, outputShape, maxBatch, alloc);
    this.geometry = poolGeometry(config, inputShape, outputShape);
    this.argmax = alloc.i32(maxBatch * this.outSize);
  }

  forward(x: FloatArray, batch: number): FloatArray {
    const { L, C, T, W, S, P } = this.geometry,
      a = this.arena;
    a.kernels.max_pool_forward(this.inputPtr(x, batch), a.ptr(this.y), a.ptr(this.argmax), batch, L, C, T, W, S, P);
    return this.y;
  }

  /** dx[j] = Σ_i dy[i] · [j = argmax(window(i))]. */
  backward(dy: FloatArray, batch: number): FloatArray | null {
    if (!this.needInputGrad) return null;
    const a = this.arena;
    this.dx.fill(0, 0, batch * this.inSize);
    a.kernels.max_pool_backward(
      this.outputGradPtr(dy, batch),
      a.ptr(this.dx),
      a.ptr(this.argmax),
      batch * this.outSize,
    );
    return this.dx;
  }

  kinkSignature(batch: number): number {
    let h = 0x811c9dc5;
    for (let o = 0, n = batch * this.outSize; o < n; o++) h = hashStep(h, this.argmax[o]);
    return h;
  }
}

/** AveragePooling1D on the kernels (layers/average-pooling1d.ts is the reference, with the formulas). */
export class FastAveragePooling1D extends FastLayer implements Layer {
  readonly className = 'AveragePooling1D';
  readonly params = [];
  private readonly geometry: ReturnType<typeof poolGeometry>;

  constructor(
    config: Pool1DConfig,
    inputShape: readonly number[],
    outputShape: readonly number[],
    maxBatch: number,
    alloc: Arena | ArenaSizer,
  ) {
    super(config.name, inputShape, outputShape, maxBatch, alloc);
    this.geometry = poolGeometry(config, inputShape, outputShape);
  }

  forward(x: FloatArray, batch: number): FloatArray {
    const { L, C, T, W, S, P } = this.geometry,
      a = this.arena;
    a.kernels.average_pool(0, this.inputPtr(x, batch), a.ptr(this.y), batch, L, C, T, W, S, P);
    return this.y;
  }

  /** dx[j] = Σ_{i : j ∈ window(i)} dy[i] / |window(i)|. */
  backward(dy: FloatArray, batch: number): FloatArray | null {
    if (!this.needInputGrad) return null;
    const { L, C, T, W, S, P } = this.geometry,
      a = this.arena;
    this.dx.fill(0, 0, batch * this.inSize);
    a.kernels.average_pool(1, a.ptr(this.dx), this.outputGradPtr(dy, batch), batch, L, C, T, W, S, P);
    return this.dx;
  }
}
