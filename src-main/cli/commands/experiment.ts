import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LockstepError } from '../../../shared/errors';
import { BUILTIN_EXPERIMENTS } from '../../../shared/experiment/course';
import { parseExperiment } from '../../../shared/experiment/grid';
import type { ExperimentRow, ExperimentSpec } from '../../../shared/protocol';
import { DEMO_ID } from '../../services/dataset-library';
import { AppServices } from '../../services/app-services';
import { intFlag, required } from '../args';
import { pct, type Command } from '../command';

function readGrid(grid: string): ExperimentSpec {
  const builtin = BUILTIN_EXPERIMENTS.get(grid);
  if (builtin) return builtin;
  if (!existsSync(grid))
    throw new LockstepError(
      `--grid ${grid}: neither a built-in experiment (${[...BUILTIN_EXPERIMENTS.keys()].join(', ')}) nor an existing file`,
    );
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(grid, 'utf8').replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new LockstepError(`not valid JSON (${(e as Error).message})`, { file: grid });
  }
  return parseExperiment(raw, grid);
}

function rowLine(r: ExperimentRow): string {
  const parts = [`${r.label} · ${r.engine}: ${r.state}`];
  if (r.state === 'finished' || r.state === 'stopped') {
    parts.push(
      `train ${pct(r.trainAccuracy)}, dev ${pct(r.devAccuracy)}${r.evalAccuracy !== null ? `, eval ${pct(r.evalAccuracy)}` : ''}, ${r.msPerEpoch?.toFixed(0) ?? '–'} ms/epoch`,
    );
  }
  if (r.error) parts.push(r.error);
  return parts.join(' ');
}

export const experiment: Command = {
  summary: 'train a grid of networks (the course assignment, or a grid file) and write a report',
  usage:
    'experiment --grid course|FILE.json [--data PATH] --out DIR [--epochs N (every run; quick runs)]\n' +
    '      writes DIR/report.html, report.md, figures/*.png|svg, results.json, results.csv, runs/<run>/',
  flags: { grid: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' }, epochs: { type: 'string' } },
  async run(flags) {
    const f = flags as Record<string, string | undefined>;
    const spec = readGrid(required('grid', f.grid));
    const outDir = resolve(required('out', f.out));
    const epochs = intFlag('epochs', f.epochs, 1);
    // The app's services in a throwaway user-data folder: the runs go through the same queue and
    // workers as in the app, as many at once as the machine has cores.
    const userData = mkdtempSync(join(tmpdir(), 'lockstep-experiment-'));
    const services = new AppServices(userData, { training: { maxConcurrent: Math.max(1, availableParallelism()) } });
    try {
      const datasetId = f.data === undefined ? DEMO_ID : (await services.datasets.importPath(f.data)).id;
      const command = [
        'experiment',
        '--grid',
        f.grid,
        ...(f.data ? ['--data', f.data] : []),
        '--out',
        f.out,
        ...(f.epochs ? ['--epochs', f.epochs] : []),
      ].join(' ');
      const ended = new Set<string>();
      let total = 0;
      services.on('experiment.row', ({ row }) => {
        if (!ended.has(row.key) && ['finished', 'failed', 'stopped', 'interrupted'].includes(row.state)) {
          ended.add(row.key);
          process.stderr.write(`[${ended.size}/${total}] ${rowLine(row)}\n`);
        }
      });
      services.on('experiment.state', (s) => {
        if (s.state === 'timing' && s.timing.length === 0)
          process.stderr.write('timing one iteration vs batch size…\n');
        if (s.state === 'reporting') process.stderr.write('writing the report…\n');
      });
      const summary = services.experiments.start({ datasetId, experiment: spec, epochs }, { outDir, command });
      total = summary.rows.length;
      process.stderr.write(
        `experiment ${summary.name}: ${summary.rows.length} runs on ${summary.datasetName}, ${availableParallelism()} at a time → ${outDir}\n`,
      );
      const final = await services.experiments.finished(summary.id);
      const best = final.rows.find((r) => r.key === final.bestKey) ?? null;
      const text = [
        ...final.rows.map(rowLine),
        ...(final.timing.length
          ? [
              '',
              'ms per iteration vs batch size:',
              ...final.timing.map(
                (p) => `  ${p.label} · ${p.engine}, batch ${p.batch}: ${p.msPerIteration.toPrecision(3)} ms`,
              ),
            ]
          : []),
        '',
        best
          ? `best by dev accuracy: ${best.label} · ${best.engine} (${pct(best.devAccuracy ?? best.trainAccuracy)})`
          : 'best: none (no run finished)',
        `report: ${join(outDir, 'report.html')} and ${join(outDir, 'report.md')}`,
        ...(final.error ? [`note: ${final.error}`] : []),
      ].join('\n');
      const failed = final.rows.filter((r) => r.state === 'failed');
      return {
        json: { ...final, report: { html: join(outDir, 'report.html'), markdown: join(outDir, 'report.md') } },
        text,
        exitCode: failed.length || final.state !== 'finished' ? 1 : 0,
        reason: failed.length
          ? `${failed.length} of ${final.rows.length} runs failed`
          : final.state !== 'finished'
            ? `the experiment ${final.state}`
            : undefined,
      };
    } finally {
      await services.close();
      rmSync(userData, { recursive: true, force: true });
    }
  },
};
