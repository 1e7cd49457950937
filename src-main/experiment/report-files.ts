import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { buildExperimentReport, type ExperimentResults } from '../../shared/experiment/report';
import { renderHtml, renderMarkdown } from '../../shared/report/document';
import { writeFileAtomic } from '../store/atomic';

/** Renders an SVG document to PNG with the system's fonts (DejaVu Sans), at `scale` × its size. */
export function svgToPng(svg: string, scale = 2): Buffer {
  const resvg = new Resvg(svg, {
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
    fitTo: { mode: 'zoom', value: scale },
    background: '#ffffff',
  });
  return resvg.render().asPng();
}

const CSV_COLUMNS = [
  'key',
  'part',
  'label',
  'engine',
  'state',
  'params',
  'epochs',
  'epochsDone',
  'trainAccuracy',
  'devAccuracy',
  'evalAccuracy',
  'bestDevEpoch',
  'bestDevAccuracy',
  'msPerEpoch',
  'agreement',
  'runId',
  'error',
] as const;

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Writes an experiment's report into `outDir`: report.html (self-contained, figures inline as
 * SVG), report.md with figures/<id>.png (and the .svg beside each), results.json (the
 * experiment, rows, timing, and each run's spec, settings, curves and confusion matrices) and
 * results.csv (one line per run). Returns the paths written, relative to outDir.
 */
export function writeExperimentReport(outDir: string, results: ExperimentResults): string[] {
  const { title, blocks } = buildExperimentReport(results);
  const figuresDir = join(outDir, 'figures');
  mkdirSync(figuresDir, { recursive: true });
  const files: string[] = [];
  for (const b of blocks) {
    if (b.kind !== 'figure') continue;
    writeFileSync(join(figuresDir, `${b.id}.svg`), b.svg);
    writeFileSync(join(figuresDir, `${b.id}.png`), svgToPng(b.svg));
    files.push(`figures/${b.id}.svg`, `figures/${b.id}.png`);
  }
  writeFileAtomic(join(outDir, 'report.html'), renderHtml(title, blocks));
  writeFileAtomic(
    join(outDir, 'report.md'),
    renderMarkdown(blocks, (id) => `figures/${id}.png`),
  );
  const rows = results.summary.rows;
  writeFileAtomic(
    join(outDir, 'results.csv'),
    [CSV_COLUMNS.join(','), ...rows.map((r) => CSV_COLUMNS.map((c) => csvCell(r[c])).join(','))].join('\n') + '\n',
  );
  writeFileAtomic(
    join(outDir, 'results.json'),
    JSON.stringify({
      experiment: results.experiment,
      name: results.summary.name,
      dataset: results.summary.datasetName,
      rows,
      timing: results.summary.timing,
      bestKey: results.summary.bestKey,
      classes: results.classes,
      splits: results.splits,
      machine: results.machine,
      command: results.command,
      runs: results.records.map((r) => ({
        key: r.row.key,
        spec: r.spec,
        settings: r.settings,
        epochs: r.epochs,
        results: r.results,
      })),
    }),
  );
  return ['report.html', 'report.md', 'results.json', 'results.csv', ...files];
}
