import { describe, expect, it } from 'vitest';
import { COURSE_EXPERIMENT } from '../../../shared/experiment/course';
import {
  checkExperiment,
  checkExperimentText,
  EXAMPLE_GRID,
  experimentJson,
  lineColumn,
  MAX_PROBLEMS,
  type GridCheck,
} from './experiments-grid';

const demo = { name: 'demo', channels: 16, classes: ['B', 'C', 'D', 'E', 'G', 'P', 'T', 'V', 'Z'] };

function problems(check: GridCheck): string[] {
  if (check.ok) throw new Error('expected problems, the experiment was accepted');
  return check.problems.map((p) => p.message);
}

describe('checkExperimentText', () => {
  it('accepts the example grid: 2 learning rates × 2 engines', () => {
    const check = checkExperimentText(experimentJson(EXAMPLE_GRID), { dataset: demo });
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    expect(check.preview).toEqual({
      runs: 4,
      parts: [{ name: 'main', runs: 4 }],
      engines: ['scratch', 'tfjs-wasm'],
      timingPoints: 0,
      epochs: [3],
    });
  });

  it('says where the JSON syntax breaks, by line and column, with the offset for the caret', () => {
    const text = '{\n  "name": "x",\n  "grid": { "lr": [0.1, ] }\n}';
    const check = checkExperimentText(text);
    expect(check.ok).toBe(false);
    if (check.ok) return;
    const [p] = check.problems;
    expect(p.line).toBe(3);
    expect(p.column).toBe(25);
    expect(text[p.offset!]).toBe(']');
    expect(p.message).toBe(
      "JSON, line 3, column 25: expected a value (an object, array, string, number, true, false or null), found ']'",
    );
  });

  it('places an unfinished document at its end', () => {
    const check = checkExperimentText('{ "name": "x",\n');
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.problems[0]).toMatchObject({ line: 2, column: 1 });
  });

  it('lists every schema problem with its field, from the protocol schema', () => {
    const msgs = problems(
      checkExperimentText(JSON.stringify({ name: '', base: { engine: 'torch', settings: { lr: -1 } }, extra: 1 })),
    );
    expect(msgs.some((m) => m.startsWith('name: '))).toBe(true);
    expect(msgs.some((m) => m.startsWith('base.engine: '))).toBe(true);
    expect(msgs.some((m) => m.startsWith('base.settings.lr: '))).toBe(true);
    expect(msgs.some((m) => /^\(top level\): .*extra/.test(m))).toBe(true);
  });

  it('caps the list and counts the rest', () => {
    const grid = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`a${i}`, []]));
    const msgs = problems(checkExperimentText(JSON.stringify({ name: 'x', grid })));
    expect(msgs).toHaveLength(MAX_PROBLEMS + 1);
    expect(msgs[MAX_PROBLEMS]).toBe(`… and ${10 - MAX_PROBLEMS} more`);
  });

  it('passes on what only the grid expansion finds: unknown paths, unknown presets, no network', () => {
    expect(
      problems(
        checkExperimentText(
          JSON.stringify({ name: 'x', base: { model: 'tdnn' }, grid: { 'layers.0.colour': ['red'], bogus: [1] } }),
        ),
      )[0],
    ).toMatch(/unknown path 'bogus'/);
    expect(problems(checkExperimentText(JSON.stringify({ name: 'x', base: { model: 'resnet' } })))[0]).toMatch(
      /model 'resnet' is not a preset/,
    );
    expect(problems(checkExperimentText(JSON.stringify({ name: 'x', grid: { lr: [0.1] } })))[0]).toMatch(/no network/);
  });

  it('fits every run to the dataset: a network with 9 outputs on a 3-class dataset is named with its run', () => {
    const text = JSON.stringify({ name: 'k', base: { model: 'tdnn' }, grid: { lr: [0.01, 0.1] } });
    expect(checkExperimentText(text, { dataset: demo }).ok).toBe(true);
    const threeClasses = { name: 'abc', channels: 16, classes: ['a', 'b', 'c'] };
    expect(problems(checkExperimentText(text, { dataset: threeClasses }))).toEqual([
      'run main_lr=0.01_scratch on dataset abc: layer 4 Dense: units 9 must equal the number of classes, 3',
    ]);
  });

  it('applies the epochs override to the preview', () => {
    const check = checkExperimentText(experimentJson(EXAMPLE_GRID), { epochs: 1 });
    expect(check.ok && check.preview.epochs).toEqual([1]);
  });
});

describe('checkExperiment (built-ins)', () => {
  it('previews the course: 6 FNNs and 2 TDNNs on both engines, and its timing points', () => {
    const check = checkExperiment(COURSE_EXPERIMENT, { dataset: demo });
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    expect(check.preview.parts).toEqual([
      { name: 'fnn', runs: 12 },
      { name: 'tdnn', runs: 4 },
    ]);
    expect(check.preview.engines).toEqual(['scratch', 'tfjs-wasm']);
    // tanh FNNs (hidden 10 and 50) × both engines × 4 batch sizes.
    expect(check.preview.timingPoints).toBe(4 * 4);
  });
});

describe('lineColumn', () => {
  it('counts lines and columns from 1', () => {
    expect(lineColumn('ab\ncd', 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
    expect(lineColumn('ab', 99)).toEqual({ line: 1, column: 3 });
  });
});
