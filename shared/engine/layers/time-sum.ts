import type { ReshapeConfig } from '../spec';
import type { FloatArray, FloatArrayCtor, Layer } from '../types';

/**
 * The TDNN's integration layer (Waibel et al. 1989): sums each channel over time,
 * y[b,c] = Σ_t x[b,t,c] (GlobalAveragePooling1D scaled by the time length when exported).
 * With `mean` set it is GlobalAveragePooling1D: y[b,c] = (1/T) Σ_t x[b,t,c].
 */
export class TimeSum implements Layer {
  readonly name: string;
  readonly params = [];
  needInputGrad = true;
  private readonly length: number;
  private readonly channels: number;
  private readonly scale: number;
  private readonly y: FloatArray;
  private readonly dx: FloatArray;

  constructor(
    config: ReshapeConfig,
    readonly inputShape: readonly number[],
    readonly outputShape: readonly number[],
    maxBatch: number,
    ctor: FloatArrayCtor,
    readonly className: 'TimeSum' | 'GlobalAveragePooling1D' = 'TimeSum',
  ) {
    this.name = config.name;
    [this.length, this.channels] = inputShape;
    this.scale = className === 'TimeSum' ? 1 : 1 / this.length;
    this.y = new ctor(maxBatch * this.channels);
    this.dx = new ctor(maxBatch * this.length * this.channels);
  }

  forward(x: FloatArray, batch: number): FloatArray {
    const T = this.length, C = this.channels, y = this.y;
    for (let b = 0; b < batch; b++) {
      for (let c = 0; c < C; c++) y[b * C + c] = 0;
      for (let t = 0; t < T; t++) {
        const xo = (b * T + t) * C;
        for (let c = 0; c < C; c++) y[b * C + c] += x[xo + c];
      }
      if (this.scale !== 1) for (let c = 0; c < C; c++) y[b * C + c] *= this.scale;
    }
    return y;
  }

  /** ∂y[b,c]/∂x[b,t,c] = scale for every t:  dx[b,t,c] = scale · dy[b,c]. */
  backward(dy: FloatArray, batch: number): FloatArray | null {
    if (!this.needInputGrad) return null;
    const T = this.length, C = this.channels, dx = this.dx;
    for (let b = 0; b < batch; b++) {
      for (let t = 0; t < T; t++) {
        const xo = (b * T + t) * C;
        for (let c = 0; c < C; c++) dx[xo + c] = dy[b * C + c] * this.scale;
      }
    }
    return dx;
  }
}
