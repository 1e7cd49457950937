/**
 * The scratch engine is generic over its float type: float32 to train, float64 to check
 * gradients against finite differences without float32 rounding drowning the comparison.
 */
export type FloatArray = Float32Array | Float64Array;
export type FloatArrayCtor = Float32ArrayConstructor | Float64ArrayConstructor;
export type DType = 'float32' | 'float64';

export function arrayCtor(dtype: DType): FloatArrayCtor {
  return dtype === 'float64' ? Float64Array : Float32Array;
}

/** A trainable tensor and its gradient, named as tfjs names weights (`conv1d_1/kernel`). */
export interface Param {
  name: string;
  shape: number[];
  value: FloatArray;
  grad: FloatArray;
  /** Kernels take L2 weight decay; biases do not (the Keras convention). */
  decay: boolean;
  /** What a 1-D param starts at (default 0, a bias; 1 for a batch-norm scale γ). */
  fill?: number;
}

/**
 * A tensor a layer keeps but does not train (batch norm's moving mean and variance): saved,
 * exported and compared with the weights, updated by the forward pass, never by the optimizer.
 */
export interface StateTensor {
  name: string;
  shape: number[];
  value: FloatArray;
}

/**
 * One layer of the network. Shapes are per example (no batch axis) and fixed when the
 * network is built; buffers are preallocated for `maxBatch` examples and reused every step.
 */
export interface Layer {
  readonly name: string;
  readonly className: string;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly params: Param[];
  /** Non-trainable tensors, after the params in the layer's weight order. */
  readonly state?: StateTensor[];
  /** Computes the output for the first `batch` examples of `x`; returns the layer's own buffer. */
  forward(x: FloatArray, batch: number, training: boolean): FloatArray;
  /**
   * Given dL/d(output), sets every param's grad to dL/d(param) and returns dL/d(input)
   * in the layer's own buffer (or `null` when `needInputGrad` is false).
   */
  backward(dy: FloatArray, batch: number): FloatArray | null;
  /** False for the first layer unless an input gradient is asked for: saves a whole pass. */
  needInputGrad: boolean;
  /**
   * A hash of the discrete choices the last forward made (which ReLUs were active, which
   * element won each max-pool window). A finite difference is only valid while it stays put.
   */
  kinkSignature?(batch: number): number;
  /** Gradient checks freeze random masks so every evaluation sees the same function. */
  freezeRandomness?(frozen: boolean): void;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
