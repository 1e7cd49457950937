import type { Rng } from './rng';
import type { Param } from './types';

/**
 * tfjs/Keras default initialisation: kernels Glorot-uniform, U(−a, a) with
 * a = √(6 / (fanIn + fanOut)); biases zero. For a kernel of shape [..receptive, in, out],
 * fanIn = receptive·in and fanOut = receptive·out. A 1-D param starts at its `fill` (batch norm's γ at 1).
 */
/** Only a param's shape and values are touched, so the tfjs engine draws the very same init. */
export type InitTarget = Pick<Param, 'shape' | 'value' | 'fill'>;

export function glorotUniform(param: InitTarget, rng: Rng): void {
  const shape = param.shape;
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const fanIn = receptive * shape[shape.length - 2];
  const fanOut = receptive * shape[shape.length - 1];
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  for (let i = 0; i < param.value.length; i++) param.value[i] = rng.uniform(-limit, limit);
}

export function initializeParams(params: readonly InitTarget[], rng: Rng): void {
  for (const p of params) {
    if (p.shape.length >= 2) glorotUniform(p, rng);
    else p.value.fill(p.fill ?? 0);
  }
}
