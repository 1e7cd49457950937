/**
 * Log mel filterbank features, the way the ee-set's README says its features were made (16 filters
 * between 0 and 6000 Hz, 25 ms Hamming window, 10 ms hop), with every choice it leaves open written
 * down here (and in the README's "Audio" section), so that any tool can recompute them:
 *
 * - frames: window W = ⌊windowMs·rate/1000 + ½⌋ samples, hop H = ⌊hopMs·rate/1000 + ½⌋ (halves round
 *   up); a clip of N ≥ W samples has 1 + ⌊(N − W) / H⌋ frames, frame t covering samples tH … tH + W − 1 (no
 *   padding at either end, no pre-emphasis, no dither, no DC removal);
 * - window: symmetric Hamming, w[i] = 0.54 − 0.46·cos(2πi / (W − 1));
 * - spectrum: the power |X[k]|² of the windowed frame zero-padded to n = the next power of two ≥ W
 *   (512 at 16 kHz), k = 0 … n/2, bin k at k·rate/n Hz; unnormalised (X[k] = Σ x[i]w[i]e^(−2πiki/n));
 * - mel scale (HTK): mel(f) = 2595·log10(1 + f/700);
 * - filters: F triangles whose F + 2 edges are equally spaced in mel from mel(lowHz) to mel(highHz);
 *   filter m rises linearly in Hz from edge m to 1 at edge m+1 and falls to 0 at edge m+2
 *   (peak 1, not area-normalised);
 * - feature: log10(max(Σ_k filter_m(k)·|X[k]|², floor)), floor 1e-7 by default — about the power a
 *   filter collects from 16-bit quantisation noise, so digital silence reads −7 (the silence level),
 *   not −∞ (19 ee-set files hold −Inf: its tool had no floor). Samples are in [−1, 1].
 *
 * Each frame costs one real FFT of n/2 complex points; the buffers are allocated once per extractor.
 */
import { LockstepError } from '../errors';
import { RealFft } from './fft';

export interface AudioFrontEnd {
  kind: 'log-mel';
  filters: number;
  lowHz: number;
  highHz: number;
  windowMs: number;
  hopMs: number;
  /** The least filter energy before the log; log10(floor) is the silence level. */
  floor: number;
}

export const DEFAULT_FRONT_END: Readonly<AudioFrontEnd> = {
  kind: 'log-mel',
  filters: 16,
  lowHz: 0,
  highHz: 6000,
  windowMs: 25,
  hopMs: 10,
  floor: 1e-7,
};

/** The feature value of digital silence (and what short clips are padded with). */
export function silenceLevel(frontEnd: AudioFrontEnd): number {
  return Math.log10(frontEnd.floor);
}

/** Fills the defaults of a partial front end and checks each setting (errors name the field). */
export function frontEndSettings(partial: Partial<AudioFrontEnd> = {}): AudioFrontEnd {
  // Only the known settings (a file's stray keys must not travel on into checkpoints and exports).
  const pick = <K extends keyof AudioFrontEnd>(key: K) => partial[key] ?? DEFAULT_FRONT_END[key];
  const s: AudioFrontEnd = {
    kind: 'log-mel',
    filters: pick('filters'),
    lowHz: pick('lowHz'),
    highHz: pick('highHz'),
    windowMs: pick('windowMs'),
    hopMs: pick('hopMs'),
    floor: pick('floor'),
  };
  const check = (ok: boolean, field: keyof AudioFrontEnd, expected: string) => {
    if (!ok) throw new LockstepError(`expected ${expected}, found ${String(s[field])}`, { field: `audio.${field}` });
  };
  check(Number.isInteger(s.filters) && s.filters >= 1 && s.filters <= 256, 'filters', 'an integer in 1…256');
  check(Number.isFinite(s.lowHz) && s.lowHz >= 0, 'lowHz', 'a frequency ≥ 0 Hz');
  check(Number.isFinite(s.highHz) && s.highHz > s.lowHz, 'highHz', `a frequency above lowHz (${s.lowHz} Hz)`);
  check(Number.isFinite(s.windowMs) && s.windowMs >= 1 && s.windowMs <= 1000, 'windowMs', 'a window of 1…1000 ms');
  check(Number.isFinite(s.hopMs) && s.hopMs >= 1 && s.hopMs <= 1000, 'hopMs', 'a hop of 1…1000 ms');
  check(Number.isFinite(s.floor) && s.floor > 0, 'floor', 'a floor above 0');
  return s;
}

/** The settings in words ("log mel, 16 filters 0–6000 Hz, 25 ms Hamming window, 10 ms hop, …"). */
export function describeFrontEnd(s: AudioFrontEnd): string {
  const band = `${s.filters} filters ${s.lowHz}–${s.highHz} Hz`;
  return (
    `log mel, ${band}, ${s.windowMs} ms Hamming window, ${s.hopMs} ms hop, ` +
    `log10 with floor ${s.floor}; short clips padded with silence (${silenceLevel(s)})`
  );
}

export function hzToMel(hz: number): number {
  return 2595 * Math.log10(1 + hz / 700);
}

export function melToHz(mel: number): number {
  return 700 * (10 ** (mel / 2595) - 1);
}

export interface Features {
  /** `[frames, filters]`, row-major. */
  data: Float32Array;
  frames: number;
  channels: number;
}

/** A front end built for one sample rate: window, filters, FFT and buffers, reused frame after frame. */
export class LogMelExtractor {
  readonly settings: AudioFrontEnd;
  readonly sampleRate: number;
  readonly windowLength: number;
  readonly hopLength: number;
  private readonly fft: RealFft;
  private readonly window: Float64Array;
  private readonly frame: Float64Array;
  private readonly power: Float64Array;
  /** Filter m covers bins firstBin[m] … firstBin[m] + weights[m].length − 1. */
  private readonly firstBin: Int32Array;
  private readonly weights: Float64Array[];
  private readonly logFloor: number;

  /** `file` names the clip in the error when its rate is too low for the filters. */
  constructor(settings: AudioFrontEnd, sampleRate: number, file?: string) {
    this.settings = settings;
    this.sampleRate = sampleRate;
    if (settings.highHz > sampleRate / 2) {
      throw new LockstepError(
        `expected a sample rate of at least ${2 * settings.highHz} Hz (twice the top filter edge, ` +
          `${settings.highHz} Hz), found ${sampleRate} Hz: resample the audio, or lower the front end's highHz ` +
          `to at most ${Math.floor(sampleRate / 2)}`,
        { file },
      );
    }
    this.windowLength = Math.round((settings.windowMs * sampleRate) / 1000);
    this.hopLength = Math.max(1, Math.round((settings.hopMs * sampleRate) / 1000));
    const n = 2 ** Math.max(2, Math.ceil(Math.log2(this.windowLength)));
    this.fft = new RealFft(n);
    this.window = new Float64Array(this.windowLength);
    const W = this.windowLength;
    for (let i = 0; i < W; i++) this.window[i] = W === 1 ? 1 : 0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (W - 1));
    this.frame = new Float64Array(n);
    this.power = new Float64Array(n / 2 + 1);
    const F = settings.filters;
    const lowMel = hzToMel(settings.lowHz);
    const step = (hzToMel(settings.highHz) - lowMel) / (F + 1);
    const edges = Array.from({ length: F + 2 }, (_, i) => melToHz(lowMel + i * step));
    this.firstBin = new Int32Array(F);
    this.weights = [];
    for (let m = 0; m < F; m++) {
      const [left, centre, right] = [edges[m], edges[m + 1], edges[m + 2]];
      const w: number[] = [];
      let first = -1;
      for (let k = 0; k <= n / 2; k++) {
        const f = (k * sampleRate) / n;
        const v = Math.max(0, Math.min((f - left) / (centre - left), (right - f) / (right - centre)));
        if (v > 0) {
          if (first < 0) first = k;
          w[k - first] = v;
        } else if (first >= 0) break;
      }
      this.firstBin[m] = Math.max(first, 0);
      this.weights.push(Float64Array.from(w, (x) => x ?? 0));
    }
    this.logFloor = settings.floor;
  }

  /** Frames a clip of `samples` samples yields (0 when shorter than one window). */
  frameCount(samples: number): number {
    return samples < this.windowLength ? 0 : 1 + Math.floor((samples - this.windowLength) / this.hopLength);
  }

  /** The features of mono samples in [−1, 1]; `out` (frames × filters) may be given to reuse it. */
  features(samples: Float32Array, out?: Float32Array): Features {
    const frames = this.frameCount(samples.length);
    const F = this.settings.filters;
    const data = out ?? new Float32Array(frames * F);
    const { frame, window, power, windowLength: W, weights, firstBin, logFloor, hopLength } = this;
    for (let t = 0; t < frames; t++) {
      const start = t * hopLength;
      for (let i = 0; i < W; i++) frame[i] = samples[start + i] * window[i];
      this.fft.powerSpectrum(frame, power);
      for (let m = 0; m < F; m++) {
        const w = weights[m];
        const k0 = firstBin[m];
        let e = 0;
        for (let j = 0; j < w.length; j++) e += w[j] * power[k0 + j];
        data[t * F + m] = Math.log10(e > logFloor ? e : logFloor);
      }
    }
    return { data, frames, channels: F };
  }
}

const extractors = new Map<string, LogMelExtractor>();

/** The (cached) extractor for these settings at this rate. */
export function extractorFor(settings: AudioFrontEnd, sampleRate: number, file?: string): LogMelExtractor {
  const key = `${JSON.stringify(settings)}@${sampleRate}`;
  let e = extractors.get(key);
  if (!e) {
    e = new LogMelExtractor(settings, sampleRate, file);
    extractors.set(key, e);
  }
  return e;
}
