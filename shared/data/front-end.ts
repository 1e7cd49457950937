import { z } from 'zod';
import type { Split } from './dataset';

/**
 * A model's front end: an input normalisation applied to every example before the per-channel
 * standardisation (shared/data/standardize.ts), computed here once so that both engines, `eval`
 * and the exports see exactly the same inputs. Neither transform learns anything.
 *
 * - `pcen`: per-channel energy normalisation of E = exp(x) (the features are log energies):
 *   M[0] = E[0], M[t] = (1 − s)·M[t−1] + s·E[t] (per example and channel, over its kept frames),
 *   x' = (E / (ε + M)^α + δ)^r − δ^r.
 * - `utteranceMean`: x' = x − (the example's mean of that channel over its kept frames).
 */
export const DEFAULT_PCEN = { smoothing: 0.1, alpha: 0.98, delta: 2, root: 0.5, epsilon: 1e-6 } as const;

const finite = z.number().finite();
export const pcenSchema = z.strictObject({
  smoothing: finite.gt(0).max(1).default(DEFAULT_PCEN.smoothing),
  alpha: finite.min(0).max(1).default(DEFAULT_PCEN.alpha),
  delta: finite.min(0).max(1e6).default(DEFAULT_PCEN.delta),
  root: finite.gt(0).max(1).default(DEFAULT_PCEN.root),
  epsilon: finite.gt(0).max(1).default(DEFAULT_PCEN.epsilon),
});
export type PcenParams = z.output<typeof pcenSchema>;

export const FRONT_END_NORMALIZATIONS = ['none', 'pcen', 'utteranceMean'] as const;
export type FrontEndNormalization = (typeof FRONT_END_NORMALIZATIONS)[number];

/** The one schema of the setting; a bare name (`"pcen"`, as in a grid axis) stands for its defaults. */
export const frontEndSchema = z.preprocess(
  (v) => (typeof v === 'string' ? { normalize: v } : v),
  z.discriminatedUnion('normalize', [
    z.strictObject({ normalize: z.literal('none') }),
    z.strictObject({ normalize: z.literal('utteranceMean') }),
    z.strictObject({ normalize: z.literal('pcen'), pcen: pcenSchema.prefault({}) }),
  ]),
);
export type FrontEnd = z.output<typeof frontEndSchema>;

export const NO_FRONT_END: FrontEnd = { normalize: 'none' };

/** A front end checked against the schema, or an error message naming the field and what was expected. */
export function parseFrontEnd(raw: unknown): { ok: true; frontEnd: FrontEnd } | { ok: false; message: string } {
  const parsed = frontEndSchema.safeParse(raw);
  if (parsed.success) return { ok: true, frontEnd: parsed.data };
  const issue = parsed.error.issues[0];
  const field = ['frontEnd', ...issue.path].join('.');
  // Below the top level zod says what the field needs; above it, say what a front end looks like.
  if (issue.path.length > 1) return { ok: false, message: `${field}: ${issue.message}` };
  const names = FRONT_END_NORMALIZATIONS.map((k) => `"${k}"`).join(', ');
  return { ok: false, message: `${field}: expected ${names} or an object like ${EXAMPLE}, got ${JSON.stringify(raw)}` };
}

const EXAMPLE = JSON.stringify({ normalize: 'pcen', pcen: DEFAULT_PCEN });

/** Per-channel energy normalisation of `[n, frames, channels]` log energies, written into `out`. */
export function pcenInto(
  x: Float32Array,
  out: Float32Array,
  n: number,
  frames: number,
  channels: number,
  p: PcenParams,
  smoothed: Float64Array,
): void {
  const { smoothing: s, alpha, delta, root, epsilon } = p;
  const offset = Math.pow(delta, root);
  for (let i = 0; i < n; i++) {
    const base = i * frames * channels;
    for (let t = 0; t < frames; t++) {
      const row = base + t * channels;
      for (let c = 0; c < channels; c++) {
        const e = Math.exp(x[row + c]);
        const m = t === 0 ? e : (1 - s) * smoothed[c] + s * e;
        smoothed[c] = m;
        out[row + c] = Math.pow(e / Math.pow(epsilon + m, alpha) + delta, root) - offset;
      }
    }
  }
}

/** Each example minus its own per-channel mean over its frames, written into `out`. */
export function utteranceMeanInto(
  x: Float32Array,
  out: Float32Array,
  n: number,
  frames: number,
  channels: number,
  sums: Float64Array,
): void {
  for (let i = 0; i < n; i++) {
    const base = i * frames * channels;
    sums.fill(0);
    for (let t = 0; t < frames; t++) for (let c = 0; c < channels; c++) sums[c] += x[base + t * channels + c];
    for (let t = 0; t < frames; t++) {
      for (let c = 0; c < channels; c++) out[base + t * channels + c] = x[base + t * channels + c] - sums[c] / frames;
    }
  }
}

/** A split passed through the front end (a copy; the split itself when there is nothing to do). */
export function applyFrontEnd(split: Split, frontEnd: FrontEnd): Split {
  if (frontEnd.normalize === 'none') return split;
  const { n, frames, channels } = split;
  const x = new Float32Array(split.x.length);
  const perChannel = new Float64Array(channels);
  if (frontEnd.normalize === 'pcen') pcenInto(split.x, x, n, frames, channels, frontEnd.pcen, perChannel);
  else utteranceMeanInto(split.x, x, n, frames, channels, perChannel);
  return { ...split, x };
}

/** The front end in a few words: `PCEN (s 0.1, α 0.98, δ 2, r 0.5, ε 1e-6)`. */
export function frontEndLabel(frontEnd: FrontEnd): string {
  if (frontEnd.normalize === 'none') return 'none';
  if (frontEnd.normalize === 'utteranceMean') return 'per-utterance channel mean subtracted';
  const p = frontEnd.pcen;
  return `PCEN (s ${p.smoothing}, α ${p.alpha}, δ ${p.delta}, r ${p.root}, ε ${p.epsilon})`;
}

/** The front end's formula, spelled out for a reader who must reproduce it (export metadata, report Methods). */
export function frontEndFormula(frontEnd: FrontEnd): string {
  if (frontEnd.normalize === 'none') return 'none: the features are used as they are';
  if (frontEnd.normalize === 'utteranceMean') {
    return 'utteranceMean: for each example and channel c, x[t][c] -= mean over its frames t of x[t][c]';
  }
  const p = frontEnd.pcen;
  return (
    `pcen: for each example and channel, over its frames t = 0…T−1: E[t] = exp(x[t]); M[0] = E[0], ` +
    `M[t] = (1 − s)·M[t−1] + s·E[t]; x'[t] = (E[t] / (epsilon + M[t])^alpha + delta)^r − delta^r, ` +
    `with s = ${p.smoothing}, alpha = ${p.alpha}, delta = ${p.delta}, r = ${p.root}, epsilon = ${p.epsilon} ` +
    '(float64 arithmetic, result float32)'
  );
}
