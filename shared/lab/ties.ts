import type { Padding } from '../engine/spec';
import { window1d } from '../engine/window1d';

/**
 * Ties in 1-D max pooling. Where a window's maximum is attained by several inputs, y is not
 * differentiable: raising either tied input raises y at rate 1, lowering it leaves y alone.
 * The engine (and tfjs's cpu backend) send the gradient to the first of them; the lab shows
 * every tie instead of hiding it.
 */
export interface PoolGeometry {
  length: number;
  channels: number;
  poolSize: number;
  strides: number;
  padding: Padding;
}

export interface Tie {
  /** Flat output index, (i · channels + c). */
  output: number;
  /** Flat input indices (j · channels + c) that all attain the window's maximum, ascending. */
  inputs: number[];
}

/** The real input positions of window i (padded positions never compete). */
function windowRange(g: PoolGeometry, padLeft: number, i: number): [number, number] {
  return [Math.max(i * g.strides - padLeft, 0), Math.min(i * g.strides - padLeft + g.poolSize, g.length)];
}

function geometryOf(g: PoolGeometry): { outLength: number; padLeft: number } {
  return window1d(g.length, g.poolSize, g.strides, g.padding);
}

/** Every window (and channel) whose maximum is attained exactly by more than one input. */
export function maxPoolTies(x: ArrayLike<number>, g: PoolGeometry): Tie[] {
  const { outLength, padLeft } = geometryOf(g);
  const C = g.channels,
    ties: Tie[] = [];
  for (let i = 0; i < outLength; i++) {
    const [start, end] = windowRange(g, padLeft, i);
    for (let c = 0; c < C; c++) {
      let max = -Infinity;
      for (let j = start; j < end; j++) max = Math.max(max, x[j * C + c]);
      const inputs: number[] = [];
      for (let j = start; j < end; j++) if (x[j * C + c] === max) inputs.push(j * C + c);
      if (inputs.length > 1) ties.push({ output: i * C + c, inputs });
    }
  }
  return ties;
}

/**
 * Makes ties on purpose: in every other window (0, 2, 4, …) the element after the maximum (or
 * before it, when the maximum ends the window) is set equal to it. Overlapping windows may
 * then tie elsewhere too; maxPoolTies reports what actually ties.
 */
export function makeMaxPoolTies(x: Float64Array, g: PoolGeometry): void {
  const { outLength, padLeft } = geometryOf(g);
  const C = g.channels;
  for (let i = 0; i < outLength; i += 2) {
    const [start, end] = windowRange(g, padLeft, i);
    if (end - start < 2) continue;
    for (let c = 0; c < C; c++) {
      let best = start;
      for (let j = start + 1; j < end; j++) if (x[j * C + c] > x[best * C + c]) best = j;
      const twin = best + 1 < end ? best + 1 : best - 1;
      x[twin * C + c] = x[best * C + c];
    }
  }
}
