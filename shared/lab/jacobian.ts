import { DEFAULT_TOLERANCE, relativeError } from '../engine/gradcheck';
import type { LabFunction } from './problem';

/**
 * Jacobians J[i][j] = ∂f_i/∂x_j, stored row-major (m outputs × n inputs) in a Float64Array.
 * Two are computed here in float64: by the engine's backward (one pass per output row, dL/dy = eᵢ)
 * and by central finite differences; the third, tfjs's autodiff, in jacobian-tfjs.ts.
 */
export interface Jacobian {
  rows: number;
  cols: number;
  values: Float64Array;
}

export function backwardJacobian(fn: LabFunction): Jacobian {
  const rows = fn.evaluate(fn.x).length,
    cols = fn.x.length;
  const values = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) values.set(fn.backwardRow(i), i * cols);
  return { rows, cols, values };
}

/**
 * The fourth-order central stencil (8(f(x+h) − f(x−h)) − (f(x+2h) − f(x−2h))) / 12h, h = 1e-3
 * (differences first, so an output that does not move gives exactly 0):
 * truncation error O(h⁴) ≈ 1e-12 and rounding ≈ 1e-13 on these O(1) functions, far inside the
 * 1e-6 the engine's backward is held to (a plain central difference at any one step leaves
 * ~1e-10 of one or the other, too close for entries near 1e-5).
 */
export const FD_STEP = 1e-3;
/**
 * Where a stencil point crosses a kink (a max-pool winner or a ReLU changes), the column is
 * retaken at this tiny step. The only layers with kinks are piecewise linear, so away from the
 * kink a tiny step is exact up to rounding (~1e-10).
 */
export const FD_TINY_STEP = 1e-6;
/**
 * An entry sits on a kink when its one-sided slopes at the tiny step differ by more than this:
 * on a linear piece they agree to rounding (~1e-9), across a kink they differ by the jump in
 * the derivative (1 for a max-pool tie, a weight for a ReLU).
 */
export const KINK_JUMP = 1e-6;

export interface FiniteDifferences {
  jacobian: Jacobian;
  /** 1 where the entry sits on a kink: f has no derivative there and no comparison is made. */
  kinked: Uint8Array;
}

export function finiteDifferenceJacobian(fn: LabFunction): FiniteDifferences {
  const x = Float64Array.from(fn.x),
    n = x.length;
  const f0 = fn.evaluate(x);
  const baseSignature = fn.signature();
  const m = f0.length;
  const values = new Float64Array(m * n),
    kinked = new Uint8Array(m * n);
  /** f at x + δ·e_j, or null when that crosses a kink. */
  const at = (j: number, delta: number): Float64Array | null => {
    x[j] = fn.x[j] + delta;
    const y = fn.evaluate(x);
    const same = fn.signature() === baseSignature;
    x[j] = fn.x[j];
    return same ? y : null;
  };
  for (let j = 0; j < n; j++) {
    const h = FD_STEP;
    const m2 = at(j, -2 * h),
      m1 = at(j, -h),
      p1 = at(j, h),
      p2 = at(j, 2 * h);
    if (m2 && m1 && p1 && p2) {
      for (let i = 0; i < m; i++) values[i * n + j] = (8 * (p1[i] - m1[i]) - (p2[i] - m2[i])) / (12 * h);
      continue;
    }
    const t = FD_TINY_STEP;
    x[j] = fn.x[j] + t;
    const plus = fn.evaluate(x);
    x[j] = fn.x[j] - t;
    const minus = fn.evaluate(x);
    x[j] = fn.x[j];
    for (let i = 0; i < m; i++) {
      values[i * n + j] = (plus[i] - minus[i]) / (2 * t);
      if (Math.abs(plus[i] - 2 * f0[i] + minus[i]) / t > KINK_JUMP) kinked[i * n + j] = 1;
    }
  }
  fn.evaluate(fn.x);
  return { jacobian: { rows: m, cols: n, values }, kinked };
}

export interface PairError {
  /** Largest |a − b| over the entries compared. */
  maxAbs: number;
  /** Largest relative error over the entries compared (definition per pair, see below). */
  maxRel: number;
  tolerance: number;
  ok: boolean;
  /** Entries compared (the kinked ones are left out). */
  compared: number;
}

/**
 * Our backward against finite differences, both float64: the gradient check's relative error
 * |a − b| / max(|a|, |b|, 1e-5) and its tolerance 1e-6 (shared/engine/gradcheck.ts).
 */
export function float64Error(a: Jacobian, b: Jacobian, kinked: Uint8Array): PairError {
  return pairError(a.values, b.values, kinked, relativeError, DEFAULT_TOLERANCE);
}

/**
 * Either float64 Jacobian against tfjs's float32 one, judged as the tfjs gradient check judges
 * float32 against float64 (shared/tfjs/gradcheck.ts): |a − b| / max(|a|, |b|, floor), with the
 * floor a fraction of the reference's largest entry, and the tolerance justified there.
 */
export function float32Error(
  reference: Jacobian,
  tfjs: Jacobian,
  kinked: Uint8Array,
  tolerance: number,
  floorFraction: number,
): PairError {
  let scale = 0;
  for (const v of reference.values) scale = Math.max(scale, Math.abs(v));
  const floor = Math.max(floorFraction * scale, Number.MIN_VALUE);
  const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), floor);
  return pairError(reference.values, tfjs.values, kinked, rel, tolerance);
}

function pairError(
  a: Float64Array,
  b: Float64Array,
  kinked: Uint8Array,
  rel: (a: number, b: number) => number,
  tolerance: number,
): PairError {
  let maxAbs = 0,
    maxRel = 0,
    compared = 0;
  for (let k = 0; k < a.length; k++) {
    if (kinked[k]) continue;
    compared++;
    const abs = Math.abs(a[k] - b[k]),
      r = rel(a[k], b[k]);
    // A NaN counts as the worst error, never as a pass.
    if (!(abs <= maxAbs)) maxAbs = Number.isNaN(abs) ? Infinity : abs;
    if (!(r <= maxRel)) maxRel = Number.isNaN(r) ? Infinity : r;
  }
  return { maxAbs, maxRel, tolerance, ok: maxRel <= tolerance, compared };
}
