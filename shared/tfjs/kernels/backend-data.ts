import type * as tf from '@tensorflow/tfjs';

/**
 * Kernel inputs and outputs through the backend's own storage, so a kernel written as plain JS
 * loops runs on any backend: `readSync` gives the values (a copy out of the heap on wasm, the
 * stored array itself on cpu — never written to here), `write` stores a new tensor's values.
 */
export function readFloats(backend: tf.KernelBackend, t: tf.TensorInfo): Float32Array {
  return backend.readSync(t.dataId) as Float32Array;
}

export function writeFloats(backend: tf.KernelBackend, shape: number[], values: ArrayLike<number>): tf.TensorInfo {
  return { dataId: backend.write(Float32Array.from(values), shape, 'float32'), shape, dtype: 'float32' };
}
