import type * as Tf from '@tensorflow/tfjs';

/**
 * tfjs-layers subclasses a descriptor defines itself (layers tfjs lacks). A class can only
 * extend tf.layers.Layer once tf is at hand, so it is made on first use, once per tfjs module:
 * the scratch engine never loads tfjs.
 */
const made = new WeakMap<object, Map<string, unknown>>();

export function tfjsClass<C>(tf: typeof Tf, key: string, make: (tf: typeof Tf) => C): C {
  let classes = made.get(tf);
  if (!classes) made.set(tf, (classes = new Map()));
  if (!classes.has(key)) classes.set(key, make(tf));
  return classes.get(key) as C;
}

/** The one input of a single-input layer's `call`. */
export function single(inputs: Tf.Tensor | Tf.Tensor[]): Tf.Tensor {
  return Array.isArray(inputs) ? inputs[0] : inputs;
}

/** The input shape of a single-input layer's `computeOutputShape`. */
export function singleShape(inputShape: Tf.Shape | Tf.Shape[]): Tf.Shape {
  return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Tf.Shape;
}
