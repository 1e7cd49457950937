import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { resolveSpec, type NetworkSpec } from '../../shared/engine/spec';
import { PRESETS } from '../../shared/presets';
import { NpzFile, npyFloat32, npyFloats, npyStrings } from '../data/npz';
import { exportNpz } from './npz-export';
import { NETWORKS, randomInput, randomModel, saveCheckpoint, scratch, tempFolders } from './test-fixtures';

const here = path.dirname(fileURLToPath(import.meta.url));
const tmp = tempFolders('npz-export-test-');

describe('npz export', () => {
  it('arrays by layer in the Lockstep layout, classes, standardisation and the spec', async () => {
    const m = randomModel(PRESETS.get('tdnn')!.spec as NetworkSpec, 4);
    const out = path.join(tmp(), 'deep', 'model.npz');
    const files = await exportNpz(saveCheckpoint(m, path.join(tmp(), 'ckpt')), out);
    expect(files).toEqual([out]);
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
      const k = await z.read('conv1d_1.kernel');
      expect(k.shape).toEqual([3, 16, 8]);
      expect(k.descr).toBe('<f4');
      expect(npyFloats(k, 'k', out)).toEqual(m.weights.get('conv1d_1/kernel'));
      // TimeSum has no weights and stays a sum: the Dense kernel is exported unscaled
      expect(npyFloats(await z.read('dense_1.kernel'), 'd', out)).toEqual(m.weights.get('dense_1/kernel'));
      expect(npyStrings(await z.read('classes'), 'classes', out)).toEqual(m.classes);
      expect(Array.from(npyFloats(await z.read('standardize_mean'), 'm', out))).toEqual(
        m.standardize.mean.map(Math.fround),
      );
      const spec = JSON.parse(npyStrings(await z.read('spec_json'), 'spec_json', out)[0]);
      expect(resolveSpec(spec).layers.map((l) => l.config)).toEqual(resolveSpec(m.spec).layers.map((l) => l.config));
      expect(spec.layers.map((l: { name: string }) => l.name)).toEqual([
        'conv1d_1',
        'conv1d_2',
        'time_sum_1',
        'dense_1',
      ]);
      // Trained on feature files: no audio front end.
      expect(JSON.parse(npyStrings(await z.read('audio_json'), 'audio_json', out)[0])).toBeNull();
    } finally {
      z.close();
    }
    expect(fs.readdirSync(path.dirname(out))).toEqual(['model.npz']); // no temp file left
  });
});

const python = '/usr/bin/python3';
const hasTorch =
  fs.existsSync(python) &&
  spawnSync(python, ['-c', 'import torch, numpy'], { encoding: 'utf8', timeout: 120_000 }).status === 0;
if (!hasTorch) console.log('skipped: PyTorch not installed');

describe.skipIf(!hasTorch)('npz export rebuilt in PyTorch (src-main/export/torch-check.py)', () => {
  it('torch.nn reproduces the scratch engine within 1e-5 for every network', async () => {
    const dir = tmp();
    const args: string[] = [];
    for (const [i, [, s]] of NETWORKS.entries()) {
      const m = randomModel(s, 20 + i);
      const [T, C] = s.input;
      const n = 5;
      const raw = randomInput(n, T, C, 40 + i);
      // Lockstep's prediction for the raw inputs: standardised, then the network.
      const xs = Float32Array.from(raw, (v, j) => (v - m.standardize.mean[j % C]) / m.standardize.std[j % C]);
      const probs = scratch(m.net, xs, n);
      const files = [path.join(dir, `model${i}.npz`), path.join(dir, `x${i}.npy`), path.join(dir, `p${i}.npy`)];
      await exportNpz(saveCheckpoint(m, path.join(dir, `ckpt${i}`)), files[0]);
      fs.writeFileSync(files[1], npyFloat32([n, T, C], raw));
      fs.writeFileSync(files[2], npyFloat32([n, m.classes.length], probs));
      args.push(...files);
    }
    const r = spawnSync(python, [path.join(here, 'torch-check.py'), ...args], { encoding: 'utf8', timeout: 300_000 });
    const lines = r.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(lines).toHaveLength(NETWORKS.length);
    for (const l of lines) {
      expect(l.ok).toBe(true);
      expect(l.maxAbsDiff).toBeLessThanOrEqual(1e-5);
    }
  });
});
