import type { ChartOptions } from 'chart.js';
import { lineChart, type Series } from '../../../shared/report/line-chart';
import type { LineDataset } from './charts';

/**
 * A chart's data as files. CSV: one row per plotted point (long format, since series need not
 * share x values). SVG: the same series redrawn by the report's own chart code
 * (shared/report), not a screenshot, so a figure saved from the app matches the report's.
 */
export function csvField(v: string | number): string {
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRows(rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  return rows.map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}

export function lineChartCsv(datasets: readonly LineDataset[], xTitle: string): string {
  const rows: Array<Array<string | number>> = [['series', xTitle, 'y']];
  for (const ds of datasets) for (const p of ds.data) rows.push([String(ds.label ?? ''), p.x, p.y]);
  return csvRows(rows);
}

/** A confusion matrix's counts: true classes down, predicted across, and each row's total. */
export function confusionCsv(matrix: readonly number[][], classes: readonly string[]): string {
  const rows: Array<Array<string | number>> = [['true \\ predicted', ...classes, 'n']];
  matrix.forEach((row, i) => rows.push([classes[i] ?? String(i), ...row, row.reduce((a, b) => a + b, 0)]));
  return csvRows(rows);
}

/** The axes of a chart built by charts.ts's baseOptions. */
export interface ChartAxes {
  xTitle: string;
  yTitle: string;
  logY: boolean;
  /** The right-hand accuracy axis (0…1), when the chart has one. */
  accTitle?: string;
}

export function axesOf(options: ChartOptions<'line'>): ChartAxes {
  const scales = (options.scales ?? {}) as Record<
    string,
    { type?: string; title?: { text?: string | string[] } } | undefined
  >;
  const title = (id: string): string => String(scales[id]?.title?.text ?? '');
  return {
    xTitle: title('x'),
    yTitle: title('y'),
    logY: scales.y?.type === 'logarithmic',
    ...(scales.acc ? { accTitle: title('acc') } : {}),
  };
}

function toSeries(ds: LineDataset): Series {
  return {
    name: String(ds.label ?? ''),
    points: ds.data.map((p) => [p.x, p.y]),
    color: String(ds.borderColor ?? '#2563eb'),
    dashed: Array.isArray(ds.borderDash) && ds.borderDash.length > 0,
    markers: Number(ds.pointRadius ?? 0) > 0,
  };
}

const SVG_SIZE = /^<svg\b[^>]*?\bwidth="([\d.]+)"[^>]*?\bheight="([\d.]+)"/;

export interface SvgSize {
  width: number;
  height: number;
}

/** The width and height an SVG document declares on its root. */
export function svgSize(svg: string): SvgSize {
  const m = SVG_SIZE.exec(svg);
  if (!m) throw new Error('the SVG declares no width and height');
  return { width: Number(m[1]), height: Number(m[2]) };
}

/**
 * The chart's series as an SVG document. A chart with an accuracy axis becomes two panels,
 * one above the other (loss, then accuracy on 0…1), as the report draws them.
 */
export function lineChartSvg(title: string, datasets: readonly LineDataset[], axes: ChartAxes): string {
  const shown = datasets.filter((d) => d.data.length);
  const left = shown.filter((d) => d.yAxisID !== 'acc').map(toSeries);
  const main = lineChart({ title, x: { label: axes.xTitle }, y: { label: axes.yTitle, log: axes.logY }, series: left });
  if (axes.accTitle === undefined) return main;
  const acc = lineChart({
    title: `${title}: ${axes.accTitle}`,
    x: { label: axes.xTitle },
    y: { label: axes.accTitle, include: [0, 1] },
    series: shown.filter((d) => d.yAxisID === 'acc').map(toSeries),
  });
  const a = svgSize(main),
    b = svgSize(acc);
  const width = Math.max(a.width, b.width),
    height = a.height + b.height;
  const nest = (svg: string, y: number): string => svg.replace(/^<svg\b/, `<svg x="0" y="${y}"`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${nest(main, 0)}${nest(acc, a.height)}</svg>`;
}

/** A canvas as a PNG on white (a chart.js canvas is transparent where nothing is drawn). */
export function canvasPng(canvas: HTMLCanvasElement): Promise<Blob> {
  const flat = document.createElement('canvas');
  flat.width = canvas.width;
  flat.height = canvas.height;
  const ctx = flat.getContext('2d')!;
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, flat.width, flat.height);
  ctx.drawImage(canvas, 0, 0);
  return pngOf(flat);
}

function pngOf(canvas: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the canvas could not be encoded as PNG'))), 'image/png'),
  );
}

/** An SVG document drawn onto a canvas (at `scale`× its size) and encoded as PNG. */
export async function svgPng(svg: string, scale = 2): Promise<Blob> {
  const size = svgSize(svg);
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    await new Promise<void>((resolve, reject) => {
      img.onload = () => resolve();
      img.onerror = () => reject(new Error('the SVG could not be drawn'));
      img.src = url;
    });
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(size.width * scale);
    canvas.height = Math.round(size.height * scale);
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    return await pngOf(canvas);
  } finally {
    URL.revokeObjectURL(url);
  }
}
