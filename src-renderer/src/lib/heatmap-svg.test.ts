import { describe, expect, it } from 'vitest';
import { cellAt, divergingColor, heatmapCsv, heatmapLayout, heatmapSvg, type Heatmap } from './heatmap-svg';
import { parseSvg } from './parse-svg';

const map = (values: number[], rows: number, cols: number, kinked?: number[]): Heatmap => ({
  title: 'J',
  rows,
  cols,
  values,
  scale: 2,
  kinked,
  rowAxis: 'rows: y',
  colAxis: 'columns: x',
  rowName: (i) => `y[${i}]`,
  colName: (j) => `x[${j}]`,
});

describe('heatmapSvg', () => {
  it('colours every non-zero cell by value on the shared scale, and outlines exactly the kinked ones', () => {
    const h = map([2, 0, -1, 0.5, 0, -2], 2, 3, [0, 0, 1, 1, 0, 0]);
    const doc = parseSvg(heatmapSvg(h, 'test'));
    const { cell, left, top } = heatmapLayout(2, 3);
    const fillAt = (i: number, j: number): string | null =>
      Array.from(doc.getElementsByTagName('rect'))
        .find(
          (r) =>
            r.getAttribute('width') === String(cell) &&
            r.getAttribute('x') === String(left + j * cell) &&
            r.getAttribute('y') === String(top + i * cell),
        )
        ?.getAttribute('fill') ?? null;
    expect(fillAt(0, 0)).toBe('rgb(220,38,38)');
    expect(fillAt(1, 2)).toBe('rgb(37,99,235)');
    expect(fillAt(0, 2)).toBe(divergingColor(-1, 2));
    expect(fillAt(0, 1)).toBeNull();
    expect(Array.from(doc.querySelectorAll('[data-kink]')).map((g) => g.getAttribute('data-kink'))).toEqual([
      '0,2',
      '1,0',
    ]);
    expect(doc.documentElement.textContent).toContain('2 entries on a kink');
  });

  it('gives each map its own gradient id, so several can share a page', () => {
    expect(heatmapSvg(map([1], 1, 1), 'a')).toContain('id="a-scale"');
    expect(heatmapSvg(map([1], 1, 1), 'b')).toContain('url(#b-scale)');
  });
});

describe('divergingColor', () => {
  it('is white at 0, full red at +scale, full blue at −scale, saturating beyond', () => {
    expect(divergingColor(0, 1)).toBe('rgb(255,255,255)');
    expect(divergingColor(1, 1)).toBe('rgb(220,38,38)');
    expect(divergingColor(-5, 1)).toBe('rgb(37,99,235)');
    expect(divergingColor(0.5, 1)).toBe('rgb(238,147,147)');
  });
});

describe('heatmapCsv', () => {
  it('writes the matrix with its row and column names', () => {
    expect(heatmapCsv(map([1, 0, -0.5, 2], 2, 2))).toBe(',x[0],x[1]\ny[0],1,0\ny[1],-0.5,2\n');
  });
});

describe('cellAt', () => {
  it('inverts the layout: the centre of cell (i, j) is (i, j); outside is null', () => {
    const { cell, left, top } = heatmapLayout(4, 7);
    expect(cellAt(4, 7, left + 2.5 * cell, top + 3.5 * cell)).toEqual({ row: 3, col: 2 });
    expect(cellAt(4, 7, left - 1, top + 1)).toBeNull();
    expect(cellAt(4, 7, left + 1, top + 4 * cell + 1)).toBeNull();
  });
});
