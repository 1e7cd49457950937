import { ActivationStage } from '../activations';
import type { Conv1DConfig } from '../spec';
import type { FloatArray, FloatArrayCtor, Layer, Param } from '../types';
import { window1d } from '../window1d';

/**
 * 1-D convolution (cross-correlation, as in tfjs/Keras), channels last:
 *   z[b,t,f] = bias[f] + Σ_k Σ_c x[b, t·s + k·d − p, c] · W[k,c,f],   y = act(z)
 * with stride s, dilation d, left padding p; positions outside the input read as 0.
 */
export class Conv1D implements Layer {
  readonly className = 'Conv1D';
  readonly name: string;
  readonly params: Param[];
  needInputGrad = true;
  private readonly kernel: Param;
  private readonly bias: Param | null;
  private readonly act: ActivationStage;
  private readonly inLength: number;
  private readonly inChannels: number;
  private readonly outLength: number;
  private readonly padLeft: number;
  private readonly y: FloatArray;
  private readonly dz: FloatArray;
  private readonly dx: FloatArray;
  private x: FloatArray | null = null;

  constructor(
    private readonly config: Conv1DConfig,
    readonly inputShape: readonly number[],
    readonly outputShape: readonly number[],
    maxBatch: number,
    ctor: FloatArrayCtor,
  ) {
    this.name = config.name;
    [this.inLength, this.inChannels] = inputShape;
    this.outLength = outputShape[0];
    const span = (config.kernelSize - 1) * config.dilationRate + 1;
    this.padLeft = window1d(this.inLength, span, config.strides, config.padding).padLeft;
    const kernelSize = config.kernelSize * this.inChannels * config.filters;
    this.kernel = { name: `${config.name}/kernel`, shape: [config.kernelSize, this.inChannels, config.filters], value: new ctor(kernelSize), grad: new ctor(kernelSize), decay: true };
    this.bias = config.useBias ? { name: `${config.name}/bias`, shape: [config.filters], value: new ctor(config.filters), grad: new ctor(config.filters), decay: false } : null;
    this.params = this.bias ? [this.kernel, this.bias] : [this.kernel];
    this.act = new ActivationStage(config.activation === 'softmax' ? 'linear' : config.activation);
    const outSize = maxBatch * this.outLength * config.filters;
    this.y = new ctor(outSize);
    this.dz = new ctor(outSize);
    this.dx = new ctor(maxBatch * this.inLength * this.inChannels);
  }

  forward(x: FloatArray, batch: number): FloatArray {
    this.x = x;
    const { filters: F, kernelSize: K, strides: S, dilationRate: D } = this.config;
    const L = this.inLength, C = this.inChannels, T = this.outLength, P = this.padLeft;
    const W = this.kernel.value, y = this.y;
    const bias = this.bias?.value;
    for (let b = 0; b < batch; b++) {
      const xb = b * L * C;
      for (let t = 0; t < T; t++) {
        const yo = (b * T + t) * F;
        for (let f = 0; f < F; f++) y[yo + f] = bias ? bias[f] : 0;
        for (let k = 0; k < K; k++) {
          const pos = t * S + k * D - P;
          if (pos < 0 || pos >= L) continue;
          const xo = xb + pos * C;
          const wo = k * C * F;
          for (let c = 0; c < C; c++) {
            const xv = x[xo + c];
            const wr = wo + c * F;
            for (let f = 0; f < F; f++) y[yo + f] += xv * W[wr + f];
          }
        }
      }
    }
    this.act.forward(y, batch * T * F);
    return y;
  }

  /**
   * dz = dy · act'(z);  dW[k,c,f] = Σ_b,t x[b, t·s+k·d−p, c] · dz[b,t,f];  dbias[f] = Σ_b,t dz[b,t,f];
   * dx[b, t·s+k·d−p, c] = Σ_t,k,f W[k,c,f] · dz[b,t,f].
   */
  backward(dy: FloatArray, batch: number): FloatArray | null {
    const x = this.x!;
    const { filters: F, kernelSize: K, strides: S, dilationRate: D } = this.config;
    const L = this.inLength, C = this.inChannels, T = this.outLength, P = this.padLeft;
    const W = this.kernel.value, dW = this.kernel.grad, dz = this.dz, dx = this.dx;
    this.act.backward(this.y, dy, dz, batch * T * F);
    dW.fill(0);
    if (this.bias) {
      const db = this.bias.grad;
      db.fill(0);
      for (let i = 0, n = batch * T; i < n; i++) for (let f = 0; f < F; f++) db[f] += dz[i * F + f];
    }
    const wantDx = this.needInputGrad;
    if (wantDx) dx.fill(0, 0, batch * L * C);
    for (let b = 0; b < batch; b++) {
      const xb = b * L * C;
      for (let t = 0; t < T; t++) {
        const zo = (b * T + t) * F;
        for (let k = 0; k < K; k++) {
          const pos = t * S + k * D - P;
          if (pos < 0 || pos >= L) continue;
          const xo = xb + pos * C;
          const wo = k * C * F;
          for (let c = 0; c < C; c++) {
            const xv = x[xo + c];
            const wr = wo + c * F;
            let acc = 0;
            for (let f = 0; f < F; f++) {
              const g = dz[zo + f];
              dW[wr + f] += xv * g;
              acc += W[wr + f] * g;
            }
            if (wantDx) dx[xo + c] += acc;
          }
        }
      }
    }
    return wantDx ? dx : null;
  }

  kinkSignature(batch: number): number {
    return this.act.kinkSignature(this.y, batch * this.outLength * this.config.filters);
  }
}
