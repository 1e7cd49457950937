import { drawAxes, drawLegend, fitScale, type AxisOptions } from './axes';
import { el, PALETTE, svgDocument, text, textWidth } from './svg';

export interface Series {
  name: string;
  points: Array<[number, number]>;
  color?: string;
  dashed?: boolean;
  /** Dots at the points (for short series such as batch sizes). */
  markers?: boolean;
}

export interface LineChartOptions {
  title: string;
  x: AxisOptions;
  y: AxisOptions;
  series: Series[];
  width?: number;
  height?: number;
  /** Legend entries; default one per series. */
  legend?: Array<{ name: string; color: string; dashed?: boolean }>;
}

/**
 * A line chart as an SVG document: one path per series (points whose value cannot be drawn,
 * such as NaN or ≤ 0 on a log axis, break the line), axes with ticks, a legend on the right.
 */
export function lineChart(o: LineChartOptions): string {
  const legend =
    o.legend ??
    o.series.map((s, i) => ({ name: s.name, color: s.color ?? PALETTE[i % PALETTE.length], dashed: s.dashed }));
  // The plot keeps its size (`width` wide with a 230-px legend); a legend with longer names widens the picture.
  const legendWidth = Math.max(230, 50 + Math.max(0, ...legend.map((e) => textWidth(e.name, 11))));
  const plotWidth = (o.width ?? 760) - 70 - 230;
  const width = 70 + plotWidth + legendWidth,
    height = o.height ?? 380;
  const frame = { left: 70, top: 36, width: plotWidth, height: height - 36 - 52 };
  const drawable = (v: number, log?: boolean): boolean => Number.isFinite(v) && (!log || v > 0);
  const xs = o.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = o.series.flatMap((s) => s.points.map((p) => p[1]));
  const x = fitScale(xs, o.x, [frame.left, frame.left + frame.width]);
  const y = fitScale(ys, o.y, [frame.top + frame.height, frame.top]);
  const body = [
    text(frame.left + frame.width / 2, 22, o.title, {
      'text-anchor': 'middle',
      'font-size': 14,
      'font-weight': 'bold',
    }),
  ];
  body.push(...drawAxes(frame, x, y, o.x.label, o.y.label));
  o.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    let d = '';
    let pen = false;
    const dots: string[] = [];
    for (const [px, py] of s.points) {
      if (!drawable(px, o.x.log) || !drawable(py, o.y.log)) {
        pen = false;
        continue;
      }
      const X = x(px),
        Y = y(py);
      d += `${pen ? 'L' : 'M'}${X.toFixed(1)},${Y.toFixed(1)}`;
      pen = true;
      if (s.markers) dots.push(el('circle', { cx: X, cy: Y, r: 3, fill: color }));
    }
    if (d)
      body.push(
        el('path', {
          d,
          fill: 'none',
          stroke: color,
          'stroke-width': 1.8,
          'stroke-dasharray': s.dashed ? '6 4' : undefined,
          'data-series': s.name,
        }),
      );
    body.push(...dots);
  });
  body.push(...drawLegend(frame.left + frame.width + 16, frame.top + 8, legend));
  return svgDocument(width, Math.max(height, frame.top + 8 + legend.length * 18 + 10), o.title, body);
}
