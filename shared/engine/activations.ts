import type { FloatArray } from './types';

export const ACTIVATIONS = ['linear', 'sigmoid', 'tanh', 'relu', 'softmax'] as const;
export type ActivationName = (typeof ACTIVATIONS)[number];
/** Activations applied elementwise; softmax only ends a network, fused with the NLL loss. */
export type ElementwiseActivation = Exclude<ActivationName, 'softmax'>;

/** The function a layer applies: a final softmax Dense outputs logits, the loss applies the softmax. */
export function elementwise(activation: ActivationName): ElementwiseActivation {
  return activation === 'softmax' ? 'linear' : activation;
}

/** y = f(z), in place over the first n values. */
export function activate(kind: ElementwiseActivation, a: FloatArray, n: number): void {
  switch (kind) {
    case 'linear':
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) a[i] = 1 / (1 + Math.exp(-a[i]));
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) a[i] = Math.tanh(a[i]);
      return;
    case 'relu':
      for (let i = 0; i < n; i++) if (a[i] < 0) a[i] = 0;
      return;
  }
}

/**
 * dL/dz = dL/dy · f'(z), with f' written in terms of the output y:
 * sigmoid y(1−y), tanh 1−y², relu [y>0], linear 1. Writes into dz (may alias dy).
 */
export function activationBackward(
  kind: ElementwiseActivation,
  y: FloatArray,
  dy: FloatArray,
  dz: FloatArray,
  n: number,
): void {
  switch (kind) {
    case 'linear':
      if (dz !== dy) for (let i = 0; i < n; i++) dz[i] = dy[i];
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) dz[i] = dy[i] * y[i] * (1 - y[i]);
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) dz[i] = dy[i] * (1 - y[i] * y[i]);
      return;
    case 'relu':
      for (let i = 0; i < n; i++) dz[i] = y[i] > 0 ? dy[i] : 0;
      return;
  }
}

/** FNV-1a step: folds one integer into a running 32-bit hash. */
export function hashStep(h: number, v: number): number {
  return Math.imul(h ^ v, 0x01000193) >>> 0;
}

/** The activation a Conv1D, Dense or Activation layer applies to its own output buffer. */
export class ActivationStage {
  constructor(readonly kind: ElementwiseActivation) {}

  forward(a: FloatArray, n: number): void {
    activate(this.kind, a, n);
  }

  backward(y: FloatArray, dy: FloatArray, dz: FloatArray, n: number): void {
    activationBackward(this.kind, y, dy, dz, n);
  }

  /** Which ReLU units were active: the discrete choice a finite difference must not cross. */
  kinkSignature(y: FloatArray, n: number): number {
    if (this.kind !== 'relu') return 0;
    let h = 0x811c9dc5;
    for (let i = 0; i < n; i++) if (y[i] > 0) h = hashStep(h, i);
    return h;
  }
}
