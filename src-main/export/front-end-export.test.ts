import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Split } from '../../shared/data/dataset';
import { Network } from '../../shared/engine/network';
import { cli, REPO_ROOT, tempDirs } from '../cli/run-cli';
import { NpzFile, npyFloat32, npyFloats } from '../data/npz';
import { readCheckpoint } from '../store/checkpoint-dir';
import { openDataset } from '../services/datasets';
import { openModel } from './import-model';
import { loadTfjsFolder } from './test-fixtures';

/**
 * A model trained with each front end, exported, and used by clients that know only the export:
 * stock tfjs reading metadata.json's frontEnd (its own tf ops, float32), NumPy reading the
 * .npz's front_end_json, and Lockstep's own `eval` of the tfjs folder. Each must reproduce the
 * accuracy of `eval` on the checkpoint within 0.15 points.
 */
const tmp = tempDirs('lockstep-front-end-export-');
afterAll(tmp.removeAll);

const TOLERANCE = 0.0015;

interface TfjsMeta {
  frontEnd: {
    normalize: string;
    pcen?: { smoothing: number; alpha: number; delta: number; root: number; epsilon: number };
  };
  frontEndFormula: string;
  standardize: { mean: number[]; std: number[] } | null;
}

/** The front end and standardisation as a tfjs user writes them from metadata.json alone. */
function tfjsInputs(x: tf.Tensor3D, meta: TfjsMeta): tf.Tensor3D {
  return tf.tidy(() => {
    let out: tf.Tensor3D = x;
    const f = meta.frontEnd;
    if (f.normalize === 'utteranceMean') out = x.sub(x.mean(1, true));
    if (f.normalize === 'pcen') {
      const p = f.pcen!;
      const energies = tf.unstack(x.exp(), 1);
      let m = energies[0];
      const smoothed = energies.map((e, t) => (m = t === 0 ? e : m.mul(1 - p.smoothing).add(e.mul(p.smoothing))));
      const M = tf.stack(smoothed, 1);
      out = x
        .exp()
        .div(M.add(p.epsilon).pow(p.alpha))
        .add(p.delta)
        .pow(p.root)
        .sub(Math.pow(p.delta, p.root)) as tf.Tensor3D;
    }
    if (meta.standardize) out = out.sub(tf.tensor1d(meta.standardize.mean)).div(tf.tensor1d(meta.standardize.std));
    return out;
  });
}

function accuracy(probs: ArrayLike<number>, y: Int32Array, classes: number): number {
  let right = 0;
  for (let i = 0; i < y.length; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (probs[i * classes + k] > probs[i * classes + best]) best = k;
    if (best === y[i]) right++;
  }
  return right / y.length;
}

// A NumPy user's client: the front end from front_end_json (written from its formula), then the standardisation.
const NUMPY_CLIENT = `
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[4])
from front_end_reference import apply_front_end
z = np.load(sys.argv[1], allow_pickle=False)
x = apply_front_end(np.load(sys.argv[2]), json.loads(str(z['front_end_json'])))
x = (x - z['standardize_mean']) / z['standardize_std']
np.savez(sys.argv[3], inputs=x.astype(np.float32))
`;
const python = '/usr/bin/python3';
const hasNumpy = existsSync(python) && spawnSync(python, ['-c', 'import numpy'], { timeout: 60_000 }).status === 0;
if (!hasNumpy) console.log('skipped: the NumPy client of the .npz front end (no numpy for /usr/bin/python3)');

describe.each(['pcen', 'utterance-mean'])('front end %s: trained, exported, reproduced', (frontEnd) => {
  let ckpt = '';
  let evalDev: { n: number; accuracy: number; loss: number } = { n: 0, accuracy: NaN, loss: NaN };
  let dev: Split;
  beforeAll(async () => {
    ckpt = join(tmp(), 'ckpt');
    const r = cli(
      'train',
      '--model',
      'tdnn',
      '--epochs',
      '2',
      '--seed',
      '3',
      '--front-end',
      frontEnd,
      '--out',
      ckpt,
      '--json',
    );
    expect(r.status, r.stderr).toBe(0);
    const e = cli('eval', '--checkpoint', ckpt, '--split', 'dev', '--json');
    expect(e.status, e.stderr).toBe(0);
    evalDev = e.json;
    // eval sees the same dev inputs as training did: its accuracy is the one train reported
    expect(evalDev.accuracy).toBeCloseTo(r.json.dev.accuracy, 10);
    dev = (await openDataset(undefined, { frames: 70 })).splits.dev!;
  });

  it('the checkpoint records it; eval of the tfjs export and a stock tfjs client reading metadata.json reproduce the accuracy', async () => {
    const manifest = readCheckpoint(ckpt).manifest;
    expect(manifest.frontEnd!.normalize).toBe(frontEnd === 'pcen' ? 'pcen' : 'utteranceMean');
    const out = join(tmp(), 'tfjs');
    const x = cli('export', '--checkpoint', ckpt, '--format', 'tfjs', '--out', out, '--json');
    expect(x.status, x.stderr).toBe(0);
    const meta = JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8')) as TfjsMeta;
    expect(meta.frontEnd).toEqual(manifest.frontEnd);
    expect(meta.frontEndFormula).toMatch(frontEnd === 'pcen' ? /alpha = 0\.98/ : /mean over its frames/);
    expect(openModel(out).frontEnd).toEqual(manifest.frontEnd);

    const e = cli('eval', '--checkpoint', out, '--split', 'dev', '--json');
    expect(e.status, e.stderr).toBe(0);
    expect(Math.abs(e.json.accuracy - evalDev.accuracy)).toBeLessThanOrEqual(TOLERANCE);

    const model = await loadTfjsFolder(out);
    const inputs = tfjsInputs(tf.tensor3d(dev.x, [dev.n, dev.frames, dev.channels]), meta);
    const probs = model.predict(inputs) as tf.Tensor;
    const acc = accuracy(await probs.data(), dev.y, 9);
    tf.dispose([inputs, probs]);
    model.dispose();
    expect(Math.abs(acc - evalDev.accuracy)).toBeLessThanOrEqual(TOLERANCE);
  });

  it.skipIf(!hasNumpy)(
    'a NumPy client applying the .npz front_end_json and standardisation reproduces the accuracy',
    async () => {
      const dir = tmp();
      const npz = join(dir, 'model.npz');
      expect(cli('export', '--checkpoint', ckpt, '--format', 'npz', '--out', npz).status).toBe(0);
      writeFileSync(join(dir, 'x.npy'), npyFloat32([dev.n, dev.frames, dev.channels], dev.x));
      const r = spawnSync(
        python,
        ['-c', NUMPY_CLIENT, npz, join(dir, 'x.npy'), join(dir, 'inputs.npz'), join(REPO_ROOT, 'shared/data')],
        { encoding: 'utf8', timeout: 60_000 },
      );
      expect(r.status, r.stderr).toBe(0);
      const z = NpzFile.open(join(dir, 'inputs.npz'));
      const inputs = npyFloats(await z.read('inputs'), 'inputs', 'inputs.npz');
      z.close();
      const opened = openModel(ckpt);
      const net = new Network(opened.spec, { maxBatch: dev.n });
      net.setWeights(opened.weights);
      const acc = accuracy(net.predict(Float32Array.from(inputs), dev.n), dev.y, 9);
      expect(Math.abs(acc - evalDev.accuracy)).toBeLessThanOrEqual(TOLERANCE);
    },
  );
});
