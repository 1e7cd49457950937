import type { ReshapeConfig } from '../spec';
import type { FloatArray, Layer } from '../types';

/**
 * [time, channels] → [time·channels] in channels-last (row-major) order, as tfjs flattens:
 * the memory layout is already that, so forward and backward pass their buffers through.
 */
export class Flatten implements Layer {
  readonly className = 'Flatten';
  readonly name: string;
  readonly params = [];
  needInputGrad = true;

  constructor(
    config: ReshapeConfig,
    readonly inputShape: readonly number[],
    readonly outputShape: readonly number[],
  ) {
    this.name = config.name;
  }

  forward(x: FloatArray): FloatArray {
    return x;
  }

  /** dx = dy (a reshape moves no values). */
  backward(dy: FloatArray): FloatArray | null {
    return this.needInputGrad ? dy : null;
  }
}
