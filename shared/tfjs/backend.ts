import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { LockstepError } from '../errors';
import { TFJS_BACKENDS, type TfjsBackend } from '../names';
import { installCorrectedKernels } from './corrected-kernels';

/**
 * tfjs's backend is process-wide: starting one switches every tfjs engine in the process to
 * it. In Node the wasm backend runs single-threaded (its threaded build needs web workers).
 */
export { TFJS_BACKENDS, type TfjsBackend };

export interface BackendOptions {
  backend: TfjsBackend;
  /** The folder holding tfjs-backend-wasm's .wasm files (its dist/); required for wasm. */
  wasmDir?: string;
}

let wasmPrefix: string | null = null;

/** tfjs can be told where its .wasm files are only once, before the backend starts. */
function pointAtWasmFiles(wasmDir: string | undefined): void {
  if (!wasmDir) throw new LockstepError("tfjs backend 'wasm': the folder of its .wasm files was not given");
  const prefix = /[\\/]$/.test(wasmDir) ? wasmDir : `${wasmDir}/`;
  if (wasmPrefix === prefix) return;
  if (wasmPrefix !== null)
    throw new LockstepError(`tfjs backend 'wasm' already loads its .wasm files from ${wasmPrefix}, not ${prefix}`);
  setWasmPaths(prefix);
  wasmPrefix = prefix;
}

/**
 * On its first tensor in Node, tfjs's cpu backend prints a notice to install tfjs-node (which
 * cannot be installed here); Lockstep's output stays its own, so exactly that notice is dropped.
 */
async function withoutNodeBackendNotice(run: () => Promise<void>): Promise<void> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!args.some((a) => typeof a === 'string' && a.includes('running TensorFlow.js in Node.js'))) warn(...args);
  };
  try {
    await run();
  } finally {
    console.warn = warn;
  }
}

/** Starts (or switches to) a backend with Lockstep's corrected kernels registered. */
export async function activateBackend({ backend, wasmDir }: BackendOptions): Promise<void> {
  if (!TFJS_BACKENDS.includes(backend))
    throw new LockstepError(`tfjs backend must be one of ${TFJS_BACKENDS.join(', ')}, got '${String(backend)}'`);
  if (backend === 'wasm') pointAtWasmFiles(wasmDir);
  installCorrectedKernels(backend);
  await withoutNodeBackendNotice(async () => {
    if (!(await tf.setBackend(backend))) {
      throw new LockstepError(
        `tfjs backend '${backend}' failed to start${backend === 'wasm' ? ` (are the .wasm files in ${wasmPrefix}?)` : ''}`,
      );
    }
    tf.tensor1d([0]).dispose();
  });
}
