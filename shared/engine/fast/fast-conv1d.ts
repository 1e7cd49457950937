import type { Conv1DConfig } from '../layers/conv1d';
import type { ParamShape } from '../layers/descriptor';
import type { FloatArray, Layer } from '../types';
import { window1d } from '../window1d';
import type { Arena, ArenaSizer } from './arena';
import { FastParamLayer } from './fast-layer';

/** A GEMM over a run of output steps (kernels.wat, "Conv1D as GEMMs"): [t0, count, xOff, wOff, P]. */
type Job = [number, number, number, number, number];

/**
 * Conv1D on the kernels: the same function, params and buffers' meaning as layers/conv1d.ts
 * (the reference, with the formulas), computed as GEMMs per example. Output steps whose whole
 * window lies inside the input take one GEMM over all taps at once when the window is one run
 * of memory (dilation 1); the steps at a padded edge take one GEMM per tap.
 */
export class FastConv1D extends FastParamLayer implements Layer {
  readonly className = 'Conv1D';
  private readonly C: number;
  private readonly rowStride: number;
  /** Jobs of the forward pass and the weight gradient. */
  private readonly jobs: Int32Array;
  /** One job per tap: the input gradient's (its output rows must not overlap). */
  private readonly tapJobs: Int32Array;
  /** The kernel transposed per tap, [K, F, C], for dL/dx. */
  private readonly wt: Float32Array;

  constructor(
    config: Conv1DConfig,
    inputShape: readonly number[],
    outputShape: readonly number[],
    weights: readonly ParamShape[],
    maxBatch: number,
    alloc: Arena | ArenaSizer,
  ) {
    const [L, C] = inputShape;
    const { filters: F, kernelSize: K, strides: S, dilationRate: D } = config;
    super(config.name, weights, config.activation, inputShape, outputShape, maxBatch, alloc);
    this.C = C;
    this.rowStride = S * C;
    this.wt = alloc.f32(K * C * F);
    const T = outputShape[0];
    const padLeft = window1d(L, (K - 1) * D + 1, S, config.padding).padLeft;
    /** The output steps [lo, hi] whose tap k reads inside the input. */
    const range = (k: number): [number, number] => {
      const first = k * D - padLeft; // input position of output step 0
      const lo = first >= 0 ? 0 : Math.ceil(-first / S);
      const hi = L - 1 - first < 0 ? -1 : Math.min(T - 1, Math.floor((L - 1 - first) / S));
      return [lo, hi];
    };
    const job = (k: number, lo: number, hi: number, P: number): Job[] =>
      hi >= lo ? [[lo, hi - lo + 1, (lo * S + k * D - padLeft) * C, k * C * F, P]] : [];
    const taps = Array.from({ length: K }, (_, k) => range(k));
    const tapJobs = taps.flatMap(([lo, hi], k) => job(k, lo, hi, C));
    let jobs = tapJobs;
    // Interior steps (every tap inside): tap 0 starts last and tap K−1 ends first.
    const inLo = taps[0][0],
      inHi = taps[K - 1][1];
    if (D === 1 && K > 1 && inHi >= inLo) {
      jobs = [
        ...job(0, inLo, inHi, K * C),
        ...taps.flatMap(([lo, hi], k) => [
          ...job(k, lo, Math.min(hi, inLo - 1), C),
          ...job(k, Math.max(lo, inHi + 1), hi, C),
        ]),
      ];
    }
    this.jobs = alloc.i32(jobs.length * 5);
    this.jobs.set(jobs.flat());
    this.tapJobs = alloc.i32(tapJobs.length * 5);
    this.tapJobs.set(tapJobs.flat());
  }

  forward(x: FloatArray, batch: number): FloatArray {
    this.beginForward(x, batch);
    const a = this.arena;
    if (this.jobs.length)
      a.kernels.conv_forward(
        this.xPtr,
        a.ptr(this.kernel.value),
        a.ptr(this.y),
        batch,
        this.inSize,
        this.outSize,
        this.filters,
        this.rowStride,
        a.ptr(this.jobs),
        this.jobs.length / 5,
      );
    return this.endForward(batch);
  }

  /** dz = dy · act'(z);  dW[k] = Σ_b,t x[b, t·s+k·d−p, :]ᵀ · dz[b,t,:];  dx[b, t·s+k·d−p, :] += dz[b,t,:] · W[k]ᵀ. */
  backward(dy: FloatArray, batch: number): FloatArray | null {
    const dzPtr = this.beginBackward(dy, batch);
    const a = this.arena,
      k = a.kernels,
      C = this.C,
      F = this.filters,
      K = this.kernel.shape[0];
    if (this.jobs.length)
      k.conv_backward_weights(
        this.xPtr,
        dzPtr,
        a.ptr(this.kernel.grad),
        batch,
        this.inSize,
        this.outSize,
        F,
        this.rowStride,
        a.ptr(this.jobs),
        this.jobs.length / 5,
      );
    if (!this.needInputGrad) return null;
    this.dx.fill(0, 0, batch * this.inSize);
    if (!this.tapJobs.length) return this.dx;
    k.transpose(a.ptr(this.kernel.value), a.ptr(this.wt), C, F, K);
    k.conv_backward_input(
      dzPtr,
      a.ptr(this.wt),
      a.ptr(this.dx),
      batch,
      this.inSize,
      this.outSize,
      C,
      F,
      this.rowStride,
      a.ptr(this.tapJobs),
      this.tapJobs.length / 5,
    );
    return this.dx;
  }
}
