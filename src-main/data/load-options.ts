import { SPLIT_NAMES, type SplitName } from '../../shared/data/dataset';
import { LockstepError } from '../../shared/errors';

/** The frames protocol every importer applies (course layout, .npz, .csv). */
export interface LoadOptions {
  /** Frames kept per example (the first `frames` rows). Default 70. */
  frames?: number;
  /** Examples shorter than `frames`: drop them, or zero-pad them at the end. Default 'drop'. */
  short?: 'drop' | 'pad';
  /** Splits to load. Default: all present. */
  splits?: SplitName[];
}

/**
 * What one import may hold in memory, per split and per .npz: 128 MiB. A split's float32 values
 * (the protocol's output) are refused beyond it, whatever sizes a file declares (an .npz of 20
 * million empty examples is 20 KB compressed; padded to 70 frames of 16 channels it would be
 * 90 GB), and so are an .npz's arrays by the sizes they declare, before they are inflated. The
 * ee-set's train split is 22 MB at 70 frames; every frame of its train and dev files, 33 MB.
 */
export const MAX_IMPORT_BYTES = 128 * 1024 * 1024;

/** The most float32 values one split may hold (MAX_IMPORT_BYTES of them). */
export const MAX_SPLIT_VALUES = MAX_IMPORT_BYTES / 4;

/** Examples one split of an .npz may list: its labels alone would otherwise take 8 bytes each in memory. */
export const MAX_SPLIT_EXAMPLES = 2 ** 24;

/**
 * Dropped examples a report lists one by one (its counts stay exact): a file listing millions of
 * unusable examples in a few KB must not make millions of records.
 */
export const MAX_DROPS_LISTED = 10_000;

/** Why an example shorter than the protocol's frames is dropped (its file and line are beside it). */
export function shortExampleMessage(rows: number, frames: number): string {
  return `${rows} frames, at least ${frames} needed`;
}

/** The refusal of a split past MAX_SPLIT_VALUES. */
export function splitTooLarge(examples: number, frames: number, channels: number, file?: string): LockstepError {
  return new LockstepError(
    `expected a split of at most ${MAX_SPLIT_VALUES} values (${MAX_IMPORT_BYTES / 1024 ** 2} MiB of float32), ` +
      `found ${examples} examples × ${frames} frames × ${channels} channels (lower frames, or split the dataset)`,
    { file },
  );
}

export interface ProtocolOptions {
  frames: number;
  short: 'drop' | 'pad';
  splits?: SplitName[];
}

/** Checks `frames`, `short` and `splits`, filling the defaults. */
export function protocolOptions(options: LoadOptions): ProtocolOptions {
  const frames = options.frames ?? 70;
  if (!Number.isSafeInteger(frames) || frames < 1) {
    throw new LockstepError(`expected frames to be a positive integer, found ${String(frames)}`, { field: 'frames' });
  }
  const short = options.short ?? 'drop';
  if (short !== 'drop' && short !== 'pad')
    throw new LockstepError(`expected short to be 'drop' or 'pad', found '${String(short)}'`, { field: 'short' });
  for (const s of options.splits ?? []) {
    if (!(SPLIT_NAMES as readonly string[]).includes(s)) {
      throw new LockstepError(`expected a split name among ${SPLIT_NAMES.join(', ')}, found '${String(s)}'`, {
        field: 'splits',
      });
    }
  }
  return { frames, short, splits: options.splits };
}
