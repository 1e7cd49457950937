import * as tf from '@tensorflow/tfjs';

/**
 * The scratch engine's loss in tf ops: softmax fused with the mean NLL, from logits through a
 * stable log-softmax (tf.logSoftmax subtracts the row max):  L = −(1/B) Σ_b log_softmax(z_b)[y_b].
 */
export function softmaxNll(logits: tf.Tensor, labels: tf.Tensor1D, classes: number): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(labels, classes)), 1))));
}
