import * as tf from '@tensorflow/tfjs';
import type { OptimizerSettings } from '../engine/optimizers';

/**
 * tfjs's own optimizers with the scratch engine's settings and defaults (momentum 0.9, Adam
 * β1 0.9, β2 0.999, ε 1e-7 given explicitly rather than left to the backend).
 */
export function createTfjsOptimizer(s: OptimizerSettings): tf.Optimizer {
  switch (s.optimizer) {
    case 'sgd':
      return tf.train.sgd(s.lr);
    case 'momentum':
      return tf.train.momentum(s.lr, s.momentum ?? 0.9, s.nesterov ?? false);
    case 'adam':
      return tf.train.adam(s.lr, s.beta1 ?? 0.9, s.beta2 ?? 0.999, s.epsilon ?? 1e-7);
  }
}

/**
 * SGD and momentum hold the rate as a scalar tensor that setLearningRate replaces; Adam reads
 * its (protected) learningRate field at every step and has no setter. (The method is looked
 * up rather than tested by instanceof: tfjs optimizers answer instanceof by duck typing, so
 * an Adam optimizer is "instanceof SGDOptimizer".)
 */
export function setOptimizerLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const o = optimizer as unknown as { setLearningRate?: (lr: number) => void; learningRate: number };
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else o.learningRate = lr;
}
