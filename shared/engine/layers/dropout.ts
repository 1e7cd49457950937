import type { Rng } from '../rng';
import type { DropoutConfig } from '../spec';
import type { FloatArray, FloatArrayCtor, Layer } from '../types';

/**
 * Inverted dropout, training only: y = x · m / (1 − rate), m ~ Bernoulli(1 − rate) per element;
 * at inference y = x. The mask comes from the network's seeded dropout stream.
 */
export class Dropout implements Layer {
  readonly className = 'Dropout';
  readonly name: string;
  readonly params = [];
  needInputGrad = true;
  private readonly size: number;
  private readonly y: FloatArray;
  private readonly dx: FloatArray;
  /** The scaled mask of the last training pass: 0 or 1/(1 − rate). */
  private readonly mask: FloatArray;
  private lastWasTraining = false;
  private frozen = false;

  constructor(
    private readonly config: DropoutConfig,
    readonly inputShape: readonly number[],
    readonly outputShape: readonly number[],
    maxBatch: number,
    ctor: FloatArrayCtor,
    private readonly rng: Rng,
  ) {
    this.name = config.name;
    this.size = inputShape.reduce((a, b) => a * b, 1);
    this.y = new ctor(maxBatch * this.size);
    this.dx = new ctor(maxBatch * this.size);
    this.mask = new ctor(maxBatch * this.size);
  }

  forward(x: FloatArray, batch: number, training: boolean): FloatArray {
    this.lastWasTraining = training && this.config.rate > 0;
    if (!this.lastWasTraining) return x;
    const keep = 1 - this.config.rate, scale = 1 / keep, n = batch * this.size;
    if (!this.frozen) for (let i = 0; i < n; i++) this.mask[i] = this.rng.next() < keep ? scale : 0;
    for (let i = 0; i < n; i++) this.y[i] = x[i] * this.mask[i];
    return this.y;
  }

  freezeRandomness(frozen: boolean): void {
    this.frozen = frozen;
  }

  /** dx = dy · m / (1 − rate) (the same mask as forward). */
  backward(dy: FloatArray, batch: number): FloatArray | null {
    if (!this.needInputGrad) return null;
    if (!this.lastWasTraining) return dy;
    const n = batch * this.size;
    for (let i = 0; i < n; i++) this.dx[i] = dy[i] * this.mask[i];
    return this.dx;
  }
}
