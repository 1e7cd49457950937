import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDirsRemovedAfterAll, writeCourseFixture } from '../services/test-helpers';
import { cli } from './run-cli';

const tmp = tempDirsRemovedAfterAll('lockstep-cli-');

describe('CLI on the built-in demo data', () => {
  it('train --json prints the result as the last stdout line and writes a loadable checkpoint', () => {
    const out = join(tmp(), 'ckpt');
    const r = cli('train', '--model', 'tdnn', '--epochs', '2', '--seed', '3', '--out', out, '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.params).toBe(551);
    expect(r.json.epochs).toBe(2);
    for (const s of ['train', 'dev']) {
      expect(r.json[s].accuracy).toBeGreaterThanOrEqual(0);
      expect(r.json[s].accuracy).toBeLessThanOrEqual(1);
      expect(Number.isFinite(r.json[s].loss)).toBe(true);
    }
    expect(r.json.msPerEpoch).toBeGreaterThan(0);
    expect(r.json.checkpoint).toBe(join(out, 'checkpoint.json'));
    expect(r.stderr).toMatch(/epoch 2: train loss/);

    // eval on the checkpoint reproduces the dev figures train reported.
    const e = cli('eval', '--checkpoint', out, '--split', 'dev', '--json');
    expect(e.status, e.stderr).toBe(0);
    expect(e.json.split).toBe('dev');
    expect(e.json.n).toBe(r.json.dev.n);
    expect(e.json.accuracy).toBeCloseTo(r.json.dev.accuracy, 10);
    expect(e.json.loss).toBeCloseTo(r.json.dev.loss, 5);
    expect(e.json.confusion).toHaveLength(9);
    expect(e.json.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(r.json.dev.n);
    const hits = e.json.confusion.reduce((s: number, row: number[], k: number) => s + row[k], 0);
    expect(hits / e.json.n).toBeCloseTo(e.json.accuracy, 12);
  });

  it('train --json reports the eval split when the dataset has one; the epoch lines give the final figures, the running mean labelled', () => {
    const root = tmp();
    writeCourseFixture(root);
    cpSync(join(root, 'dev'), join(root, 'eval'), { recursive: true });
    const devLabels = readFileSync(join(root, 'dev/lab/dev.txt'), 'utf8');
    writeFileSync(join(root, 'eval/lab/dev.txt'), devLabels.replaceAll('dev/feat/', 'eval/feat/'));
    const r = cli('train', '--data', root, '--model', 'fnn-10-tanh', '--epochs', '2', '--seed', '1', '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.eval).toEqual({ n: 6, loss: expect.any(Number), accuracy: expect.any(Number) });
    // The eval split holds the dev split's examples: the same figures.
    expect(r.json.eval).toEqual(r.json.dev);
    const last = r.stderr.trim().split('\n').pop()!;
    expect(last).toMatch(
      /^epoch 2: train loss (\S+) acc (\S+)%, dev loss \S+ acc \S+ \(running train loss during the epoch \S+; \d+ ms\)$/,
    );
    expect(last).toContain(
      `train loss ${r.json.train.loss.toFixed(4)} acc ${(r.json.train.accuracy * 100).toFixed(1)}%`,
    );
    const text = cli('train', '--data', root, '--model', 'fnn-10-tanh', '--epochs', '1');
    expect(text.stdout).toMatch(/^eval: {2}loss \S+, accuracy \S+% \(n=6\)$/m);
  });

  it('the same seed gives the same result; flags override the preset', () => {
    const a = cli(
      'train',
      '--model',
      'fnn-10-tanh',
      '--epochs',
      '1',
      '--seed',
      '7',
      '--optimizer',
      'sgd',
      '--lr',
      '0.05',
      '--json',
    );
    const b = cli(
      'train',
      '--model',
      'fnn-10-tanh',
      '--epochs',
      '1',
      '--seed',
      '7',
      '--optimizer',
      'sgd',
      '--lr',
      '0.05',
      '--json',
    );
    expect(a.status, a.stderr).toBe(0);
    expect(a.json.settings.optimizer).toBe('sgd');
    expect(a.json.settings.lr).toBe(0.05);
    expect(a.json.train.loss).toBe(b.json.train.loss);
    expect(a.json.metrics[0].trainLoss).toBe(b.json.metrics[0].trainLoss);
  });

  it('training aids from flags: a cosine schedule per step, augmentation, early stopping that keeps the best dev epoch', () => {
    const args = [
      'train',
      '--model',
      'tdnn',
      '--epochs',
      '6',
      '--seed',
      '2',
      '--lr-schedule',
      'cosine',
      '--warmup-epochs',
      '1',
      '--time-stretch',
      '0.1',
      '--time-shift',
      '2',
      '--time-mask',
      '4',
      '--freq-mask',
      '2',
      '--patience',
      '2',
      '--json',
    ];
    const r = cli(...args);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.settings).toMatchObject({
      lrSchedule: 'cosine',
      warmupEpochs: 1,
      timeStretch: 0.1,
      timeShift: 2,
      timeMask: 4,
      freqMask: 2,
      patience: 2,
    });
    const metrics: Array<{ epoch: number; lr: number; devAccuracy: number }> = r.json.metrics;
    // The rate at the end of the warm-up epoch is lr; afterwards it only falls.
    expect(metrics[0].lr).toBe(r.json.settings.lr);
    for (let i = 1; i < metrics.length; i++) expect(metrics[i].lr).toBeLessThan(metrics[i - 1].lr);
    const best = metrics.reduce((a, m) => (m.devAccuracy > a.devAccuracy ? m : a));
    expect(r.json.bestEpoch).toBe(best.epoch);
    expect(r.json.dev.accuracy).toBe(best.devAccuracy);
    // Reproducible from the seed, augmentation included.
    expect(cli(...args).json.metrics).toEqual(
      r.json.metrics.map((m: Record<string, unknown>) => ({ ...m, ms: expect.any(Number) })),
    );
  });

  it('gradcheck reports ok and a max relative error per layer', () => {
    const r = cli('gradcheck', '--model', 'tdnn', '--samples', '50', '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.ok).toBe(true);
    expect(r.json.layers.map((l: any) => l.layer)).toEqual(['conv1d_1', 'conv1d_2', 'time_sum_1', 'dense_1']);
    for (const l of r.json.layers) expect(l.maxRelError).toBeLessThanOrEqual(1e-6);
  });

  it('accepts a spec file as --model', () => {
    const dir = tmp();
    const spec = join(dir, 'net.json');
    writeFileSync(
      spec,
      JSON.stringify({
        input: [70, 16],
        layers: [
          { type: 'Conv1D', filters: 4, kernelSize: 5, strides: 2, activation: 'relu' },
          { type: 'MaxPooling1D', poolSize: 2 },
          { type: 'GlobalAveragePooling1D' },
          { type: 'Dense', units: 9, activation: 'softmax' },
        ],
      }),
    );
    const r = cli('train', '--model', spec, '--epochs', '1', '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.params).toBe(5 * 16 * 4 + 4 + 4 * 9 + 9);
  });
});

describe('CLI user errors: one line on stderr, non-zero exit, no stack trace', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['unknown flag', ['train', '--model', 'tdnn', '--epoch', '2'], /Unknown option '--epoch'/],
    ['unknown preset', ['train', '--model', 'nope'], /--model nope: neither a preset/],
    ['bad number', ['train', '--model', 'tdnn', '--lr', 'fast'], /--lr expects a number, got 'fast'/],
    [
      'bad optimizer',
      ['train', '--model', 'tdnn', '--optimizer', 'rmsprop'],
      /--optimizer must be one of sgd, momentum, adam/,
    ],
    [
      'bad schedule',
      ['train', '--model', 'tdnn', '--lr-schedule', 'linear'],
      /--lr-schedule must be one of constant, cosine, step, got 'linear'/,
    ],
    [
      'a frequency mask wider than the data',
      ['train', '--model', 'tdnn', '--freq-mask', '17'],
      /freqMask must be at most the data's channels \(16\), got 17/,
    ],
    [
      'impossible spec',
      ['gradcheck', '--model', 'SPEC'],
      /layer 3 Conv1D: kernelSize 5 is longer than its input length 3/,
    ],
    ['missing checkpoint', ['eval', '--checkpoint', '/nonexistent/ckpt'], /no checkpoint folder here/],
    ['unknown command', ['fly'], /unknown command 'fly'/],
  ];
  it.each(cases)('%s', (_name, args, message) => {
    if (args.includes('SPEC')) {
      const spec = join(tmp(), 'bad.json');
      writeFileSync(
        spec,
        JSON.stringify({
          input: [8, 2],
          layers: [
            { type: 'Conv1D', filters: 2, kernelSize: 3 },
            { type: 'MaxPooling1D', poolSize: 2 },
            { type: 'Conv1D', filters: 2, kernelSize: 5 },
            { type: 'Flatten' },
            { type: 'Dense', units: 9, activation: 'softmax' },
          ],
        }),
      );
      args = args.map((a) => (a === 'SPEC' ? spec : a));
    }
    const r = cli(...args);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a corrupt checkpoint is reported with its file', () => {
    const out = join(tmp(), 'ckpt');
    expect(cli('train', '--model', 'fnn-10-relu', '--epochs', '1', '--out', out).status).toBe(0);
    const manifest = join(out, 'checkpoint.json');
    const m = JSON.parse(readFileSync(manifest, 'utf8'));
    m.tensors[0].shape = [3, 3];
    writeFileSync(manifest, JSON.stringify(m));
    const r = cli('eval', '--checkpoint', out);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(manifest);
    expect(r.stderr).toMatch(/field tensors\[0\]: expected dense_1\/kernel of shape \[1120, 10\]/);
    expect(existsSync(manifest)).toBe(true);
  });
});
