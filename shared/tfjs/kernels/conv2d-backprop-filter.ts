import * as tf from '@tensorflow/tfjs';
import { readFloats, writeFloats } from './backend-data';

/**
 * Conv2DBackpropFilter, the gradient of a convolution with respect to its filter, as JS loops.
 * tfjs-backend-wasm 4.22 registers no such kernel, so training any Conv1D there fails with
 * "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'". Channels last (NHWC, which
 * is what tf.conv1d uses), dilation 1 (tfjs's own contract for this kernel):
 *   dW[fh,fw,c,f] = Σ_{b,oh,ow} x[b, oh·sh + fh − top, ow·sw + fw − left, c] · dy[b,oh,ow,f]
 * summed in float64 (as the cpu backend does), over real input positions only.
 */
function conv2dBackpropFilter({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (dataFormat !== 'NHWC')
    throw new Error(`Conv2DBackpropFilter (Lockstep's kernel): only NHWC is implemented, got ${dataFormat}`);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: F } = info;
  const { strideHeight: SH, strideWidth: SW, filterHeight: FH, filterWidth: FW } = info;
  const { top, left } = info.padInfo;
  const xs = readFloats(backend as tf.KernelBackend, x),
    dys = readFloats(backend as tf.KernelBackend, dy);
  const dw = new Float64Array(FH * FW * C * F);
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const dyAt = ((b * OH + oh) * OW + ow) * F;
        for (let fh = 0; fh < FH; fh++) {
          const ih = oh * SH + fh - top;
          if (ih < 0 || ih >= H) continue;
          for (let fw = 0; fw < FW; fw++) {
            const iw = ow * SW + fw - left;
            if (iw < 0 || iw >= W) continue;
            const xAt = ((b * H + ih) * W + iw) * C;
            const wAt = (fh * FW + fw) * C * F;
            for (let c = 0; c < C; c++) {
              const xv = xs[xAt + c];
              const row = wAt + c * F;
              for (let f = 0; f < F; f++) dw[row + f] += xv * dys[dyAt + f];
            }
          }
        }
      }
    }
  }
  return writeFloats(backend as tf.KernelBackend, [...filterShape], dw);
}

export function conv2dBackpropFilterConfig(backendName: string): tf.KernelConfig {
  return { kernelName: tf.Conv2DBackpropFilter, backendName, kernelFunc: conv2dBackpropFilter };
}
