import { fitScale, type AxisOptions } from './axes';
import { el, PALETTE, svgDocument, text, textWidth } from './svg';

export interface Bar {
  label: string;
  value: number;
  color?: string;
  /** Printed at the bar's end (default: the value, 3 significant digits). */
  note?: string;
}

export interface BarChartOptions {
  title: string;
  value: AxisOptions;
  bars: Bar[];
  /** A dashed reference line (e.g. a tolerance) with its label. */
  reference?: { value: number; label: string };
}

/**
 * Horizontal bars, one per labelled value, so long labels stay readable. A value that cannot be
 * drawn (NaN, or ≤ 0 on a log axis) gets no bar and says why in its note.
 */
export function barChart(o: BarChartOptions): string {
  const row = 22,
    right = 110,
    top = 40,
    plotW = 400;
  const left = Math.max(120, 16 + Math.max(0, ...o.bars.map((b) => textWidth(b.label, 11))));
  const width = left + plotW + right;
  const height = top + o.bars.length * row + 50;
  const values = o.bars.map((b) => b.value).concat(o.reference ? [o.reference.value] : []);
  const scale = fitScale(values, { ...o.value, include: [...(o.value.include ?? []), ...(o.value.log ? [] : [0])] }, [
    left,
    left + plotW,
  ]);
  const body = [text(width / 2, 22, o.title, { 'text-anchor': 'middle', 'font-size': 14, 'font-weight': 'bold' })];
  const bottom = top + o.bars.length * row;
  for (const t of scale.ticks) {
    body.push(el('line', { x1: scale(t), x2: scale(t), y1: top, y2: bottom, stroke: '#e3e3e3' }));
    body.push(text(scale(t), bottom + 15, scale.format(t), { 'text-anchor': 'middle', 'font-size': 11, fill: '#444' }));
  }
  body.push(text(left + plotW / 2, bottom + 34, o.value.label, { 'text-anchor': 'middle', 'font-size': 12 }));
  const origin = scale.log ? left : scale(0);
  o.bars.forEach((b, i) => {
    const y = top + i * row;
    body.push(text(left - 8, y + row / 2 + 4, b.label, { 'text-anchor': 'end', 'font-size': 11 }));
    const ok = Number.isFinite(b.value) && (!scale.log || b.value > 0);
    const end = ok ? scale(b.value) : origin;
    if (ok) {
      body.push(
        el('rect', {
          x: Math.min(origin, end),
          y: y + 3,
          width: Math.max(1, Math.abs(end - origin)),
          height: row - 6,
          fill: b.color ?? PALETTE[0],
          'data-bar': b.label,
        }),
      );
    }
    const note = b.note ?? (ok ? String(Number(b.value.toPrecision(3))) : `(${b.value})`);
    body.push(text(Math.max(origin, end) + 5, y + row / 2 + 4, note, { 'font-size': 11, fill: '#333' }));
  });
  if (o.reference) {
    const x = scale(o.reference.value);
    body.push(
      el('line', {
        x1: x,
        x2: x,
        y1: top - 4,
        y2: bottom,
        stroke: '#d62728',
        'stroke-dasharray': '5 3',
        'stroke-width': 1.5,
      }),
    );
    body.push(text(x, top - 8, o.reference.label, { 'text-anchor': 'middle', 'font-size': 11, fill: '#d62728' }));
  }
  return svgDocument(width, height, o.title, body);
}
