import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FRONT_END } from '../../shared/audio/logmel';
import { toneClip, writeTree } from '../data/audio-test-fixtures';
import { NpzFile, npyStrings } from '../data/npz';
import { openDataset } from '../services/datasets';
import { tempDirsRemovedAfterAll } from '../services/test-helpers';
import { cli } from './run-cli';

const tmp = tempDirsRemovedAfterAll('lockstep-audio-cli-');

/** Three classes of tones, 4 speakers each, in class folders (the split is drawn by speaker). */
function toneDataset(): string {
  const root = join(tmp(), 'tones');
  const files: Record<string, Uint8Array | string> = { 'B/s1_broken.wav': 'not audio' };
  for (const [k, c] of ['B', 'D', 'E'].entries()) {
    for (const spk of ['s1', 's2', 's3', 's4', 's5']) {
      for (const len of [0.4, 0.8, 1]) files[`${c}/${spk}_${c}_${len}.wav`] = toneClip(k * 2, len);
    }
  }
  writeTree(root, files);
  return root;
}

describe('the CLI on an audio dataset', () => {
  const root = toneDataset();

  it('inspect reports the front end, the clips kept and the bad one dropped with its reason', () => {
    const r = cli('inspect', '--data', root, '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.audio).toEqual(DEFAULT_FRONT_END);
    const { train, dev } = r.json.splits;
    expect(train.listed + dev.listed).toBe(46);
    expect(train.kept + dev.kept).toBe(45);
    const drops = [...train.droppedExamples, ...dev.droppedExamples];
    expect(drops).toEqual([
      {
        file: 'B/s1_broken.wav',
        reason: 'malformed',
        message: "expected a WAV file (RIFF/WAVE), found text starting 'not audio'",
      },
    ]);
    expect(cli('inspect', '--data', root).stdout).toMatch(
      /audio: log mel, 16 filters 0–6000 Hz, 25 ms Hamming window, 10 ms hop/,
    );
  });

  it('--dev-fraction and --split-seed set the seeded split, checked', () => {
    const all = cli('inspect', '--data', root, '--dev-fraction', '0', '--json');
    expect(all.status, all.stderr).toBe(0);
    expect(all.json.splits.train.listed).toBe(46);
    expect(all.json.splits.dev).toBeUndefined();
    const seeds = [1, 2, 3, 4].map((seed) => cli('inspect', '--data', root, '--split-seed', String(seed), '--json'));
    expect(new Set(seeds.map((r) => JSON.stringify(r.json.splits.dev))).size).toBeGreaterThan(1);
    const bad = cli('inspect', '--data', root, '--dev-fraction', '1.5');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/field devFraction: expected a dev fraction in \[0, 1\), found 1\.5/);
  });

  it('trains, records the front end in the checkpoint and exports, evaluates and predicts through it', async () => {
    const out = join(tmp(), 'run');
    const t = cli(
      'train',
      '--data',
      root,
      '--model',
      'tdnn',
      '--epochs',
      '40',
      '--optimizer',
      'adam',
      '--lr',
      '0.01',
      '--batch',
      '8',
      '--out',
      out,
      '--json',
    );
    expect(t.status, t.stderr).toBe(0);
    expect(JSON.parse(fs.readFileSync(join(out, 'checkpoint.json'), 'utf8')).audio).toEqual(DEFAULT_FRONT_END);
    const e = cli('eval', '--checkpoint', out, '--data', root, '--split', 'dev', '--json');
    expect(e.status, e.stderr).toBe(0);
    expect(e.json.n).toBe(t.json.dev.n);
    expect(e.json.accuracy).toBeCloseTo(t.json.dev.accuracy, 10);
    expect(e.json.accuracy).toBe(1);

    const p = cli(
      'predict',
      '--checkpoint',
      out,
      '--audio',
      join(root, 'D/s1_D_1.wav'),
      join(root, 'E/s2_E_0.4.wav'),
      join(root, 'B/s1_broken.wav'),
      '--json',
    );
    expect(p.status).toBe(1);
    expect(p.stderr).toMatch(/1 of 3 files could not be classified/);
    expect(p.json.audio).toEqual(DEFAULT_FRONT_END);
    expect(p.json.rows.map((r: { top?: { class: string }[] }) => r.top?.[0].class)).toEqual(['D', 'E', undefined]);
    expect(p.json.rows[0].top).toHaveLength(3);
    expect(p.json.rows[2].error).toMatch(/s1_broken\.wav: expected a WAV file/);

    const tfjs = join(tmp(), 'tfjs');
    expect(cli('export', '--checkpoint', out, '--format', 'tfjs', '--out', tfjs).status).toBe(0);
    expect(JSON.parse(fs.readFileSync(join(tfjs, 'metadata.json'), 'utf8')).audio).toEqual(DEFAULT_FRONT_END);
    const fromTfjs = cli('predict', '--checkpoint', tfjs, '--audio', join(root, 'D/s1_D_1.wav'), '--json');
    expect(fromTfjs.json.rows[0].top[0].probability).toBeCloseTo(p.json.rows[0].top[0].probability, 5);
    const npz = join(tmp(), 'model.npz');
    expect(cli('export', '--checkpoint', out, '--format', 'npz', '--out', npz).status).toBe(0);
    const z = NpzFile.open(npz);
    try {
      expect(JSON.parse(npyStrings(await z.read('audio_json'), 'audio_json', npz)[0])).toEqual(DEFAULT_FRONT_END);
    } finally {
      z.close();
    }
  }, 120_000);

  it('features writes the course layout, splits kept, which loads back as the same examples', async () => {
    const out = join(tmp(), 'feats');
    const r = cli('features', '--audio', root, '--out', out, '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.splitBy).toBe('speaker');
    expect(r.json.splits.train.written + r.json.splits.dev.written).toBe(45);
    const fromAudio = await openDataset(root, { frames: 30 });
    const fromFiles = await openDataset(out, { frames: 30 });
    for (const s of ['train', 'dev'] as const) {
      expect(fromFiles.splits[s]!.n).toBe(fromAudio.splits[s]!.n);
      expect(fromFiles.splits[s]!.y).toEqual(fromAudio.splits[s]!.y);
      expect(fromFiles.splits[s]!.x).toEqual(fromAudio.splits[s]!.x);
    }
    const first = fs.readFileSync(join(out, 'train/lab/labels.txt'), 'utf8').split('\n')[0];
    expect(first).toMatch(/^0 train\/fbc\/B\/s\d_B_0\.4_fbc\.txt$/);
    expect(cli('features', '--audio', root, '--out', out).stderr).toMatch(/expected a new or empty folder for --out/);
  });
});
