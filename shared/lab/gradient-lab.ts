import { TFJS_FLOOR_FRACTION, TFJS_TOLERANCE } from '../tfjs/gradcheck';
import {
  backwardJacobian,
  finiteDifferenceJacobian,
  float32Error,
  float64Error,
  type Jacobian,
  type PairError,
} from './jacobian';
import { tfjsJacobian } from './jacobian-tfjs';
import { buildLabProblem, type LabProblem, type LabSettings } from './problem';
import type { Tie } from './ties';

/**
 * Everything the gradient lab shows for one setting: the point, f(x), the Jacobian three ways
 * (ours, tfjs, finite differences), the kinked entries left out of every comparison, the
 * max-pool ties, and the error of each pair against its tolerance.
 */
export interface GradientLabResult {
  problem: LabProblem;
  x: Float64Array;
  y: Float64Array;
  ours: Jacobian;
  tfjs: Jacobian;
  numeric: Jacobian;
  kinked: Uint8Array;
  kinkedCount: number;
  ties: Tie[];
  errors: { oursVsNumeric: PairError; oursVsTfjs: PairError; tfjsVsNumeric: PairError };
}

export async function runGradientLab(settings: LabSettings): Promise<GradientLabResult> {
  const problem = buildLabProblem(settings);
  const { fn } = problem;
  const ours = backwardJacobian(fn);
  const { jacobian: numeric, kinked } = finiteDifferenceJacobian(fn);
  const tfjs = await tfjsJacobian(problem);
  return {
    problem,
    x: fn.x,
    y: fn.evaluate(fn.x),
    ours,
    tfjs,
    numeric,
    kinked,
    kinkedCount: kinked.reduce((s, k) => s + k, 0),
    ties: problem.ties,
    errors: {
      oursVsNumeric: float64Error(ours, numeric, kinked),
      oursVsTfjs: float32Error(ours, tfjs, kinked, TFJS_TOLERANCE, TFJS_FLOOR_FRACTION),
      tfjsVsNumeric: float32Error(numeric, tfjs, kinked, TFJS_TOLERANCE, TFJS_FLOOR_FRACTION),
    },
  };
}
