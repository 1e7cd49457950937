import * as tf from '@tensorflow/tfjs';

/**
 * The gradient of a dilated Conv2D. tfjs 4.22 has none on any backend: its Conv2D gradient
 * asserts "dilation rates greater than 1 are not yet supported in gradients", so a Conv1D with
 * dilationRate > 1 cannot train. This gradient keeps tfjs's own for undilated convolutions and
 * handles dilation d by the identity
 *   conv(x, W, dilation d) = conv(x, W↑d, dilation 1),
 * W↑d being W with d − 1 zero taps between its taps (same effective size, so 'same' and
 * 'valid' pad identically). Both gradients then come from tfjs's undilated kernels:
 *   dx = Conv2DBackpropInput(dy, W↑d),   dW = every d-th tap of Conv2DBackpropFilter(x, dy).
 * (tfjs only allows dilation with stride 1, so the undilated kernels see stride 1.)
 */
type Conv2DGradAttrs = tf.Conv2DAttrs & tf.NamedAttrMap;

function pair(v: number | [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : v;
}

/** Inserts d − 1 zeros between consecutive entries along `axis` (0 = filter height, 1 = width). */
function spreadTaps(filter: tf.Tensor4D, axis: 0 | 1, d: number): tf.Tensor4D {
  if (d === 1) return filter;
  const shape = filter.shape;
  const taps = shape[axis];
  const padding: Array<[number, number]> = [
    [0, 0],
    [0, 0],
    [0, 0],
    [0, 0],
    [0, 0],
  ];
  padding[axis + 1] = [0, d - 1];
  const spread = tf.pad(tf.expandDims(filter, axis + 1), padding);
  const flat = [...shape] as [number, number, number, number];
  flat[axis] = taps * d;
  const begin = [0, 0, 0, 0],
    size = [...shape];
  size[axis] = (taps - 1) * d + 1;
  return tf.slice(tf.reshape(spread, flat), begin, size) as tf.Tensor4D;
}

let installed = false;

/** Replaces tfjs's Conv2D gradient (process-wide, every backend) with one that also handles dilation. */
export function installDilatedConv2DGradient(): void {
  if (installed) return;
  installed = true;
  const original = tf.getGradient(tf.Conv2D);
  tf.registerGradient({ ...original, gradFunc: dilatedConv2DGrad });

  function dilatedConv2DGrad(
    dy: tf.Tensor | tf.Tensor[],
    saved: tf.Tensor[],
    attrs: tf.NamedAttrMap,
  ): ReturnType<tf.GradFunc> {
    const { dilations, strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as Conv2DGradAttrs;
    const [dh, dw] = pair(dilations ?? 1);
    if (dh === 1 && dw === 1) return original.gradFunc(dy, saved, attrs);
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const grad = dy as tf.Tensor4D;
    const spread = spreadTaps(spreadTaps(filter, 0, dh), 1, dw);
    // The attrs pass through unchanged, dilation aside; tfjs's attr map type cannot hold an absent dimRoundingMode.
    const undilated = { strides, pad, dataFormat, dimRoundingMode } as unknown as tf.NamedAttrMap;
    return {
      x: () =>
        tf
          .engine()
          .runKernel(
            tf.Conv2DBackpropInput,
            { dy: grad, filter: spread },
            { ...undilated, inputShape: x.shape },
          ) as tf.Tensor,
      filter: () => {
        const spreadGrad = tf
          .engine()
          .runKernel(
            tf.Conv2DBackpropFilter,
            { x, dy: grad },
            { ...undilated, filterShape: spread.shape },
          ) as tf.Tensor4D;
        return tf.stridedSlice(spreadGrad, [0, 0, 0, 0], spreadGrad.shape, [dh, dw, 1, 1]);
      },
    };
  }
}
