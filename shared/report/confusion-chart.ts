import { el, svgDocument, text } from './svg';

export interface ConfusionChartOptions {
  title: string;
  /** Class names, in the matrix's order. */
  labels: string[];
  /** `[true class][predicted class]` counts. */
  matrix: number[][];
  cell?: number;
}

/** White → blue by a cell's share of its true class's examples (rows sum to 1). */
function shade(fraction: number): string {
  const f = Math.max(0, Math.min(1, fraction));
  const mix = (a: number, b: number): number => Math.round(a + (b - a) * f);
  return `rgb(${mix(255, 8)},${mix(255, 69)},${mix(255, 148)})`;
}

/** Row i's recall (its examples predicted as i) as the report prints it: a whole percent, '–' for an empty row. */
export function recallText(row: readonly number[], i: number): string {
  const total = row.reduce((a, b) => a + b, 0);
  return total ? `${Math.round((100 * (row[i] ?? 0)) / total)}%` : '–';
}

/**
 * A confusion matrix as a heatmap: rows are true classes, columns predicted classes, each cell
 * coloured by its row share and labelled with its count; per-row recall on the right.
 */
export function confusionChart(o: ConfusionChartOptions): string {
  const K = o.labels.length,
    cell = o.cell ?? 40;
  const left = 70,
    top = 60;
  const width = left + K * cell + 80,
    height = top + K * cell + 50;
  const body = [text(width / 2, 22, o.title, { 'text-anchor': 'middle', 'font-size': 14, 'font-weight': 'bold' })];
  body.push(text(left + (K * cell) / 2, 44, 'predicted class', { 'text-anchor': 'middle', 'font-size': 12 }));
  const cy = top + (K * cell) / 2;
  body.push(
    text(22, cy, 'true class', { 'text-anchor': 'middle', 'font-size': 12, transform: `rotate(-90 22 ${cy})` }),
  );
  body.push(text(left + K * cell + 40, top - 6, 'recall', { 'text-anchor': 'middle', 'font-size': 11 }));
  // The diagonal's outlines go last, so no neighbouring cell covers them.
  const diagonal: string[] = [];
  for (let i = 0; i < K; i++) {
    const row = o.matrix[i] ?? [];
    const total = row.reduce((a, b) => a + b, 0);
    body.push(text(left - 8, top + i * cell + cell / 2 + 4, o.labels[i], { 'text-anchor': 'end', 'font-size': 12 }));
    body.push(
      text(left + i * cell + cell / 2, top + K * cell + 16, o.labels[i], { 'text-anchor': 'middle', 'font-size': 12 }),
    );
    for (let j = 0; j < K; j++) {
      const count = row[j] ?? 0;
      const f = total ? count / total : 0;
      const x = left + j * cell,
        y = top + i * cell;
      body.push(
        el('rect', {
          x,
          y,
          width: cell,
          height: cell,
          fill: shade(f),
          stroke: '#d0d0d0',
          'stroke-width': 0.5,
          'data-cell': `${i},${j}`,
        }),
      );
      if (i === j)
        diagonal.push(
          el('rect', { x, y, width: cell, height: cell, fill: 'none', stroke: '#333', 'stroke-width': 1.5 }),
        );
      body.push(
        text(x + cell / 2, y + cell / 2 + 4, String(count), {
          'text-anchor': 'middle',
          'font-size': 11,
          fill: f > 0.5 ? '#fff' : '#222',
        }),
      );
    }
    const recallAt = { x: left + K * cell + 40, y: top + i * cell + cell / 2 + 4 };
    body.push(text(recallAt.x, recallAt.y, recallText(row, i), { 'text-anchor': 'middle', 'font-size': 11 }));
  }
  return svgDocument(width, height, o.title, [...body, ...diagonal]);
}
