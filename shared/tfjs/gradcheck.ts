import * as tf from '@tensorflow/tfjs';
import type { GradientPoint } from '../engine/gradcheck';
import { activateBackend, type BackendOptions } from './backend';
import { softmaxNll } from './loss';
import { assignValues, buildTfjsNetwork } from './network';

/**
 * The scratch engine's backward pass (float64) against tfjs's autodiff (float32) at the same
 * point: same weights, batch, labels and dropout masks. tfjs differentiates the whole network
 * in one tf.variableGrads call; each layer's input gradient comes from a zero "probe" variable
 * added to that input (d(a + z)/dz = 1, so dL/dz = dL/da).
 *
 * Tolerance (float32 against float64): relative error |s − t| / max(|s|, |t|, FLOOR) ≤ 5e-3,
 * FLOOR = 1e-3 · max|s| over the tensor. Float32 alone explains errors up to ~1e-3 here, not
 * the ~1e-7 of one rounding: a saturated tanh or sigmoid unit's derivative 1 − y² (or y(1 − y))
 * is computed from y, which float32 holds to 6e-8 absolute, so where the derivative is ~1e-4 it
 * carries ~1e-3 relative error into every gradient element through that unit; and elements
 * that cancel to near zero carry the absolute error of the large terms summed into them, which
 * the floor (0.1% of the tensor's largest entry) turns into a relative error below 1e-3.
 * Measured at batch 1, 3 and 10, seeds 1–8, on the presets: worst 1.9e-4 on cpu and 9.6e-4 on
 * wasm (whose tanh and sigmoid are up to 1.2 and 2.1 ulps off, cpu's 0.5); the scratch engine run in
 * float32 differs from its float64 self by up to 5.4e-4. 5e-3 leaves 5× margin over the worst
 * of those, while a real mistake (a wrong sign, index, scale or window) is an O(1) error.
 */
export const TFJS_TOLERANCE = 5e-3;
export const TFJS_FLOOR_FRACTION = 1e-3;

export interface TfjsLayerCheck {
  layer: string;
  tfjsMaxRelError: number;
}

export interface TfjsGradCheckResult {
  ok: boolean;
  tolerance: number;
  tfjsMaxRelError: number;
  layers: TfjsLayerCheck[];
}

function maxRelError(scratch: Float64Array, tfjs: Float32Array): number {
  let scale = 0;
  for (const v of scratch) scale = Math.max(scale, Math.abs(v));
  const floor = TFJS_FLOOR_FRACTION * scale;
  let worst = 0;
  for (let i = 0; i < scratch.length; i++) {
    const e =
      Math.abs(scratch[i] - tfjs[i]) / Math.max(Math.abs(scratch[i]), Math.abs(tfjs[i]), floor, Number.MIN_VALUE);
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e;
  }
  return worst;
}

/** dL/d(every weight) and dL/d(every layer's input) by tfjs autodiff at `point`. */
function tfjsGradients(point: GradientPoint): { params: Map<string, Float32Array>; inputs: Float32Array[] } {
  const resolved = point.net.resolved;
  const net = buildTfjsNetwork(resolved, point.seed);
  const probes = resolved.layers.map((l) => tf.tidy(() => tf.variable(tf.zeros([point.batch, ...l.inputShape]))));
  try {
    for (const p of net.params)
      assignValues(p, Float32Array.from(point.net.params.find((q) => q.name === p.name)!.value));
    const grads = tf.tidy(() => {
      const x = tf.tensor(Float32Array.from(point.x), [point.batch, ...resolved.input]);
      const labels = tf.tensor1d(point.labels, 'int32');
      const loss = (): tf.Scalar => {
        let a: tf.Tensor = x;
        net.model.layers.forEach((layer, i) => {
          a = layer.apply(tf.add(a, probes[i]), { training: true }) as tf.Tensor;
        });
        return softmaxNll(a, labels, resolved.classes);
      };
      return tf.variableGrads(loss, [...net.params.map((p) => p.variable), ...probes]).grads;
    });
    const read = (v: tf.Variable): Float32Array => Float32Array.from(grads[v.name].dataSync());
    const result = { params: new Map(net.params.map((p) => [p.name, read(p.variable)])), inputs: probes.map(read) };
    tf.dispose(grads);
    return result;
  } finally {
    tf.dispose(probes);
    net.model.dispose();
  }
}

/** Per layer, the worst relative error of the scratch gradients (params and input) against tfjs's. */
export async function tfjsGradientCheck(point: GradientPoint, backend: BackendOptions): Promise<TfjsGradCheckResult> {
  await activateBackend(backend);
  const t = tfjsGradients(point);
  const layers = point.net.layers.map((layer, l) => {
    const errors = [
      ...layer.params.map((p) => maxRelError(point.paramGrads.get(p.name)!, t.params.get(p.name)!)),
      maxRelError(point.inputGrads[l], t.inputs[l]),
    ];
    return { layer: layer.name, tfjsMaxRelError: Math.max(...errors) };
  });
  const worst = Math.max(...layers.map((l) => l.tfjsMaxRelError));
  return { ok: worst <= TFJS_TOLERANCE, tolerance: TFJS_TOLERANCE, tfjsMaxRelError: worst, layers };
}
