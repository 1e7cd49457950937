import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, REPO_ROOT as root, tempDirs, TSX as tsx } from './run-cli';
import * as ort from 'onnxruntime-node';
import { demoDataset } from '../../shared/data/demo';
import { applyStandardization } from '../../shared/data/standardize';
import { NpzFile, npyStrings } from '../data/npz';
import { readCheckpoint } from '../store/checkpoint-dir';
import { loadTfjsFolder } from '../export/test-fixtures';

/** The same, without blocking: several runs at once. */
function cliAsync(...args: string[]): Promise<{ status: number; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(tsx, ['src-main/cli/main.ts', ...args], { cwd: root });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => done({ status: code ?? -1, stderr }));
  });
}

const tmp = tempDirs('lockstep-export-cli-');
afterAll(tmp.removeAll);

describe('export CLI on a checkpoint trained on the demo data', () => {
  let ckpt = '';
  let evalDev: any = null;
  beforeAll(() => {
    ckpt = join(tmp(), 'ckpt');
    const r = cli('train', '--model', 'tdnn', '--epochs', '1', '--seed', '5', '--out', ckpt, '--json');
    expect(r.status, r.stderr).toBe(0);
    const e = cli('eval', '--checkpoint', ckpt, '--split', 'dev', '--json');
    expect(e.status, e.stderr).toBe(0);
    evalDev = e.json;
  });

  it('--format checkpoint: a copy that eval reads with the same result', () => {
    const out = join(tmp(), 'copy');
    const r = cli('export', '--checkpoint', ckpt, '--format', 'checkpoint', '--out', out, '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.format).toBe('checkpoint');
    expect(r.json.files[0]).toBe(join(out, 'checkpoint.json'));
    expect(r.json.files[1]).toMatch(/weights-.*\.bin$/);
    const original = readCheckpoint(ckpt);
    const copy = readCheckpoint(out);
    expect(copy.manifest.classes).toEqual(original.manifest.classes);
    expect(copy.manifest.standardize).toEqual(original.manifest.standardize);
    expect(copy.manifest.metrics).toEqual(original.manifest.metrics);
    expect([...copy.weights.keys()]).toEqual([...original.weights.keys()]);
    for (const [k, v] of original.weights) expect(copy.weights.get(k)).toEqual(v);
    const e = cli('eval', '--checkpoint', out, '--split', 'dev', '--json');
    expect(e.status, e.stderr).toBe(0);
    expect(e.json).toEqual(evalDev);
  });

  it('--format tfjs: model.json + weights.bin + metadata.json that stock tfjs loads; eval accepts the folder', async () => {
    const out = join(tmp(), 'tfjs');
    const r = cli('export', '--checkpoint', ckpt, '--format', 'tfjs', '--out', out, '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(r.json).toEqual({
      format: 'tfjs',
      files: ['model.json', 'weights.bin', 'metadata.json'].map((f) => join(out, f)),
    });
    const meta = JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8'));
    const manifest = readCheckpoint(ckpt).manifest;
    expect(meta.classes).toEqual(manifest.classes);
    expect(meta.standardize).toEqual(manifest.standardize);
    expect([meta.frames, meta.channels]).toEqual([70, 16]);
    const model = await loadTfjsFolder(out);
    const p = model.predict(tf.zeros([2, 70, 16])) as tf.Tensor;
    expect(p.shape).toEqual([2, 9]);
    const sums = (await p.sum(1).data()) as Float32Array;
    for (const s of sums) expect(s).toBeCloseTo(1, 5);
    model.dispose();

    const e = cli('eval', '--checkpoint', out, '--split', 'dev', '--json');
    expect(e.status, e.stderr).toBe(0);
    expect(e.json.n).toBe(evalDev.n);
    expect(e.json.accuracy).toBeCloseTo(evalDev.accuracy, 10);
    expect(e.json.loss).toBeCloseTo(evalDev.loss, 5);

    // and back to a checkpoint
    const back = join(tmp(), 'back');
    const b = cli('export', '--checkpoint', out, '--format', 'checkpoint', '--out', back, '--json');
    expect(b.status, b.stderr).toBe(0);
    expect(readCheckpoint(back).manifest.engine).toBe('import:tfjs');
  });

  it('--format npz: one .npz with the weights by layer, classes, standardisation and spec', async () => {
    const out = join(tmp(), 'sub', 'model.npz');
    const r = cli('export', '--checkpoint', ckpt, '--format', 'npz', '--out', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('NumPy .npz written');
    expect(r.stdout).toContain(out);
    const z = NpzFile.open(out);
    try {
      expect(z.names).toEqual([
        'conv1d_1.kernel',
        'conv1d_1.bias',
        'conv1d_2.kernel',
        'conv1d_2.bias',
        'dense_1.kernel',
        'dense_1.bias',
        'classes',
        'standardize_mean',
        'standardize_std',
        'front_end_json',
        'front_end_formula',
        'spec_json',
        'audio_json',
      ]);
      expect(npyStrings(await z.read('classes'), 'classes', out)).toEqual(readCheckpoint(ckpt).manifest.classes);
    } finally {
      z.close();
    }
    expect(readdirSync(dirname(out))).toEqual(['model.npz']);
  });

  it('--format onnx: one .onnx that onnxruntime runs to the same dev accuracy, loss and confusion as eval', async () => {
    const out = join(tmp(), 'sub', 'model.onnx');
    const r = cli('export', '--checkpoint', ckpt, '--format', 'onnx', '--out', out, '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(r.json).toEqual({ format: 'onnx', files: [out] });
    expect(readdirSync(dirname(out))).toEqual(['model.onnx']);
    const { manifest } = readCheckpoint(ckpt);
    const dev = applyStandardization(demoDataset().splits.dev!, manifest.standardize!);
    const session = await ort.InferenceSession.create(readFileSync(out));
    const result = await session.run({ input: new ort.Tensor('float32', dev.x, [dev.n, dev.frames, dev.channels]) });
    await session.release();
    const probs = result.probabilities.data as Float32Array;
    const K = manifest.classes.length;
    const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
    let lossSum = 0;
    for (let i = 0; i < dev.n; i++) {
      const row = Array.from(probs.subarray(i * K, (i + 1) * K));
      confusion[dev.y[i]][row.indexOf(Math.max(...row))]++;
      lossSum -= Math.log(row[dev.y[i]]);
    }
    expect(confusion).toEqual(evalDev.confusion);
    expect(lossSum / dev.n).toBeCloseTo(evalDev.loss, 5);
  });

  it('user errors: one line on stderr, non-zero exit', async () => {
    const cases: Array<[string[], RegExp]> = [
      [
        ['export', '--checkpoint', ckpt, '--format', 'keras', '--out', join(tmp(), 'x')],
        /--format must be one of tfjs, npz, onnx, checkpoint, got 'keras'/,
      ],
      [['export', '--checkpoint', ckpt, '--format', 'npz'], /--out is required/],
      [
        ['export', '--checkpoint', '/nonexistent/ckpt', '--format', 'tfjs', '--out', join(tmp(), 'x')],
        /no checkpoint folder here/,
      ],
      [['export', '--checkpoint', tmp(), '--format', 'tfjs', '--out', join(tmp(), 'x')], /found neither/],
    ];
    const results = await Promise.all(cases.map(([args]) => cliAsync(...args)));
    for (const [k, [, message]] of cases.entries()) {
      const r = results[k];
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(existsSync('/nonexistent/ckpt')).toBe(false);
  });
});
