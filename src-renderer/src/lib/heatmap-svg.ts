import { escapeXml } from '../../../shared/report/svg';
import { csvRows, type SvgSize } from './chart-export';

/**
 * A matrix heatmap as one SVG string: what the gradient lab shows on screen and what its
 * "Save SVG" writes, so the two cannot differ. Diverging colours (blue < 0 < red, white at 0)
 * on a shared ±scale; entries on a kink are outlined and struck through, never hidden.
 */
export interface Heatmap {
  title: string;
  rows: number;
  cols: number;
  /** Row-major, rows × cols. */
  values: ArrayLike<number>;
  /** ±scale maps to full blue / red. */
  scale: number;
  /** 1 where the entry sits on a kink. */
  kinked?: ArrayLike<number>;
  rowAxis: string;
  colAxis: string;
  /** Names of row i and column j for the CSV (y[t,f], x[t,c]). */
  rowName(i: number): string;
  colName(j: number): string;
}

export interface HeatmapLayout extends SvgSize {
  cell: number;
  left: number;
  top: number;
}

const LEFT = 40,
  TOP = 34,
  BOTTOM = 52,
  RIGHT = 10;
/** Wide enough for the title and the colour bar's labels, however few columns. */
const MIN_WIDTH = 280;

export function heatmapLayout(rows: number, cols: number, maxPlot = 360): HeatmapLayout {
  const cell = Math.max(3, Math.min(30, Math.floor(maxPlot / cols), Math.floor(maxPlot / rows)));
  return {
    cell,
    left: LEFT,
    top: TOP,
    width: Math.max(MIN_WIDTH, LEFT + cols * cell + RIGHT),
    height: TOP + rows * cell + BOTTOM,
  };
}

/** White at 0, toward #dc2626 for positive and #2563eb for negative values, by |v| / scale. */
export function divergingColor(v: number, scale: number): string {
  if (!Number.isFinite(v)) return '#111827';
  const t = Math.min(1, Math.abs(v) / (scale || 1));
  const [r, g, b] = v >= 0 ? [220, 38, 38] : [37, 99, 235];
  const mix = (c: number): number => Math.round(255 + (c - 255) * t);
  return `rgb(${mix(r)},${mix(g)},${mix(b)})`;
}

function labelStep(cell: number): number {
  return Math.max(1, Math.ceil(14 / cell));
}

export function heatmapSvg(h: Heatmap, id: string): string {
  const L = heatmapLayout(h.rows, h.cols);
  const { cell, left, top } = L;
  const plotW = h.cols * cell,
    plotH = h.rows * cell;
  let kinks = 0;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${L.width}" height="${L.height}" viewBox="0 0 ${L.width} ${L.height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="9" data-rows="${h.rows}" data-cols="${h.cols}">`,
  );
  out.push(`<rect width="${L.width}" height="${L.height}" fill="#ffffff"/>`);
  out.push(`<text x="${left}" y="11" font-size="11" font-weight="600" fill="#1d2330">${escapeXml(h.title)}</text>`);
  out.push(`<text x="${left}" y="23" fill="#667085">${escapeXml(h.colAxis)} →</text>`);
  out.push(
    `<text transform="translate(10 ${top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#667085">${escapeXml(h.rowAxis)} →</text>`,
  );
  out.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="#ffffff" stroke="#c5cbd6"/>`);
  const marks: string[] = [];
  for (let i = 0; i < h.rows; i++) {
    for (let j = 0; j < h.cols; j++) {
      const k = i * h.cols + j,
        v = h.values[k],
        x = left + j * cell,
        y = top + i * cell;
      if (v !== 0)
        out.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${divergingColor(v, h.scale)}"/>`);
      if (h.kinked?.[k]) {
        kinks++;
        marks.push(
          `<g data-kink="${i},${j}"><rect x="${x + 0.75}" y="${y + 0.75}" width="${cell - 1.5}" height="${cell - 1.5}" fill="none" stroke="#111827" stroke-width="1.5"/><line x1="${x}" y1="${y + cell}" x2="${x + cell}" y2="${y}" stroke="#111827" stroke-width="1"/></g>`,
        );
      }
    }
  }
  out.push(...marks);
  const step = labelStep(cell);
  for (let j = 0; j < h.cols; j += step)
    out.push(`<text x="${left + (j + 0.5) * cell}" y="${top - 3}" text-anchor="middle" fill="#5b6475">${j}</text>`);
  for (let i = 0; i < h.rows; i += step)
    out.push(`<text x="${left - 3}" y="${top + (i + 0.5) * cell + 3}" text-anchor="end" fill="#5b6475">${i}</text>`);
  // The colour bar: −scale … 0 … +scale.
  const barY = top + plotH + 12,
    barW = 160,
    gid = `${id}-scale`;
  out.push(
    `<defs><linearGradient id="${gid}"><stop offset="0" stop-color="${divergingColor(-1, 1)}"/><stop offset="0.5" stop-color="#ffffff"/><stop offset="1" stop-color="${divergingColor(1, 1)}"/></linearGradient></defs>`,
  );
  out.push(
    `<rect x="${left}" y="${barY}" width="${barW}" height="7" fill="url(#${gid})" stroke="#c5cbd6" stroke-width="0.5"/>`,
  );
  out.push(`<text x="${left}" y="${barY + 18}" fill="#5b6475">${formatScale(-h.scale)}</text>`);
  out.push(`<text x="${left + barW}" y="${barY + 18}" text-anchor="end" fill="#5b6475">${formatScale(h.scale)}</text>`);
  if (kinks)
    out.push(
      `<text x="${left}" y="${barY + 32}" fill="#111827">${kinks} entries on a kink (outlined, struck through)</text>`,
    );
  out.push('</svg>');
  return out.join('');
}

function formatScale(v: number): string {
  return Number(v.toPrecision(3)).toString();
}

/** The matrix as CSV: a header of column names, then one row per output with its name. */
export function heatmapCsv(h: Heatmap): string {
  const rows: Array<Array<string | number>> = [['', ...Array.from({ length: h.cols }, (_, j) => h.colName(j))]];
  for (let i = 0; i < h.rows; i++)
    rows.push([h.rowName(i), ...Array.from({ length: h.cols }, (_, j) => h.values[i * h.cols + j])]);
  return csvRows(rows);
}

/** The cell under a point of the SVG (its own pixel coordinates), or null outside the matrix. */
export function cellAt(rows: number, cols: number, px: number, py: number): { row: number; col: number } | null {
  const { cell, left, top } = heatmapLayout(rows, cols);
  const col = Math.floor((px - left) / cell),
    row = Math.floor((py - top) / cell);
  return row >= 0 && row < rows && col >= 0 && col < cols ? { row, col } : null;
}
