import { describe, expect, it } from 'vitest';
import { LockstepError } from '../errors';
import { DEFAULT_TFJS_BACKEND, type ExperimentSpec } from '../protocol';
import { expandExperiment, MAX_RUNS, parseExperiment } from './grid';

const fnn = (grid: ExperimentSpec['grid'], extra: Partial<ExperimentSpec> = {}): ExperimentSpec => ({
  name: 't',
  base: { model: 'fnn-10-tanh' },
  grid,
  ...extra,
});

describe('expandExperiment', () => {
  it('crosses every axis, the last one fastest, and sets layer fields and settings', () => {
    const plan = expandExperiment(fnn({ 'layers.1.units': [10, 50], lr: [0.01, 0.1], engine: ['scratch', 'tfjs'] }));
    expect(plan.runs).toHaveLength(8);
    expect(plan.runs.map((r) => [r.spec.layers[1].units, r.settings.lr, r.engine])).toEqual([
      [10, 0.01, 'scratch'],
      [10, 0.01, 'tfjs'],
      [10, 0.1, 'scratch'],
      [10, 0.1, 'tfjs'],
      [50, 0.01, 'scratch'],
      [50, 0.01, 'tfjs'],
      [50, 0.1, 'scratch'],
      [50, 0.1, 'tfjs'],
    ]);
    // Only the axis's layer changes; the preset's other layers and settings stay.
    expect(plan.runs[4].spec.layers[2]).toEqual({ type: 'Dense', units: 10, activation: 'tanh' });
    expect(plan.runs[4].settings).toMatchObject({ optimizer: 'adam', batch: 50, epochs: 30 });
    // The runs of a cell differ only by engine, and share its cell key; keys are unique.
    expect(plan.runs[0].cell).toBe(plan.runs[1].cell);
    expect(plan.runs[0].cell).not.toBe(plan.runs[2].cell);
    expect(new Set(plan.runs.map((r) => r.key)).size).toBe(8);
    // No backend given: tfjs runs on the one default backend, as in the Train tab and the CLI.
    expect(DEFAULT_TFJS_BACKEND).toBe('cpu');
    expect(plan.runs[1]).toMatchObject({
      backend: 'cpu',
      engineId: 'tfjs-cpu',
      label: 'main layers.1.units=10 lr=0.01',
      axes: { engine: 'tfjs', lr: '0.01' },
    });
  });

  it('takes the front end as an axis like any other setting, by name or as an object, and rejects a bad one by run', () => {
    const plan = expandExperiment(
      fnn({ frontEnd: ['none', 'pcen', { normalize: 'pcen', pcen: { alpha: 0.5 } }, 'utteranceMean'] }),
    );
    expect(plan.runs.map((r) => r.settings.frontEnd)).toEqual([
      { normalize: 'none' },
      { normalize: 'pcen', pcen: { smoothing: 0.1, alpha: 0.98, delta: 2, root: 0.5, epsilon: 1e-6 } },
      { normalize: 'pcen', pcen: { smoothing: 0.1, alpha: 0.5, delta: 2, root: 0.5, epsilon: 1e-6 } },
      { normalize: 'utteranceMean' },
    ]);
    expect(plan.runs.map((r) => r.axes.frontEnd)).toEqual(['none', 'pcen', '#3', 'utteranceMean']);
    expect(() => expandExperiment(fnn({ frontEnd: ['pcen', { normalize: 'pcen', pcen: { delta: -1 } }] }))).toThrow(
      /run .*frontEnd\.pcen\.delta/,
    );
  });

  it('sets several paths from one axis, labels values, and replaces whole layers', () => {
    const plan = expandExperiment(
      fnn({
        hidden: { paths: ['layers.1.units', 'layers.2.units'], values: [7, 9], labels: ['small', 'large'] },
        'layers.0': [{ type: 'Flatten' }],
        'settings.seed': [3],
      }),
    );
    expect(
      plan.runs.map((r) => [r.spec.layers[1].units, r.spec.layers[2].units, r.axes.hidden, r.settings.seed]),
    ).toEqual([
      [7, 7, 'small', 3],
      [9, 9, 'large', 3],
    ]);
    expect(plan.runs[0].axes['layers.0']).toBe('#1');
  });

  it('gives each part its own base and axes, crossed with the shared ones; a model axis picks the network first', () => {
    const plan = expandExperiment({
      name: 'p',
      base: { settings: { epochs: 3 }, backend: 'cpu' },
      grid: { engine: ['scratch', 'tfjs'] },
      parts: [
        { name: 'a', base: { model: 'tdnn' }, grid: { 'layers.2.type': ['TimeSum', 'Flatten'] } },
        { name: 'b', grid: { model: ['fnn-10-relu', 'fnn-50-sigmoid'], 'layers.1.units': [4] } },
      ],
    });
    expect(
      plan.runs.map((r) => `${r.part}:${r.spec.layers[2].type}:${r.spec.layers[1].units ?? ''}:${r.engineId}`),
    ).toEqual([
      'a:TimeSum::scratch',
      'a:TimeSum::tfjs-cpu',
      'a:Flatten::scratch',
      'a:Flatten::tfjs-cpu',
      'b:Dense:4:scratch',
      'b:Dense:4:tfjs-cpu',
      'b:Dense:4:scratch',
      'b:Dense:4:tfjs-cpu',
    ]);
    expect(plan.runs.every((r) => r.settings.epochs === 3)).toBe(true);
    expect(plan.runs[6].spec.layers[2].activation).toBe('sigmoid');
  });

  it("overrides every run's epochs when asked", () => {
    const plan = expandExperiment(fnn({ epochs: [5, 6] }), { epochs: 2 });
    expect(plan.runs.map((r) => r.settings.epochs)).toEqual([2, 2]);
  });

  it('selects timing targets by part and axis labels', () => {
    const plan = expandExperiment(
      fnn(
        { 'layers.1.units': [10, 50], engine: ['scratch', 'tfjs'] },
        { timing: { batchSizes: [1, 10], where: { 'layers.1.units': ['50'] } } },
      ),
    );
    expect(plan.timing.map((t) => [t.key, t.engineId, t.steps, t.batchSizes])).toEqual([
      [plan.runs[2].key, 'scratch', 30, [1, 10]],
      [plan.runs[3].key, 'tfjs-cpu', 30, [1, 10]],
    ]);
    expect(() =>
      expandExperiment(fnn({ engine: ['scratch'] }, { timing: { batchSizes: [1], parts: ['nope'] } })),
    ).toThrow(/timing selects no run/);
  });

  it('rejects what cannot run, naming the part, the run and the problem', () => {
    const bad = (grid: ExperimentSpec['grid'], extra?: Partial<ExperimentSpec>): string => {
      try {
        expandExperiment(fnn(grid, extra));
      } catch (e) {
        expect(e).toBeInstanceOf(LockstepError);
        return (e as Error).message;
      }
      throw new Error('expected a rejection');
    };
    expect(bad({ 'layers.1.activation': ['tanh', 'swish'] })).toBe(
      `experiment "t", part main, run layers.1.activation=swish: layer 2 Dense: activation must be one of 'linear', 'sigmoid', 'tanh', 'relu', 'softmax', got "swish"`,
    );
    expect(bad({ 'layers.9.units': [3] })).toMatch(
      /run layers\.9\.units=3: layers\.9\.units: the network has 4 layers \(indices 0–3\)/,
    );
    expect(bad({ speed: [1] })).toMatch(
      /grid axis "speed": unknown path 'speed' \(expected engine, backend, model, a training setting \(optimizer, lr/,
    );
    expect(bad({ engine: ['torch'] })).toMatch(/run engine=torch: engine must be 'scratch' or 'tfjs', got "torch"/);
    expect(bad({ batch: [0] })).toMatch(/run batch=0: batch must be an integer ≥ 1, got 0/);
    expect(bad({ lr: [1, 1] })).toMatch(/grid axis "lr" repeats a value/);
    expect(bad({ h: { paths: ['layers.1.units'], values: [1, 2], labels: ['one'] } })).toMatch(
      /grid axis "h" has 2 values but 1 labels/,
    );
    expect(bad({ model: ['resnet'] })).toMatch(/model 'resnet' is not a preset \(expected one of tdnn, /);
    // Labels that only differ in characters a folder name cannot hold.
    expect(bad({ s: { paths: ['seed'], values: [1, 2], labels: ['a:b', 'a/b'] } })).toMatch(
      /run s=a\/b: the same run \(main_s=a-b_scratch\) is planned twice/,
    );
    expect(
      bad({ seed: Array.from({ length: 64 }, (_, i) => i), lr: Array.from({ length: 9 }, (_, i) => 0.01 * (i + 1)) }),
    ).toBe(`experiment "t": more than ${MAX_RUNS} runs; make the grid smaller`);
    expect(() => expandExperiment({ name: 'x', grid: { lr: [0.1] } })).toThrow(
      'experiment "x", part main: no network: give the base a model (a preset) or a spec',
    );
    expect(() =>
      expandExperiment({
        name: 'x',
        grid: { engine: ['scratch'] },
        parts: [{ name: 'p', base: { model: 'tdnn' }, grid: { engine: ['tfjs'] } }],
      }),
    ).toThrow(/part p: grid axis "engine" is also an experiment-wide axis/);
  });
});

describe('parseExperiment', () => {
  it('names the file and the field of a schema error', () => {
    expect(() => parseExperiment({ name: 'x', grid: { lr: 0.1 } }, 'g.json')).toThrow(/^g\.json, field grid\.lr: /);
    expect(() => parseExperiment({ name: 'x', base: { settings: { batch: 0 } } }, 'g.json')).toThrow(
      /^g\.json, field base\.settings\.batch: Too small/,
    );
    expect(() => parseExperiment({ name: 'x', extra: 1 }, 'g.json')).toThrow(
      /^g\.json, field \(root\): Unrecognized key: "extra"/,
    );
    expect(parseExperiment({ name: 'x', base: { model: 'tdnn' } }, 'g.json')).toEqual({
      name: 'x',
      base: { model: 'tdnn' },
    });
  });
});
