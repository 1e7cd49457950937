import type { Padding } from './spec';

/**
 * Where a sliding window (a conv kernel or a pool) of `span` input steps sits, with the
 * tfjs/TensorFlow rules: 'valid' keeps only whole windows; 'same' gives ceil(L / stride)
 * outputs and pads the shortfall evenly, the odd step on the right.
 */
export interface Window1D {
  outLength: number;
  padLeft: number;
}

export function window1d(inLength: number, span: number, stride: number, padding: Padding): Window1D {
  if (padding === 'valid') return { outLength: Math.floor((inLength - span) / stride) + 1, padLeft: 0 };
  const outLength = Math.ceil(inLength / stride);
  const totalPad = Math.max((outLength - 1) * stride + span - inLength, 0);
  return { outLength, padLeft: Math.floor(totalPad / 2) };
}
