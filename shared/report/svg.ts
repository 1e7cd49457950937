/**
 * A few helpers to write SVG as text: the report's figures are strings, inlined into the
 * HTML report and rasterised to PNG in Node (resvg), so nothing here touches a DOM.
 */
export const FONT_FAMILY = 'DejaVu Sans, Arial, Helvetica, sans-serif';

/** The ten colours of the report's series (Tableau 10), reused in order. */
export const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

type Attrs = Record<string, string | number | undefined>;

/** One element; undefined attributes are left out, numbers rounded to 2 decimals. */
export function el(name: string, attrs: Attrs, children: string | string[] = ''): string {
  const a = Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === 'number' ? round2(v) : escapeXml(v as string)}"`)
    .join('');
  const body = Array.isArray(children) ? children.join('') : children;
  return body ? `<${name}${a}>${body}</${name}>` : `<${name}${a}/>`;
}

export function text(x: number, y: number, content: string, attrs: Attrs = {}): string {
  return el('text', { x, y, 'font-size': 12, fill: '#222', ...attrs }, escapeXml(content));
}

/** A generous estimate of a label's width (DejaVu Sans averages about 0.6 em per character), for margins. */
export function textWidth(content: string, fontSize: number): number {
  return Math.ceil(content.length * fontSize * 0.62);
}

export function round2(v: number): string {
  return String(Math.round(v * 100) / 100);
}

/** A standalone SVG document on a white background, `title` as its accessible name. */
export function svgDocument(width: number, height: number, title: string, body: string[]): string {
  return el(
    'svg',
    {
      xmlns: 'http://www.w3.org/2000/svg',
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      'font-family': FONT_FAMILY,
      role: 'img',
    },
    [el('title', {}, escapeXml(title)), el('rect', { x: 0, y: 0, width, height, fill: '#ffffff' }), ...body],
  );
}
