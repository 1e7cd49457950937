import { describe, expect, it } from 'vitest';
import { lineChart } from '../../shared/report/line-chart';
import { svgDocument, text } from '../../shared/report/svg';
import { svgToPng } from './report-files';
import { pngSize } from './test-helpers';

describe('svgToPng', () => {
  it('rasterises a chart at twice its size', () => {
    const svg = lineChart({
      title: 't',
      x: { label: 'x' },
      y: { label: 'y' },
      series: [
        {
          name: 's',
          points: [
            [0, 0],
            [1, 1],
          ],
        },
      ],
      width: 500,
      height: 300,
    });
    expect(pngSize(svgToPng(svg))).toEqual({ width: 1000, height: 600 });
  });

  it('draws text with the system fonts (a text-only picture is not blank)', () => {
    const blank = svgToPng(svgDocument(300, 60, 'blank', []));
    const words = svgToPng(svgDocument(300, 60, 'words', [text(10, 40, 'Lockstep 0.123 ΔL/L', { 'font-size': 24 })]));
    expect(pngSize(words)).toEqual(pngSize(blank));
    // Glyphs add detail that compresses far worse than a white field.
    expect(words.byteLength).toBeGreaterThan(blank.byteLength + 500);
  });
});
