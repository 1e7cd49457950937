import * as tf from '@tensorflow/tfjs';
import { LockstepError } from '../errors';
import type { ResolvedNetwork } from '../engine/spec';
import { softmaxNll } from './loss';
import type { TfjsNetwork } from './network';

const MISSING_KERNEL = /Kernel '(\w+)' not registered for backend '(\w+)'/;

/** Runs `step`; a failure becomes a LockstepError that names the kernel (if one is missing) and the part of the network. */
function probe(backend: string, what: string, step: () => void): void {
  try {
    step();
  } catch (e) {
    const message = (e as Error).message;
    const missing = MISSING_KERNEL.exec(message);
    throw new LockstepError(
      missing
        ? `tfjs backend '${backend}' has no '${missing[1]}' kernel, which ${what} needs to train`
        : `${what} cannot train on tfjs backend '${backend}': ${message}`,
    );
  }
}

/** dL/d(input) and dL/d(every weight) of `f` at one example: every kernel a training step runs, forward and backward. */
function runForwardAndBackward(inputShape: number[], weights: tf.Variable[], f: (x: tf.Tensor) => tf.Scalar): void {
  const x = tf.tidy(() => tf.variable(tf.zeros([1, ...inputShape])));
  try {
    tf.tidy(() => {
      tf.variableGrads(() => f(x), [x, ...weights]);
    });
  } finally {
    x.dispose();
  }
}

/**
 * Before any training, runs each layer's forward and backward pass (and the loss's) once on
 * one example, so a kernel the backend lacks is reported with the layer that needs it rather
 * than as a stack trace mid-run. Layers run in inference mode: a training pass of a dropout
 * layer would consume draws of the seeded mask stream the scratch engine does not.
 * (When a backward pass throws, tfjs does not free the tensors it saved for it: a failed
 * probe leaves a few behind, in a process that is about to report the error anyway.)
 */
export function probeKernels(net: TfjsNetwork, resolved: ResolvedNetwork, backend: string): void {
  resolved.layers.forEach((l, i) => {
    const layer = net.model.layers[i];
    const weights = net.params.filter((p) => p.name.startsWith(`${l.config.name}/`)).map((p) => p.variable);
    probe(backend, `layer ${l.config.name} (${l.config.type})`, () =>
      runForwardAndBackward(l.inputShape, weights, (x) => tf.sum(layer.apply(x, { training: false }) as tf.Tensor)),
    );
  });
  probe(backend, 'the softmax-NLL loss', () =>
    runForwardAndBackward([resolved.classes], [], (logits) => {
      tf.softmax(logits);
      return softmaxNll(logits, tf.tensor1d([0], 'int32'), resolved.classes);
    }),
  );
}
