import * as tf from '@tensorflow/tfjs';
import { sizeOf } from '../engine/types';
import { activateBackend } from '../tfjs/backend';
import { softmaxNll } from '../tfjs/loss';
import { assignValues, buildTfjsNetwork, type TfjsNetwork } from '../tfjs/network';
import type { Jacobian } from './jacobian';
import type { LabProblem } from './problem';

/**
 * The same Jacobian by tfjs's autodiff (float32, cpu backend with Lockstep's corrected
 * kernels): the tfjs-layers layer the tfjs engine would build for the spec, holding the
 * scratch layer's weights, differentiated by tf.grad once per output element (row i is the
 * gradient of y_i). Softmax and the NLL are tf.softmax and the tfjs engine's softmaxNll.
 */
export async function tfjsJacobian(problem: LabProblem): Promise<Jacobian> {
  await activateBackend({ backend: 'cpu' });
  const { fn } = problem;
  const rows = sizeOf(fn.outputShape),
    cols = fn.x.length;
  const values = new Float64Array(rows * cols);
  const x = tf.tensor(Float32Array.from(fn.x), [1, ...fn.inputShape]);
  try {
    const output = problem.resolved ? layerOutput(problem) : lossOutput(problem);
    try {
      for (let i = 0; i < rows; i++) {
        const g = tf.tidy(() =>
          tf.grad((input: tf.Tensor) => tf.sum(tf.slice(tf.reshape(output.apply(input, i), [-1]), i, 1)))(x),
        );
        values.set(g.dataSync(), i * cols);
        g.dispose();
      }
    } finally {
      output.dispose();
    }
  } finally {
    x.dispose();
  }
  return { rows, cols, values };
}

interface TfjsOutput {
  /** The function's output at `input`, for the gradient of row `row`. */
  apply(input: tf.Tensor, row: number): tf.Tensor;
  dispose(): void;
}

function layerOutput(problem: LabProblem): TfjsOutput {
  const resolved = problem.resolved!,
    index = problem.layerIndex;
  const build = (): TfjsNetwork => {
    const net = buildTfjsNetwork(resolved, problem.settings.seed);
    for (const p of net.params) {
      const w = problem.weights.get(p.name);
      if (w) assignValues(p, Float32Array.from(w));
    }
    return net;
  };
  // Lockstep's tfjs dropout draws a fresh mask from its seeded stream on every training call,
  // the first one equal to the scratch layer's: a fresh network per row keeps that first mask.
  const stochastic = resolved.layers[index].config.type === 'Dropout';
  let net = build();
  let last = 0;
  return {
    apply(input, row) {
      if (stochastic && row !== last) {
        net.model.dispose();
        net = build();
      }
      last = row;
      return net.model.layers[index].apply(input, { training: true }) as tf.Tensor;
    },
    dispose: () => net.model.dispose(),
  };
}

function lossOutput(problem: LabProblem): TfjsOutput {
  const K = problem.fn.x.length;
  return {
    apply: (z, row) =>
      problem.settings.kind === 'Softmax'
        ? tf.softmax(z)
        : // Row k is the loss for label k: only that element is read, so only it is computed.
          tf.pad(tf.reshape(softmaxNll(z, tf.tensor1d([row], 'int32'), K), [1, 1]), [
            [0, 0],
            [row, K - 1 - row],
          ]),
    dispose: () => {},
  };
}
