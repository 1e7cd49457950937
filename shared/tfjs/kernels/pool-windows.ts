import * as tf from '@tensorflow/tfjs';

/**
 * The windows of a 2-D pooling kernel (tf.layers' 1-D pools run as 2-D pools of width 1),
 * clipped to the real input: padded positions belong to no window, as in TensorFlow's forward.
 */
export interface PoolGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  channels: number;
  outHeight: number;
  outWidth: number;
  /** Window (oh, ow) covers rows [rowStart(oh), rowEnd(oh)) and columns [colStart(ow), colEnd(ow)). */
  rowStart(oh: number): number;
  rowEnd(oh: number): number;
  colStart(ow: number): number;
  colEnd(ow: number): number;
}

export function poolGeometry(
  inputShape: number[],
  filterSize: [number, number] | number,
  strides: [number, number] | number,
  pad: Parameters<typeof tf.backend_util.computePool2DInfo>[4],
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): PoolGeometry {
  const info = tf.backend_util.computePool2DInfo(
    inputShape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { inHeight, inWidth, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const { top, left } = info.padInfo;
  return {
    batch: info.batchSize,
    inHeight,
    inWidth,
    channels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    rowStart: (oh) => Math.max(oh * strideHeight - top, 0),
    rowEnd: (oh) => Math.min(oh * strideHeight - top + filterHeight, inHeight),
    colStart: (ow) => Math.max(ow * strideWidth - left, 0),
    colEnd: (ow) => Math.min(ow * strideWidth - left + filterWidth, inWidth),
  };
}
