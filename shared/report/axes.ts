import { linearScale, logScale, type Scale } from './scale';
import { el, text } from './svg';

/** The plotting area of a chart inside its margins. */
export interface Frame {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface AxisOptions {
  label: string;
  log?: boolean;
  /** Force the range to include these values (e.g. 0, or 1 for accuracies). */
  include?: number[];
}

/** A scale fitted to the values (non-finite ones, and ≤ 0 ones on a log axis, are ignored). */
export function fitScale(values: number[], axis: AxisOptions, range: [number, number]): Scale {
  const usable = [...values, ...(axis.include ?? [])].filter((v) => Number.isFinite(v) && (!axis.log || v > 0));
  const lo = usable.length ? Math.min(...usable) : axis.log ? 1 : 0;
  const hi = usable.length ? Math.max(...usable) : axis.log ? 10 : 1;
  return axis.log ? logScale([lo, hi], range) : linearScale([lo, hi], range);
}

/** Grid lines, tick labels and axis titles for an x and a y scale over `frame`. */
export function drawAxes(frame: Frame, x: Scale, y: Scale, xLabel: string, yLabel: string): string[] {
  const out: string[] = [];
  const bottom = frame.top + frame.height,
    right = frame.left + frame.width;
  for (const t of y.ticks) {
    const py = y(t);
    out.push(el('line', { x1: frame.left, x2: right, y1: py, y2: py, stroke: '#e3e3e3', 'stroke-width': 1 }));
    out.push(text(frame.left - 6, py + 4, y.format(t), { 'text-anchor': 'end', 'font-size': 11, fill: '#444' }));
  }
  for (const t of x.ticks) {
    const px = x(t);
    out.push(el('line', { x1: px, x2: px, y1: frame.top, y2: bottom, stroke: '#eeeeee', 'stroke-width': 1 }));
    out.push(text(px, bottom + 16, x.format(t), { 'text-anchor': 'middle', 'font-size': 11, fill: '#444' }));
  }
  out.push(
    el('rect', {
      x: frame.left,
      y: frame.top,
      width: frame.width,
      height: frame.height,
      fill: 'none',
      stroke: '#888',
      'stroke-width': 1,
    }),
  );
  out.push(text(frame.left + frame.width / 2, bottom + 34, xLabel, { 'text-anchor': 'middle', 'font-size': 12 }));
  const cy = frame.top + frame.height / 2;
  out.push(
    text(frame.left - 48, cy, yLabel, {
      'text-anchor': 'middle',
      'font-size': 12,
      transform: `rotate(-90 ${frame.left - 48} ${cy})`,
    }),
  );
  return out;
}

export interface LegendEntry {
  name: string;
  color: string;
  dashed?: boolean;
}

/** A legend column starting at (x, y): a line sample and the series name per entry. */
export function drawLegend(x: number, y: number, entries: LegendEntry[]): string[] {
  return entries.flatMap((e, i) => {
    const cy = y + i * 18;
    return [
      el('line', {
        x1: x,
        x2: x + 22,
        y1: cy,
        y2: cy,
        stroke: e.color,
        'stroke-width': 2.5,
        'stroke-dasharray': e.dashed ? '5 3' : undefined,
      }),
      text(x + 28, cy + 4, e.name, { 'font-size': 11 }),
    ];
  });
}
