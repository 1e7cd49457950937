import { escapeXml } from './svg';

/**
 * A report as a list of blocks, rendered two ways: one self-contained HTML page (inline CSS,
 * figures as inline SVG, no network) and Markdown whose figures are PNG files beside it.
 */
export interface Table {
  columns: Array<{ header: string; align?: 'left' | 'right' }>;
  rows: string[][];
}

export type Block =
  | { kind: 'heading'; level: 1 | 2 | 3; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'list'; items: string[] }
  | { kind: 'table'; table: Table; caption?: string }
  | { kind: 'figure'; id: string; svg: string; caption: string };

const mdCell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function tableToMarkdown(t: Table): string {
  const head = `| ${t.columns.map((c) => mdCell(c.header)).join(' | ')} |`;
  const rule = `|${t.columns.map((c) => (c.align === 'right' ? '---:' : '---')).join('|')}|`;
  return [head, rule, ...t.rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`)].join('\n');
}

export function tableToHtml(t: Table, caption?: string): string {
  const cls = (c: { align?: string }): string => (c.align === 'right' ? ' class="num"' : '');
  const head = t.columns.map((c) => `<th${cls(c)}>${escapeXml(c.header)}</th>`).join('');
  const rows = t.rows
    .map((r) => `<tr>${r.map((v, i) => `<td${cls(t.columns[i] ?? {})}>${escapeXml(v)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table>${caption ? `<caption>${escapeXml(caption)}</caption>` : ''}<thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

/** `code` spans in paragraphs and list items, the only inline markup. */
function inlineHtml(s: string): string {
  return escapeXml(s).replace(/`([^`]+)`/g, '<code>$1</code>');
}

const CSS = `
body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.7em;border-bottom:2px solid #ddd;padding-bottom:.2em}h2{font-size:1.35em;margin-top:2em;border-bottom:1px solid #eee}h3{font-size:1.1em}
table{border-collapse:collapse;margin:.8em 0 1.4em;font-size:.88em}caption{text-align:left;font-weight:bold;padding:.3em 0}
th,td{border:1px solid #ccc;padding:.25em .55em;text-align:left}th{background:#f3f3f3}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tbody tr:nth-child(even){background:#fafafa}figure{margin:1em 0 2em}figcaption{font-size:.9em;color:#555}svg{max-width:100%;height:auto}
code{background:#f4f4f4;padding:0 .25em;border-radius:3px}
`;

export function renderHtml(title: string, blocks: Block[]): string {
  const body = blocks.map((b) => {
    switch (b.kind) {
      case 'heading':
        return `<h${b.level}>${escapeXml(b.text)}</h${b.level}>`;
      case 'paragraph':
        return `<p>${inlineHtml(b.text)}</p>`;
      case 'list':
        return `<ul>${b.items.map((i) => `<li>${inlineHtml(i)}</li>`).join('')}</ul>`;
      case 'table':
        return tableToHtml(b.table, b.caption);
      case 'figure':
        return `<figure id="${escapeXml(b.id)}">${b.svg}<figcaption>${inlineHtml(b.caption)}</figcaption></figure>`;
    }
  });
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeXml(title)}</title><style>${CSS}</style></head>\n<body>\n${body.join('\n')}\n</body></html>\n`;
}

/** `figurePath(id)` is where the figure's PNG is, relative to the Markdown file. */
export function renderMarkdown(blocks: Block[], figurePath: (id: string) => string): string {
  const parts = blocks.map((b) => {
    switch (b.kind) {
      case 'heading':
        return `${'#'.repeat(b.level)} ${b.text}`;
      case 'paragraph':
        return b.text;
      case 'list':
        return b.items.map((i) => `- ${i}`).join('\n');
      case 'table':
        return (b.caption ? `**${b.caption}**\n\n` : '') + tableToMarkdown(b.table);
      case 'figure':
        return `![${b.caption.replace(/[[\]]/g, '')}](${figurePath(b.id)})\n\n*${b.caption}*`;
    }
  });
  return parts.join('\n\n') + '\n';
}
