import * as tf from '@tensorflow/tfjs';
import { readFloats, writeFloats } from './backend-data';
import { poolGeometry } from './pool-windows';

/**
 * AvgPoolGrad as JS loops, the exact derivative of tfjs's own AvgPool forward:
 *   y[i] = (1/|window(i)|) Σ_{j ∈ window(i)} x[j]   ⇒   dx[j] = Σ_{i ∋ j} dy[i] / |window(i)|,
 * |window(i)| counting real (unpadded) positions only. tfjs 4.22's cpu and wasm AvgPoolGrad
 * both scale by 1/poolSize instead, which is wrong for the partial windows at the edges with
 * padding 'same' (x = [1,2,3,4,5], pool 2 stride 2 'same': the last window holds x[4] alone,
 * so dx[4] = 1; tfjs gives 0.5).
 */
function avgPoolGrad({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const { filterSize, strides, pad } = attrs as unknown as tf.AvgPoolGradAttrs;
  const g = poolGeometry(input.shape, filterSize, strides, pad);
  const { inHeight: H, inWidth: W, channels: C, outHeight: OH, outWidth: OW } = g;
  const dys = readFloats(backend as tf.KernelBackend, dy);
  const dx = new Float64Array(g.batch * H * W * C);
  for (let b = 0; b < g.batch; b++) {
    for (let oh = 0; oh < OH; oh++) {
      const r0 = g.rowStart(oh),
        r1 = g.rowEnd(oh);
      for (let ow = 0; ow < OW; ow++) {
        const c0 = g.colStart(ow),
          c1 = g.colEnd(ow);
        const scale = 1 / ((r1 - r0) * (c1 - c0));
        const dyAt = ((b * OH + oh) * OW + ow) * C;
        for (let r = r0; r < r1; r++) {
          for (let col = c0; col < c1; col++) {
            const at = ((b * H + r) * W + col) * C;
            for (let c = 0; c < C; c++) dx[at + c] += dys[dyAt + c] * scale;
          }
        }
      }
    }
  }
  return writeFloats(backend as tf.KernelBackend, input.shape, dx);
}

export function avgPoolGradConfig(backendName: string): tf.KernelConfig {
  return { kernelName: tf.AvgPoolGrad, backendName, kernelFunc: avgPoolGrad };
}
