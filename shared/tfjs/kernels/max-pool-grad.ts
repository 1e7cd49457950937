import * as tf from '@tensorflow/tfjs';
import { readFloats, writeFloats } from './backend-data';
import { poolGeometry } from './pool-windows';

/**
 * MaxPoolGrad as JS loops: each output's gradient goes to its window's arg-max, the first
 * (lowest index) on ties, padded positions excluded — what the cpu backend and the scratch
 * engine do. tfjs-backend-wasm 4.22's own MaxPoolGrad routes the gradient to the wrong element
 * when a window's maximum is ≤ 0 (x = [−0.5, −0.2, −3, −1], pool 2: cpu [0,1,0,1], wasm [1,0,0,0]),
 * and so silently mistrains every network whose pooled activations can be ≤ 0.
 */
function maxPoolGrad({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolGradAttrs;
  const g = poolGeometry(input.shape, filterSize, strides, pad, dimRoundingMode);
  const { inHeight: H, inWidth: W, channels: C, outHeight: OH, outWidth: OW } = g;
  const xs = readFloats(backend as tf.KernelBackend, input),
    dys = readFloats(backend as tf.KernelBackend, dy);
  const dx = new Float64Array(xs.length);
  for (let b = 0; b < g.batch; b++) {
    for (let oh = 0; oh < OH; oh++) {
      const r0 = g.rowStart(oh),
        r1 = g.rowEnd(oh);
      for (let ow = 0; ow < OW; ow++) {
        const c0 = g.colStart(ow),
          c1 = g.colEnd(ow);
        for (let c = 0; c < C; c++) {
          let best = ((b * H + r0) * W + c0) * C + c;
          for (let r = r0; r < r1; r++) {
            for (let col = c0; col < c1; col++) {
              const at = ((b * H + r) * W + col) * C + c;
              if (xs[at] > xs[best]) best = at;
            }
          }
          dx[best] += dys[((b * OH + oh) * OW + ow) * C + c];
        }
      }
    }
  }
  return writeFloats(backend as tf.KernelBackend, input.shape, dx);
}

export function maxPoolGradConfig(backendName: string): tf.KernelConfig {
  return { kernelName: tf.MaxPoolGrad, backendName, kernelFunc: maxPoolGrad };
}
