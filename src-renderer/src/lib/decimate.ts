/**
 * Min/max decimation for line charts: split the x range into `buckets` equal-width bins and
 * keep, per bin, the first, minimum, maximum and last point (in x order). A line drawn through
 * what is kept covers exactly the same vertical extent per pixel column as the full data, so
 * spikes survive, and at most 4 points per bin reach the canvas: 100k steps draw like 2k.
 *
 * Input: parallel x/y arrays, x non-decreasing. Non-finite y values are dropped (or, for a
 * log axis, y ≤ 0 as well). Output: plain `{x, y}` objects, as chart.js wants with parsing off.
 */
export interface Point {
  x: number;
  y: number;
}

export interface DecimateOptions {
  /** Number of bins (about the plot's width in pixels). */
  buckets: number;
  /** Drop y ≤ 0 (for logarithmic axes). */
  positiveOnly?: boolean;
  /** Only points with x in [xMin, xMax]. */
  xMin?: number;
  xMax?: number;
}

export function decimateMinMax(xs: ArrayLike<number>, ys: ArrayLike<number>, options: DecimateOptions): Point[] {
  const n = Math.min(xs.length, ys.length);
  const keep = (i: number): boolean => {
    const y = ys[i];
    if (!Number.isFinite(y) || (options.positiveOnly && y <= 0)) return false;
    const x = xs[i];
    if (options.xMin !== undefined && x < options.xMin) return false;
    if (options.xMax !== undefined && x > options.xMax) return false;
    return true;
  };
  // Range of the kept points.
  let lo = Infinity;
  let hi = -Infinity;
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (!keep(i)) continue;
    count++;
    if (xs[i] < lo) lo = xs[i];
    if (xs[i] > hi) hi = xs[i];
  }
  const buckets = Math.max(1, Math.floor(options.buckets));
  const out: Point[] = [];
  if (count <= buckets * 4) {
    for (let i = 0; i < n; i++) if (keep(i)) out.push({ x: xs[i], y: ys[i] });
    return out;
  }
  const width = (hi - lo) / buckets || 1;
  let bucket = -1;
  let first = -1,
    last = -1,
    min = -1,
    max = -1;
  const flush = (): void => {
    if (first < 0) return;
    // The four indices, sorted and de-duplicated, keep the line's order.
    const idx = [first, min, max, last].sort((a, b) => a - b);
    let prev = -1;
    for (const i of idx) {
      if (i === prev) continue;
      out.push({ x: xs[i], y: ys[i] });
      prev = i;
    }
  };
  for (let i = 0; i < n; i++) {
    if (!keep(i)) continue;
    const b = Math.min(buckets - 1, Math.floor((xs[i] - lo) / width));
    if (b !== bucket) {
      flush();
      bucket = b;
      first = last = min = max = i;
      continue;
    }
    last = i;
    if (ys[i] < ys[min]) min = i;
    if (ys[i] > ys[max]) max = i;
  }
  flush();
  return out;
}
