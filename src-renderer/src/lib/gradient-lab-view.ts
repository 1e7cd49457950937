import type { GradientLabResult } from '../../../shared/lab/gradient-lab';
import type { Jacobian, PairError } from '../../../shared/lab/jacobian';
import type { LabKind } from '../../../shared/lab/problem';
import type { Heatmap } from './heatmap-svg';

/** How the gradient lab names rows, columns and pairs: pure, so component tests can check it. */

/** The name of flat element `k` of a tensor of `shape` (channels last): y[t,f] or y[u]. */
export function elementName(symbol: string, shape: readonly number[], k: number): string {
  if (shape.length === 2) return `${symbol}[${Math.floor(k / shape[1])},${k % shape[1]}]`;
  return `${symbol}[${k}]`;
}

export function symbolsOf(kind: LabKind): { output: string; input: string } {
  if (kind === 'Softmax') return { output: 'y', input: 'z' };
  if (kind === 'SoftmaxNLL') return { output: 'L', input: 'z' };
  return { output: 'y', input: 'x' };
}

export const JACOBIAN_TITLES = {
  ours: 'Our backward (float64)',
  tfjs: 'tfjs autodiff (float32, cpu)',
  numeric: 'Central differences (float64)',
} as const;
export type JacobianSource = keyof typeof JACOBIAN_TITLES;

/** One colour scale for all three maps, so equal values look equal. */
export function sharedScale(result: GradientLabResult): number {
  let s = 0;
  for (const j of [result.ours, result.tfjs, result.numeric])
    for (const v of j.values) if (Number.isFinite(v)) s = Math.max(s, Math.abs(v));
  return s || 1;
}

export function heatmapOf(result: GradientLabResult, source: JacobianSource, scale: number): Heatmap {
  const j: Jacobian = result[source];
  const { fn } = result.problem;
  const sym = symbolsOf(fn.kind);
  return {
    title: JACOBIAN_TITLES[source],
    rows: j.rows,
    cols: j.cols,
    values: j.values,
    scale,
    kinked: result.kinked,
    rowAxis: `rows: ${sym.output} (output, flattened)`,
    colAxis: `columns: ${sym.input} (input, flattened)`,
    rowName: (i) => elementName(sym.output, fn.outputShape, i),
    colName: (k) => elementName(sym.input, fn.inputShape, k),
  };
}

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? String(Number(v.toPrecision(4))) : v.toExponential(2);
}

export function pairText(e: PairError): string {
  return `max |Δ| ${formatNumber(e.maxAbs)} · max rel ${formatNumber(e.maxRel)} ${e.ok ? '≤' : '>'} ${formatNumber(e.tolerance)}`;
}
