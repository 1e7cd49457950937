import { describe, expect, it } from 'vitest';
import { barChart } from './bar-chart';
import { confusionChart } from './confusion-chart';
import { renderHtml, renderMarkdown, tableToHtml, tableToMarkdown, type Block } from './document';
import { lineChart } from './line-chart';
import { linearScale, logScale, niceTicks } from './scale';
import { wellFormedTags } from './test-helpers';

const count = (names: string[], tag: string): number => names.filter((n) => n === tag).length;

describe('scales', () => {
  it('puts ticks at 1-2-5 steps covering the range', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(1.83, 2.17, 4)).toEqual([1.8, 1.9, 2, 2.1, 2.2]);
    expect(niceTicks(-3, 17, 4)).toEqual([-5, 0, 5, 10, 15, 20]);
    const s = linearScale([1.83, 2.17], [0, 100], 4);
    expect(s.domain).toEqual([1.8, 2.2]);
    expect(s(1.8)).toBe(0);
    expect(s(2.2)).toBeCloseTo(100, 10);
  });

  it('covers whole decades on a log scale', () => {
    const s = logScale([0.003, 250], [0, 500]);
    expect(s.ticks).toEqual([0.001, 0.01, 0.1, 1, 10, 100, 1000]);
    expect(s(1)).toBeCloseTo(250, 10);
    expect(s.format(0.001)).toBe('0.001');
    expect(s.format(0.0001)).toBe('1e-4');
    expect(s.format(100)).toBe('100');
  });
});

describe('lineChart', () => {
  it('draws one path per series, breaks lines at values it cannot draw, and labels axes and legend', () => {
    const svg = lineChart({
      title: 'Loss <train> & dev',
      x: { label: 'epoch' },
      y: { label: 'loss', log: true },
      series: [
        {
          name: 'a',
          points: [
            [1, 2],
            [2, 1],
            [3, 0.5],
          ],
        },
        {
          name: 'b',
          points: [
            [1, 3],
            [2, 0],
            [3, 1],
            [4, 0.7],
          ],
          dashed: true,
          markers: true,
        },
        { name: 'empty', points: [[1, NaN]] },
      ],
    });
    const names = wellFormedTags(svg);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="760" height="380"')).toBe(true);
    expect(svg).toContain('<title>Loss &lt;train&gt; &amp; dev</title>');
    expect(count(names, 'path')).toBe(2); // 'empty' has no drawable point
    const b = svg.match(/<path d="([^"]+)"[^>]*data-series="b"/)![1];
    expect(b.match(/M/g)).toHaveLength(2); // 0 has no place on a log axis: the line restarts after it
    expect(svg).toMatch(/data-series="b"[^>]*\/>|stroke-dasharray="6 4"/);
    expect(count(names, 'circle')).toBe(3);
    for (const label of ['epoch', 'loss', '>a<', '>b<', '>empty<', '>0.1<', '>10<']) expect(svg).toContain(label);
  });
});

describe('confusionChart', () => {
  it("draws K×K cells with their counts and each true class's recall", () => {
    const svg = confusionChart({
      title: 'dev',
      labels: ['B', 'C', 'D'],
      matrix: [
        [5, 1, 0],
        [2, 2, 0],
        [0, 0, 0],
      ],
    });
    const names = wellFormedTags(svg);
    expect(count(names, 'rect')).toBe(1 + 9 + 3); // background, cells, diagonal outlines
    expect(svg).toContain('data-cell="0,1"');
    expect(svg).toContain('>83%<'); // 5 of 6
    expect(svg).toContain('>50%<');
    expect(svg).toContain('>–<'); // a class with no examples has no recall
    // The diagonal cell of a perfectly recalled class is the darkest shade; an empty row stays white.
    expect(svg).toMatch(/data-cell="2,2"/);
    expect(svg.match(/<rect x="[^"]+" y="[^"]+" width="40" height="40" fill="rgb\(255,255,255\)"/g)?.length).toBe(
      3 + 2,
    );
  });
});

describe('barChart', () => {
  it('draws a bar per drawable value, notes the others, and marks the reference', () => {
    const svg = barChart({
      title: 'agreement',
      value: { label: 'rel', log: true },
      bars: [
        { label: 'x', value: 1e-7 },
        { label: 'y', value: 3e-3 },
        { label: 'z', value: NaN },
      ],
      reference: { value: 1e-4, label: 'bound' },
    });
    const names = wellFormedTags(svg);
    expect(count(names, 'rect')).toBe(1 + 2);
    expect(svg).toContain('>(NaN)<');
    expect(svg).toContain('>bound<');
    expect(svg).toContain('>1e-7<');
  });
});

describe('tables and documents', () => {
  const table = {
    columns: [{ header: 'net' }, { header: 'acc', align: 'right' as const }],
    rows: [
      ['a|b', '45.0%'],
      ['<c>', '50.1%'],
    ],
  };

  it('renders a table as Markdown and as HTML', () => {
    expect(tableToMarkdown(table)).toBe('| net | acc |\n|---|---:|\n| a\\|b | 45.0% |\n| <c> | 50.1% |');
    const html = tableToHtml(table, 'cap');
    expect(wellFormedTags(html)).toEqual([
      'table',
      'caption',
      'thead',
      'tr',
      'th',
      'th',
      'tbody',
      'tr',
      'td',
      'td',
      'tr',
      'td',
      'td',
    ]);
    expect(html).toContain('<td>&lt;c&gt;</td><td class="num">50.1%</td>');
  });

  it('renders a self-contained HTML page and Markdown that links PNG figures', () => {
    const svg = lineChart({
      title: 'f',
      x: { label: 'x' },
      y: { label: 'y' },
      series: [
        {
          name: 's',
          points: [
            [0, 1],
            [1, 2],
          ],
        },
      ],
    });
    const blocks: Block[] = [
      { kind: 'heading', level: 1, text: 'Report' },
      { kind: 'paragraph', text: 'Run `experiment` now' },
      { kind: 'list', items: ['one'] },
      { kind: 'table', table, caption: 'T' },
      { kind: 'figure', id: 'loss', svg, caption: 'Loss [train]' },
    ];
    const html = renderHtml('R & D', blocks);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    wellFormedTags(html.replace('<!DOCTYPE html>', '').replace(/<meta[^>]*>/g, ''));
    expect(html).toContain('<title>R &amp; D</title>');
    expect(html).toContain('<style>');
    expect(html).toContain('<figure id="loss"><svg');
    expect(html).toContain('<code>experiment</code>');
    // Nothing to fetch: no scripts, stylesheets or images by URL.
    expect(html).not.toMatch(/<script|<link|<img|src=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    const md = renderMarkdown(blocks, (id) => `figures/${id}.png`);
    expect(md).toContain('# Report\n\nRun `experiment` now\n\n- one\n\n**T**\n\n| net | acc |');
    expect(md).toContain('![Loss train](figures/loss.png)\n\n*Loss [train]*');
  });
});
