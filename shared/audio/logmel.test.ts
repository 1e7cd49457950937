import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RealFft } from './fft';
import { DEFAULT_FRONT_END, frontEndSettings, hzToMel, LogMelExtractor, melToHz, silenceLevel } from './logmel';
import { decodeWav, encodeWav } from './wav';

/** A reproducible speech-like test signal: a gliding harmonic tone plus seeded noise. */
function testSignal(n: number, rate: number, seed = 1): number[] {
  let s = seed;
  const noise = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.05;
  let phase = 0;
  return Array.from({ length: n }, (_, i) => {
    phase += (2 * Math.PI * (120 + (200 * i) / n)) / rate;
    return 0.3 * Math.sin(phase) + 0.2 * Math.sin(3 * phase) + 0.1 * Math.sin(11 * phase) + noise();
  });
}

describe('RealFft', () => {
  it('gives the power spectrum of a naive DFT', () => {
    const n = 64;
    const x = Float64Array.from(testSignal(n, 8000));
    const power = new Float64Array(n / 2 + 1);
    new RealFft(n).powerSpectrum(x, power);
    for (let k = 0; k <= n / 2; k++) {
      let re = 0;
      let im = 0;
      for (let t = 0; t < n; t++) {
        re += x[t] * Math.cos((2 * Math.PI * k * t) / n);
        im -= x[t] * Math.sin((2 * Math.PI * k * t) / n);
      }
      expect(power[k]).toBeCloseTo(re * re + im * im, 10);
    }
  });
});

describe('log mel front end', () => {
  it('defaults to the ee-set recipe and checks every setting', () => {
    const recipe = { kind: 'log-mel', filters: 16, lowHz: 0, highHz: 6000, windowMs: 25, hopMs: 10, floor: 1e-7 };
    expect(frontEndSettings()).toEqual(recipe);
    expect(silenceLevel(DEFAULT_FRONT_END)).toBeCloseTo(-7, 12);
    expect(() => frontEndSettings({ filters: 0 })).toThrow(/audio\.filters: expected an integer in 1…256, found 0/);
    expect(() => frontEndSettings({ highHz: -1 })).toThrow(/audio\.highHz: expected a frequency above lowHz \(0 Hz\)/);
    expect(() => frontEndSettings({ floor: 0 })).toThrow(/field audio\.floor/);
    expect(melToHz(hzToMel(1234))).toBeCloseTo(1234, 9);
  });

  it('frames 1 s at 16 kHz into 98 frames of 16 filters; silence reads the silence level', () => {
    const e = new LogMelExtractor(DEFAULT_FRONT_END, 16000);
    expect([e.windowLength, e.hopLength]).toEqual([400, 160]);
    const f = e.features(new Float32Array(16000));
    expect([f.frames, f.channels]).toEqual([98, 16]);
    expect(f.data.every((v) => v === Math.fround(-7))).toBe(true);
    expect(e.frameCount(399)).toBe(0);
  });

  it('puts a pure tone in the filter around its frequency', () => {
    const e = new LogMelExtractor(DEFAULT_FRONT_END, 16000);
    const tone = Float32Array.from({ length: 4000 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 1000 * i) / 16000));
    const f = e.features(tone);
    const row = [...f.data.subarray(5 * 16, 6 * 16)];
    const peak = row.indexOf(Math.max(...row));
    const edges = Array.from({ length: 18 }, (_, i) => melToHz((i * hzToMel(6000)) / 17));
    expect(edges[peak]).toBeLessThan(1000);
    expect(edges[peak + 2]).toBeGreaterThan(1000);
  });

  it('refuses a rate below twice the top frequency, naming the file', () => {
    expect(() => new LogMelExtractor(DEFAULT_FRONT_END, 11025, 'x/low.wav')).toThrow(
      new RegExp(
        '^x/low\\.wav: expected a sample rate of at least 12000 Hz \\(twice the top filter edge, 6000 Hz\\), ' +
          "found 11025 Hz: resample the audio, or lower the front end's highHz to at most 5512",
      ),
    );
    expect(new LogMelExtractor(frontEndSettings({ highHz: 4000 }), 8000).windowLength).toBe(200);
  });
});

const python = '/usr/bin/python3';
const reference = nodePath.join(nodePath.dirname(fileURLToPath(import.meta.url)), 'logmel_reference.py');
const hasScipy = fs.existsSync(python) && spawnSync(python, ['-c', 'import numpy, scipy.io.wavfile']).status === 0;
if (!hasScipy) console.log('skipped: numpy and scipy not at /usr/bin/python3 (the independent log mel check)');

describe.skipIf(!hasScipy)('agrees with an independent numpy/scipy implementation', () => {
  it.each([
    ['16-bit mono 16 kHz', 16000, { bits: 16 as const }, 1, {}],
    ['24-bit stereo 22.05 kHz', 22050, { bits: 24 as const, channels: 2 }, 2, {}],
    [
      'float32 mono 44.1 kHz, 40 filters 100–8000 Hz, 20 ms hop',
      44100,
      { bits: 32 as const, format: 'float' as const },
      1,
      { filters: 40, lowHz: 100, highHz: 8000, hopMs: 20 },
    ],
    ['8-bit mono 12 kHz', 12000, { bits: 8 as const }, 1, {}],
  ])('%s, within 1e-4', (_, rate, format, channels, settings) => {
    const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'logmel-'));
    try {
      const file = nodePath.join(dir, 'x.wav');
      fs.writeFileSync(file, encodeWav(testSignal(Math.round(0.8 * rate) * channels, rate), rate, format));
      const frontEnd = frontEndSettings(settings);
      const ours = new LogMelExtractor(frontEnd, rate).features(decodeWav(fs.readFileSync(file), file).samples);
      const options = { encoding: 'utf8' as const, maxBuffer: 1 << 26 };
      const run = spawnSync(python, [reference, file, JSON.stringify(frontEnd)], options);
      expect(run.status, run.stderr).toBe(0);
      const theirs = JSON.parse(run.stdout) as number[][];
      expect(theirs.length).toBe(ours.frames);
      let worst = 0;
      for (let t = 0; t < ours.frames; t++) {
        for (let m = 0; m < ours.channels; m++) {
          worst = Math.max(worst, Math.abs(ours.data[t * ours.channels + m] - theirs[t][m]));
        }
      }
      console.log(`log mel vs numpy/scipy (${_}): largest difference ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(1e-4);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
