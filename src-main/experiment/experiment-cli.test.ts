import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../cli/run-cli';
import { tempDirsRemovedAfterAll } from '../services/test-helpers';
import { pngSize } from './test-helpers';

const tmp = tempDirsRemovedAfterAll('lockstep-experiment-cli-');

describe('experiment (CLI) on the built-in demo data', () => {
  it('trains the grid on both engines, times it and writes the runs, the results and the report', () => {
    const dir = tmp();
    const grid = join(dir, 'grid.json');
    writeFileSync(
      grid,
      JSON.stringify({
        name: 'small',
        base: { model: 'fnn-10-tanh', settings: { epochs: 3 } },
        grid: { hidden: { paths: ['layers.1.units', 'layers.2.units'], values: [4, 6] }, engine: ['scratch', 'tfjs'] },
        timing: { batchSizes: [1, 10], steps: 3, where: { hidden: ['4'] } },
      }),
    );
    const out = join(dir, 'out');
    const r = cli('experiment', '--grid', grid, '--out', out, '--epochs', '1', '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/experiment small: 4 runs on demo/);
    expect(r.stderr).toMatch(/\[4\/4\] /);
    const s = r.json;
    expect(s.state).toBe('finished');
    expect(s.rows.map((x: any) => `${x.label} ${x.engine} ${x.state} ${x.epochsDone}`)).toEqual([
      'main hidden=4 scratch finished 1',
      'main hidden=4 tfjs-cpu finished 1',
      'main hidden=6 scratch finished 1',
      'main hidden=6 tfjs-cpu finished 1',
    ]);
    // 1120·h + h + h·h + h + 9h + 9 weights; both engines start from the same weights on the same batches.
    expect(s.rows.map((x: any) => x.params)).toEqual([
      4 * 1120 + 4 + 16 + 4 + 36 + 9,
      4 * 1120 + 4 + 16 + 4 + 36 + 9,
      6 * 1120 + 6 + 36 + 6 + 54 + 9,
      6 * 1120 + 6 + 36 + 6 + 54 + 9,
    ]);
    for (const row of s.rows) {
      expect(row.devAccuracy).toBeGreaterThanOrEqual(0);
      expect(row.agreement).toBeLessThan(1e-4);
      expect(row.bestDevEpoch).toBe(1);
      expect(existsSync(join(out, 'runs', row.key, 'run.json'))).toBe(true);
      expect(existsSync(join(out, 'runs', row.key, 'checkpoint', 'checkpoint.json'))).toBe(true);
    }
    expect(s.rows[0].devAccuracy).toBeCloseTo(s.rows[1].devAccuracy, 2);
    const timed = s.timing.map((p: any) => `${p.engine}@${p.batch}`);
    expect(timed).toEqual(['scratch@1', 'scratch@10', 'tfjs-cpu@1', 'tfjs-cpu@10']);
    expect(s.bestKey).toBe(s.rows.reduce((a: any, b: any) => (b.devAccuracy > a.devAccuracy ? b : a)).key);

    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<h1>Lockstep experiment: small</h1>');
    expect(html).toContain('<caption>Accuracy, speed and agreement of every run</caption>');
    expect(html.match(/<figure id="[^"]+"><svg/g)?.length).toBe(8);
    expect(html).not.toMatch(/<script|<link|<img/);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    const pngs = [...md.matchAll(/\]\((figures\/[^)]+\.png)\)/g)].map((m) => m[1]);
    expect(pngs.sort()).toEqual(
      [
        'accuracy',
        'agreement',
        'agreement-steps',
        'confusion-dev',
        'confusion-train',
        'dev-main',
        'loss-main',
        'timing',
      ]
        .map((f) => `figures/${f}.png`)
        .sort(),
    );
    for (const p of pngs) {
      const size = pngSize(readFileSync(join(out, p)));
      const svg = readFileSync(join(out, p.replace(/\.png$/, '.svg')), 'utf8');
      const [, w, h] = svg.match(/^<svg [^>]*width="(\d+)" height="(\d+)"/)!;
      expect(size).toEqual({ width: 2 * Number(w), height: 2 * Number(h) });
    }
    const csv = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(5);
    expect(csv[0].startsWith('key,part,label,engine,state,params')).toBe(true);
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(json.runs).toHaveLength(4);
    expect(json.rows).toEqual(s.rows);
    expect(json.timing).toEqual(s.timing);
    expect(json.runs[0].results.dev.confusion).toHaveLength(9);
    const saved = JSON.parse(readFileSync(join(out, 'experiment.json'), 'utf8'));
    expect(saved.state).toBe('finished');
    expect(saved.reportFiles).toEqual(
      expect.arrayContaining([
        'report.html',
        'report.md',
        'results.json',
        'results.csv',
        'figures/timing.png',
        'figures/timing.svg',
      ]),
    );
  });

  it('names the file and field of a bad grid file, and a grid that is neither built in nor a file', () => {
    const dir = tmp();
    const grid = join(dir, 'bad.json');
    writeFileSync(grid, JSON.stringify({ name: 'x', base: { model: 'tdnn' }, grid: { lr: 'fast' } }));
    const r = cli('experiment', '--grid', grid, '--out', join(dir, 'out'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^lockstep: ${grid.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}, field grid\\.lr: `),
    );
    const n = cli('experiment', '--grid', 'nope', '--out', join(dir, 'out'));
    expect(n.status).toBe(1);
    expect(n.stderr).toContain('--grid nope: neither a built-in experiment (course) nor an existing file');
  });
});
