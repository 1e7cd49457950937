import * as tf from '@tensorflow/tfjs';
import { avgPoolGradConfig } from './kernels/avg-pool-grad';
import { conv2dBackpropFilterConfig } from './kernels/conv2d-backprop-filter';
import { installDilatedConv2DGradient } from './kernels/dilated-conv2d-grad';
import { maxPoolGradConfig } from './kernels/max-pool-grad';

/**
 * Where tfjs 4.22 computes a gradient wrongly or not at all, Lockstep registers a correct
 * kernel in its place (each file under kernels/ documents its defect, found by trying):
 *   - wasm has no Conv2DBackpropFilter: no Conv1D can train there;
 *   - wasm's MaxPoolGrad sends the gradient to the wrong element when a window's max is ≤ 0;
 *   - cpu's and wasm's AvgPoolGrad scale partial 'same' windows by 1/poolSize, not 1/count;
 *   - no backend has a gradient for a dilated Conv2D (a Conv1D with dilationRate > 1).
 * cpu's own Conv2DBackpropFilter is correct but reads every element through
 * TensorBuffer.get: 400 of the 417 ms of a tdnn step, 10.9 s a step for the 'best' preset.
 * The wasm kernel (plain loops over the flat arrays) replaces it there too; a test holds
 * the two equal.
 */
export const CORRECTED_KERNELS: Readonly<Record<'cpu' | 'wasm', Array<(backend: string) => tf.KernelConfig>>> = {
  cpu: [conv2dBackpropFilterConfig, avgPoolGradConfig],
  wasm: [conv2dBackpropFilterConfig, maxPoolGradConfig, avgPoolGradConfig],
};

const installedFor = new Set<string>();

/** Registers the corrected kernels for one backend (replacing tfjs's own), once per process. */
export function installCorrectedKernels(backend: 'cpu' | 'wasm'): void {
  installDilatedConv2DGradient();
  if (installedFor.has(backend)) return;
  installedFor.add(backend);
  for (const make of CORRECTED_KERNELS[backend]) {
    const config = make(backend);
    if (tf.getKernel(config.kernelName, backend)) tf.unregisterKernel(config.kernelName, backend);
    tf.registerKernel(config);
  }
}
