/**
 * TensorBoard's scalar smoothing: an exponential moving average, debiased the way Adam
 * debiases its moments, so the curve starts at the data instead of at zero:
 *
 *   s_t = β·s_{t−1} + (1−β)·x_t,  s_0 = 0,   shown: s_t / (1 − β^t)
 *
 * Non-finite values are skipped (they leave the average unchanged and come out as NaN),
 * so a NaN loss does not poison the rest of the curve.
 */
export function debiasedEma(values: ArrayLike<number>, beta: number, out?: Float64Array): Float64Array {
  const n = values.length;
  const result = out && out.length === n ? out : new Float64Array(n);
  if (!(beta > 0)) {
    for (let i = 0; i < n; i++) result[i] = Number.isFinite(values[i]) ? values[i] : NaN;
    return result;
  }
  const b = Math.min(beta, 0.999999);
  let s = 0;
  let t = 0;
  for (let i = 0; i < n; i++) {
    const x = values[i];
    if (!Number.isFinite(x)) {
      result[i] = NaN;
      continue;
    }
    t++;
    s = b * s + (1 - b) * x;
    result[i] = s / (1 - b ** t);
  }
  return result;
}
