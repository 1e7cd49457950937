import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDirsRemovedAfterAll } from '../services/test-helpers';
import { cli } from './run-cli';

const tmp = tempDirsRemovedAfterAll('lockstep-cli-');

/** tfjs's "install the node backend" notice must not reach either stream. */
function expectQuiet(r: { stdout: string; stderr: string }): void {
  expect(r.stdout + r.stderr).not.toMatch(/TensorFlow\.js in Node\.js|tfjs-node/);
}

describe('compare: scratch against tfjs in lockstep on the demo data', () => {
  it('--json prints one clean line with the divergence, the timings and the per-step record', () => {
    const r = cli(
      'compare',
      '--model',
      'fnn-10-relu',
      '--optimizer',
      'adam',
      '--steps',
      '30',
      '--seed',
      '1',
      '--batch',
      '50',
      '--backend',
      'wasm',
      '--json',
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expectQuiet(r);
    const j = r.json;
    expect(j).toMatchObject({
      model: 'fnn-10-relu',
      data: 'demo',
      backend: 'wasm',
      optimizer: 'adam',
      lr: 0.001,
      batch: 50,
      seed: 1,
      steps: 30,
      bound: 1e-4,
      ok: true,
    });
    expect(j.engines).toEqual({ scratch: 'scratch', tfjs: 'tfjs-wasm' });
    expect(j.maxRelLossDiff).toBeLessThanOrEqual(1e-4);
    for (const key of ['maxAbsLossDiff', 'maxAbsWeightDiff', 'maxAbsGradDiff'])
      expect(j[key]).toBeGreaterThanOrEqual(0);
    expect(j.scratchMsPerStep).toBeGreaterThan(0);
    expect(j.tfjsMsPerStep).toBeGreaterThan(0);
    for (const key of ['scratchLoss', 'tfjsLoss', 'relLossDiff', 'scratchMs', 'tfjsMs'])
      expect(j.perStep[key]).toHaveLength(30);
    expect(j.checks.map((c: any) => c.step)).toEqual([10, 20, 30]);
    expect(Object.keys(j.checks[0].weights)).toContain('dense_1/kernel');
  });

  it('takes batch and lr from the preset unless given, and reports in text', () => {
    const r = cli('compare', '--model', 'tdnn', '--steps', '3', '--backend', 'cpu');
    expect(r.status, r.stderr).toBe(0);
    expectQuiet(r);
    expect(r.stdout).toMatch(/^tdnn on demo: scratch vs tfjs-cpu, adam lr 0\.01, batch 16, seed 1, 3 steps$/m);
    expect(r.stdout).toMatch(/^ms\/step: +scratch \d+\.\d\d, tfjs-cpu \d+\.\d\d$/m);
    expect(r.stdout.trim().split('\n').pop()).toBe('ok');
  });

  it('exits 1 when a step exceeds the bound', () => {
    const r = cli(
      'compare',
      '--model',
      'fnn-10-sigmoid',
      '--optimizer',
      'sgd',
      '--steps',
      '5',
      '--bound',
      '1e-12',
      '--backend',
      'wasm',
      '--json',
    );
    expect(r.status).toBe(1);
    expect(r.json.ok).toBe(false);
    expect(r.stderr).toMatch(/lockstep failed: step \d+'s relative loss difference exceeds 1e-12/);
  });

  it('--null measures the null model and the resynced comparison, and judges by both (here failing: resynced, rounding exceeds a bound of 1e-12)', () => {
    const r = cli(
      'compare',
      '--model',
      'fnn-10-tanh',
      '--optimizer',
      'adam',
      '--steps',
      '12',
      '--bound',
      '1e-12',
      '--backend',
      'cpu',
      '--null',
      '--json',
    );
    const n = r.json.nullModel;
    const runs: { candidate: string; maxRelLossDiff: number }[] = n.runs;
    expect(runs.map((x) => x.candidate)).toEqual([
      'tfjs-cpu-chunked2',
      'tfjs-cpu-chunked3',
      'tfjs-cpu-chunked5',
      'tfjs-wasm',
      'tfjs-cpu-ulp1',
      'tfjs-cpu-ulp2',
      ...Array.from({ length: 16 }, (_, i) => `scratch-ulp${i + 1}`),
    ]);
    expect(r.json.bound).toBe(Math.max(...runs.map((x) => x.maxRelLossDiff)));
    expect(n.nullRunsFurther).toBe(runs.filter((x) => x.maxRelLossDiff > r.json.maxRelLossDiff).length);
    expect(n.resynced.maxRelLossDiff).toBeGreaterThan(1e-12);
    expect(n.resynced.ok).toBe(false);
    expect(r.json.ok).toBe(false);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/lockstep failed: resynced, step \d+'s relative loss difference exceeds 1e-12/);
    const text = cli(
      'compare',
      '--model',
      'fnn-10-tanh',
      '--optimizer',
      'adam',
      '--steps',
      '12',
      '--bound',
      '1e-12',
      '--backend',
      'cpu',
      '--null',
    );
    expect(text.stdout).toMatch(
      /^null model \(the same mathematics, only rounding changed; 22 runs\): max relative \S+ … \S+, median \S+;$/m,
    );
    expect(text.stdout).toMatch(/^ +\d+ of them diverge further than scratch vs tfjs; bound \S+$/m);
    expect(text.stdout).toMatch(/^resynced: +every step from identical weights, max relative \S+$/m);
    expect(text.stdout.trim().split('\n').pop()).toMatch(
      /^FAILED: resynced, step \d+'s relative loss difference exceeds 1e-12$/,
    );
  }, 120_000);

  it("--resync: tfjs takes scratch's weights before every step, and the report says so", () => {
    const r = cli(
      'compare',
      '--model',
      'best',
      '--optimizer',
      'adam',
      '--steps',
      '10',
      '--backend',
      'wasm',
      '--resync',
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/10 steps, tfjs resynced to scratch's weights every step$/m);
    const relative = Number(/max relative (\S+)/.exec(r.stdout)?.[1]);
    expect(relative).toBeLessThan(1e-5);
  }, 120_000);

  it.each([
    [['compare', '--model', 'tdnn', '--backend', 'gpu'], /--backend must be one of cpu, wasm, got 'gpu'/],
    [['train', '--model', 'tdnn', '--engine', 'torch'], /--engine must be one of scratch, tfjs, lockstep, got 'torch'/],
  ])('user error: %j', (args, message) => {
    const r = cli(...args);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('train with the tfjs and lockstep engines', () => {
  it('train --engine lockstep saves lockstep.json beside the checkpoint and prints the comparison', () => {
    const out = join(tmp(), 'ckpt');
    const r = cli(
      'train',
      '--model',
      'fnn-10-relu',
      '--engine',
      'lockstep',
      '--backend',
      'wasm',
      '--epochs',
      '2',
      '--out',
      out,
      '--json',
    );
    expect(r.status, r.stderr).toBe(0);
    expectQuiet(r);
    expect(r.json.engine).toBe('lockstep(scratch,tfjs-wasm)');
    expect(r.json.lockstep).toMatchObject({ reference: 'scratch', candidate: 'tfjs-wasm', steps: 36, ok: true });
    expect(r.json.lockstepFile).toBe(join(out, 'lockstep.json'));
    const saved = JSON.parse(readFileSync(join(out, 'lockstep.json'), 'utf8'));
    expect(saved).toEqual(r.json.lockstep);
    expect(saved.perStep.relLossDiff).toHaveLength(36);
    expect(saved.checks.map((c: any) => c.step)).toEqual([10, 20, 30, 36]);
    expect(existsSync(join(out, 'checkpoint.json'))).toBe(true);
    // The checkpoint holds the reference (scratch) weights and evaluates like any other.
    const e = cli('eval', '--checkpoint', out, '--json');
    expect(e.status, e.stderr).toBe(0);
    expect(e.json.accuracy).toBeCloseTo(r.json.dev.accuracy, 10);
  });

  it('train --engine tfjs trains on tfjs alone; text output names the lockstep result only for lockstep', () => {
    const r = cli('train', '--model', 'fnn-10-tanh', '--engine', 'tfjs', '--backend', 'cpu', '--epochs', '1', '--json');
    expect(r.status, r.stderr).toBe(0);
    expectQuiet(r);
    expect(r.json.engine).toBe('tfjs-cpu');
    expect(r.json.lockstep).toBeNull();
    expect(r.json.train.loss).toBeLessThan(Math.log(9));
    const t = cli('train', '--model', 'fnn-10-tanh', '--engine', 'lockstep', '--epochs', '1');
    expect(t.status, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/^lockstep scratch vs tfjs-cpu over 18 steps: max relative loss difference .*: ok$/m);
  });
});

describe('gradcheck: the tfjs column', () => {
  it('reports tfjsMaxRelError per layer, within the stated float32 tolerance', () => {
    const r = cli('gradcheck', '--model', 'tdnn', '--samples', '20', '--backend', 'wasm', '--json');
    expect(r.status, r.stderr).toBe(0);
    expectQuiet(r);
    expect(r.json.ok).toBe(true);
    expect(r.json.tfjsBackend).toBe('wasm');
    expect(r.json.tfjsTolerance).toBe(5e-3);
    for (const l of r.json.layers) {
      expect(l.maxRelError).toBeLessThanOrEqual(1e-6);
      expect(l.tfjsMaxRelError).toBeLessThanOrEqual(5e-3);
    }
    const text = cli('gradcheck', '--model', 'tdnn', '--samples', '20');
    expect(text.stdout).toMatch(/^conv1d_1 +Conv1D +vs finite differences \S+ +vs tfjs \S+/m);
  });
});
