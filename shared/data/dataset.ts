/**
 * The in-memory dataset every engine trains on: examples stored channels-last,
 * `[n, frames, channels]`, row-major in one Float32Array per split.
 */
import type { AudioFrontEnd } from '../audio/logmel';

export const EE_SET_CLASSES = ['B', 'C', 'D', 'E', 'G', 'P', 'T', 'V', 'Z'] as const;

export const SPLIT_NAMES = ['train', 'dev', 'eval'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

export interface Split {
  /** `[n, frames, channels]`, row-major. */
  x: Float32Array;
  /** Class index per example, in `0 … classes.length-1`. */
  y: Int32Array;
  n: number;
  frames: number;
  channels: number;
  /** Where each example came from (a file path relative to the dataset root, or an index). */
  ids: string[];
}

export interface DropCounts {
  nonFinite: number;
  short: number;
  missing: number;
  malformed: number;
}

/** One example that was listed but not kept, and why. */
export interface DroppedExample {
  file: string;
  line?: number;
  reason: keyof DropCounts;
  message: string;
}

export interface SplitReport {
  /** The course layout's labels file listing the split (relative to the dataset root). */
  labelsFile?: string;
  listed: number;
  kept: number;
  dropped: DropCounts;
  droppedExamples: DroppedExample[];
  classCounts: number[];
}

export interface Dataset {
  name: string;
  classes: string[];
  splits: Partial<Record<SplitName, Split>>;
  reports: Partial<Record<SplitName, SplitReport>>;
  /** The front end that turned the dataset's audio into features; absent for feature files. */
  audio?: AudioFrontEnd;
}

/** Per-channel standardisation `(x - mean) / std`, fitted on the training split only. */
export interface Standardization {
  mean: number[];
  std: number[];
}

export function emptyDropCounts(): DropCounts {
  return { nonFinite: 0, short: 0, missing: 0, malformed: 0 };
}

export function classCounts(y: Int32Array, nClasses: number): number[] {
  const counts = new Array<number>(nClasses).fill(0);
  for (let i = 0; i < y.length; i++) counts[y[i]]++;
  return counts;
}
