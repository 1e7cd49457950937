import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_FRONT_END, extractorFor } from '../../shared/audio/logmel';
import { decodeWav, encodeWav } from '../../shared/audio/wav';
import { openDataset } from '../services/datasets';
import { zipBytes } from './archive-fixtures';
import { isAudioDatasetFolder, listAudioClips } from './audio-clips';
import { loadAudioDataset } from './audio-dataset';
import { toneClip, writeTree } from './audio-test-fixtures';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'audio-ds-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('audio datasets', () => {
  it('reads train/dev folders of class folders, pads short clips with silence and keeps the first frames', async () => {
    writeTree(root, {
      'train/B/a.wav': toneClip(0, 1),
      'train/B/b.wav': toneClip(0, 0.3),
      'train/D/a.wav': toneClip(2, 1),
      'dev/B/c.wav': toneClip(0, 0.5),
      'dev/D/c.wav': toneClip(2, 0.5),
    });
    expect(isAudioDatasetFolder(root)).toBe(true);
    const ds = await loadAudioDataset(root);
    expect(ds.classes).toEqual(['B', 'C', 'D', 'E', 'G', 'P', 'T', 'V', 'Z']);
    expect(ds.audio).toEqual(DEFAULT_FRONT_END);
    const train = ds.splits.train!;
    expect([train.n, train.frames, train.channels]).toEqual([3, 70, 16]);
    expect(train.ids).toEqual(['train/B/a.wav', 'train/B/b.wav', 'train/D/a.wav']);
    expect([...train.y]).toEqual([0, 0, 2]);
    expect(ds.reports.dev).toMatchObject({ listed: 2, kept: 2, classCounts: [1, 0, 1, 0, 0, 0, 0, 0, 0] });
    // Clip b (0.3 s: 28 frames) is its own features, then silence (log10 1e-7 = -7) up to 70 frames.
    const own = extractorFor(DEFAULT_FRONT_END, 16000).features(decodeWav(toneClip(0, 0.3), 'b').samples);
    expect(own.frames).toBe(28);
    const b = train.x.subarray(70 * 16, 2 * 70 * 16);
    expect([...b.subarray(0, 28 * 16)]).toEqual([...own.data]);
    expect(b.subarray(28 * 16).every((v) => v === Math.fround(-7))).toBe(true);
    // Clip a (1 s: 98 frames) keeps its first 70.
    const a = extractorFor(DEFAULT_FRONT_END, 16000).features(decodeWav(toneClip(0, 1), 'a').samples);
    expect([...train.x.subarray(0, 70 * 16)]).toEqual([...a.data.subarray(0, 70 * 16)]);
  });

  it('drops each bad clip with its file and reason, and imports the rest', async () => {
    writeTree(root, {
      'B/good1.wav': toneClip(0, 1),
      'B/text.wav': 'this is a text file\n',
      'B/truncated.wav': toneClip(0, 1).subarray(0, 30),
      'D/good2.wav': toneClip(2, 1),
      'D/empty.wav': encodeWav([], 16000),
      'D/nan.wav': encodeWav([0.1, NaN, 0.2, ...new Array(800).fill(0.1)], 16000, { format: 'float', bits: 32 }),
      'D/tiny.wav': toneClip(2, 0.01),
      'D/silent.wav': encodeWav(new Array(16000).fill(0), 16000),
      'D/lowrate.wav': toneClip(2, 1, 8000),
      'D/song.flac': new Uint8Array([...'fLaC'].map((c) => c.charCodeAt(0)).concat([0, 0, 0, 34, 1, 2, 3, 4])),
    });
    const ds = await loadAudioDataset(root, { devFraction: 0 });
    const r = ds.reports.train!;
    expect(r).toMatchObject({ listed: 10, kept: 2, dropped: { malformed: 6, nonFinite: 1, short: 1, missing: 0 } });
    const why = Object.fromEntries(r.droppedExamples.map((d) => [d.file, `${d.reason}: ${d.message}`]));
    expect(why['B/text.wav']).toMatch(
      /^malformed: expected a WAV file \(RIFF\/WAVE\), found text starting 'this is a text f'/,
    );
    expect(why['B/truncated.wav']).toMatch(/^malformed: expected the 'fmt ' chunk at byte 12 to fit in the file/);
    expect(why['D/empty.wav']).toBe('malformed: expected audio samples, found a data chunk of 0 samples');
    expect(why['D/nan.wav']).toMatch(/^nonFinite: expected finite samples, found NaN at sample 1/);
    expect(why['D/tiny.wav']).toBe('short: expected at least one 25 ms window of audio, found 10.0 ms');
    expect(why['D/silent.wav']).toBe('malformed: expected sound, found a silent clip (every sample 0)');
    expect(why['D/lowrate.wav']).toMatch(/^malformed: expected a sample rate of at least 12000 Hz .* found 8000 Hz/);
    expect(why['D/song.flac']).toMatch(/^malformed: expected a WAV file \(RIFF\/WAVE\), found a FLAC file \(convert/);
    expect(ds.splits.train!.ids).toEqual(['B/good1.wav', 'D/good2.wav']);
  });

  it('splits by speaker when file names carry one, seeded, else per class', () => {
    const files: Record<string, Uint8Array> = {};
    const clip = toneClip(0, 0.05);
    for (const spk of ['s1', 's2', 's3', 's4', 's5']) {
      for (const c of ['B', 'D']) for (const i of [1, 2]) files[`${c}/${spk}_${c}${i}.wav`] = clip;
    }
    writeTree(root, files);
    const list = listAudioClips(root, { seed: 3 });
    expect(list.splitBy).toBe('speaker');
    const devSpeakers = new Set(
      list.clips.filter((c) => c.split === 'dev').map((c) => nodePath.basename(c.file).split('_')[0]),
    );
    const trainSpeakers = new Set(
      list.clips.filter((c) => c.split === 'train').map((c) => nodePath.basename(c.file).split('_')[0]),
    );
    expect(devSpeakers.size).toBe(1); // 4 of 20 clips: one speaker is 20 %
    expect([...devSpeakers].some((s) => trainSpeakers.has(s))).toBe(false);
    expect(listAudioClips(root, { seed: 3 }).clips).toEqual(list.clips);

    fs.rmSync(root, { recursive: true });
    writeTree(root, Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`B/clip${i}.wav`, clip])));
    const byClip = listAudioClips(root, { seed: 3 });
    expect(byClip.splitBy).toBe('clip');
    expect(byClip.clips.filter((c) => c.split === 'dev')).toHaveLength(2);
    expect(byClip.classes).toEqual(['B', 'C', 'D', 'E', 'G', 'P', 'T', 'V', 'Z']);
  });

  it('names other classes by their folders, sorted', () => {
    writeTree(root, { 'yes/a.wav': toneClip(0, 0.05), 'no/b.wav': toneClip(1, 0.05) });
    expect(listAudioClips(root).classes).toEqual(['no', 'yes']);
  });

  it('opens a folder or a .zip of one through openDataset', async () => {
    const files = {
      'letters/B/x_1.wav': toneClip(0, 1),
      'letters/B/y_1.wav': toneClip(0, 1),
      'letters/D/x_2.wav': toneClip(2, 1),
      'letters/D/y_2.wav': toneClip(2, 1),
    };
    writeTree(root, files);
    const fromFolder = await openDataset(nodePath.join(root, 'letters'));
    const zip = nodePath.join(root, 'letters.zip');
    fs.writeFileSync(zip, zipBytes(files));
    const fromZip = await openDataset(zip);
    expect(fromZip.name).toBe('letters');
    expect(fromZip.audio).toEqual(DEFAULT_FRONT_END);
    expect(fromZip.splits.train!.ids).toEqual(fromFolder.splits.train!.ids);
    expect(fromZip.splits.dev!.x).toEqual(fromFolder.splits.dev!.x);
    expect(fromFolder.reports.train!.kept + fromFolder.reports.dev!.kept).toBe(4);
  });
});
