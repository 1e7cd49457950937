import { describe, expect, it } from 'vitest';
import { axesOf, confusionCsv, csvField, lineChartCsv, lineChartSvg, svgSize } from './chart-export';
import { baseOptions, type LineDataset } from './charts';
import { parseSvg } from './parse-svg';

const series = (label: string, pts: Array<[number, number]>, extra: Partial<LineDataset> = {}): LineDataset => ({
  label,
  data: pts.map(([x, y]) => ({ x, y })),
  borderColor: '#2563eb',
  ...extra,
});

describe('CSV', () => {
  it('quotes fields holding commas, quotes or newlines, and leaves non-finite numbers empty', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a, b')).toBe('"a, b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField(0.125)).toBe('0.125');
    expect(csvField(Number.NaN)).toBe('');
  });

  it('writes one row per plotted point, named by its series, under the x axis title', () => {
    const csv = lineChartCsv(
      [
        series('scratch (raw)', [
          [1, 2.5],
          [2, 2],
        ]),
        series('tfjs, dev', [[1, 0.5]]),
      ],
      'step',
    );
    expect(csv).toBe('series,step,y\nscratch (raw),1,2.5\nscratch (raw),2,2\n"tfjs, dev",1,0.5\n');
  });
});

describe('CSV of a confusion matrix', () => {
  it('puts true classes down, predicted across, and row totals', () => {
    expect(
      confusionCsv(
        [
          [5, 1],
          [0, 4],
        ],
        ['B', 'C'],
      ),
    ).toBe('true \\ predicted,B,C,n\nB,5,1,6\nC,0,4,4\n');
  });
});

describe("SVG of a line chart (drawn by the report's chart code)", () => {
  it('draws every series with data as a path through its points, with its colour and dash', () => {
    const svg = lineChartSvg(
      'Loss',
      [
        series('a', [
          [0, 1],
          [10, 3],
          [20, 2],
        ]),
        series(
          'b',
          [
            [0, 2],
            [20, 1],
          ],
          { borderColor: '#dc2626', borderDash: [6, 4] },
        ),
        series('empty', []),
      ],
      axesOf(baseOptions({ xTitle: 'step', yTitle: 'loss' })),
    );
    const doc = parseSvg(svg);
    const paths = Array.from(doc.querySelectorAll('path[data-series]'));
    expect(paths.map((p) => p.getAttribute('data-series'))).toEqual(['a', 'b']);
    expect(paths[0].getAttribute('d')!.match(/[ML]/g)).toHaveLength(3);
    expect(paths[1].getAttribute('stroke')).toBe('#dc2626');
    expect(paths[1].getAttribute('stroke-dasharray')).toBeTruthy();
    const texts = Array.from(doc.getElementsByTagName('text')).map((t) => t.textContent);
    expect(texts).toEqual(expect.arrayContaining(['Loss', 'step', 'loss', 'a', 'b']));
    expect(svgSize(svg)).toEqual({
      width: Number(doc.documentElement.getAttribute('width')),
      height: Number(doc.documentElement.getAttribute('height')),
    });
  });

  it('on a log axis leaves out y ≤ 0, keeping the other points', () => {
    const doc = parseSvg(
      lineChartSvg(
        'd',
        [
          series('|Δ loss|', [
            [1, 1e-6],
            [2, 0],
            [3, 1e-3],
          ]),
        ],
        axesOf(baseOptions({ xTitle: 'step', yTitle: 'diff', logY: true })),
      ),
    );
    expect(doc.querySelector('path[data-series]')!.getAttribute('d')!.match(/[ML]/g)).toHaveLength(2);
    expect(Array.from(doc.getElementsByTagName('text')).map((t) => t.textContent)).toEqual(
      expect.arrayContaining(['1e-6', '1e-5', '1e-4']),
    );
  });

  it('a chart with an accuracy axis becomes two panels: loss above, accuracy (0…1) below', () => {
    const svg = lineChartSvg(
      'Per epoch',
      [
        series('dev loss', [
          [1, 2],
          [2, 1.5],
        ]),
        series(
          'dev acc',
          [
            [1, 0.4],
            [2, 0.6],
          ],
          { yAxisID: 'acc' },
        ),
      ],
      axesOf(baseOptions({ xTitle: 'epoch', yTitle: 'loss', accAxis: true })),
    );
    const doc = parseSvg(svg);
    const panels = Array.from(doc.documentElement.children).filter((c) => c.tagName === 'svg');
    expect(panels).toHaveLength(2);
    expect(panels[0].querySelector('path[data-series]')!.getAttribute('data-series')).toBe('dev loss');
    expect(panels[1].querySelector('path[data-series]')!.getAttribute('data-series')).toBe('dev acc');
    expect(Number(panels[1].getAttribute('y'))).toBe(svgSize(svg).height / 2);
    expect(Array.from(panels[1].getElementsByTagName('text')).map((t) => t.textContent)).toEqual(
      expect.arrayContaining(['accuracy', '0', '1']),
    );
  });
});
