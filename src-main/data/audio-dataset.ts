/**
 * Audio datasets: a folder of class folders of WAV files (`audio-clips.ts` lists them and their
 * splits), each clip turned into log mel features by the shared front end (`shared/audio`).
 *
 * The frames protocol, for audio: the first `frames` frames are kept; a shorter clip is padded
 * at its end with frames at the front end's silence level (log10 of its floor: what digital
 * silence reads), so 1-second clips (98 frames) and shorter ones still train a 70-frame network.
 * A clip is dropped, with its file and why, when it is unreadable or not a supported WAV
 * (malformed), holds NaN or ±Inf (nonFinite), is shorter than one analysis window (short),
 * is entirely silent (malformed: nothing to learn from) or vanished (missing). The import goes on.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import {
  extractorFor,
  frontEndSettings,
  silenceLevel,
  type AudioFrontEnd,
  type Features,
} from '../../shared/audio/logmel';
import { decodeWav } from '../../shared/audio/wav';
import {
  classCounts,
  emptyDropCounts,
  SPLIT_NAMES,
  type Dataset,
  type DroppedExample,
  type SplitName,
} from '../../shared/data/dataset';
import { isLockstepError, LockstepError } from '../../shared/errors';
import { listAudioClips, type AudioClip, type SplitPolicy } from './audio-clips';
import { MAX_DROPS_LISTED, MAX_SPLIT_VALUES, protocolOptions, splitTooLarge } from './load-options';

export interface AudioLoadOptions extends SplitPolicy {
  frames?: number;
  splits?: SplitName[];
  /** Front-end settings (defaults: DEFAULT_FRONT_END). */
  audio?: Partial<AudioFrontEnd>;
}

/** Why a clip cannot be used: a LockstepError naming its file, its drop category and the bare `detail`. */
export class ClipError extends LockstepError {
  constructor(
    readonly detail: string,
    readonly reason: DroppedExample['reason'],
    file: string,
  ) {
    super(detail, { file });
  }
}

/** One clip's features, every frame (throws a ClipError naming the file). */
export async function clipFeatures(abs: string, file: string, frontEnd: AudioFrontEnd): Promise<Features> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.promises.readFile(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ClipError(`could not be read (${code ?? String(e)})`, code === 'ENOENT' ? 'missing' : 'malformed', file);
  }
  let features: Features;
  try {
    const audio = decodeWav(bytes, file);
    const extractor = extractorFor(frontEnd, audio.sampleRate, file);
    if (extractor.frameCount(audio.samples.length) === 0) {
      const ms = ((1000 * audio.samples.length) / audio.sampleRate).toFixed(1);
      throw new ClipError(
        `expected at least one ${frontEnd.windowMs} ms window of audio, found ${ms} ms`,
        'short',
        file,
      );
    }
    if (audio.samples.every((v) => v === 0)) {
      throw new ClipError('expected sound, found a silent clip (every sample 0)', 'malformed', file);
    }
    features = extractor.features(audio.samples);
  } catch (e) {
    if (e instanceof ClipError || !isLockstepError(e)) throw e;
    // The decoder's message less the file name it starts with (a ClipError names the file itself).
    const prefix = `${file}: `;
    throw new ClipError(
      e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message,
      /expected finite samples/.test(e.message) ? 'nonFinite' : 'malformed',
      file,
    );
  }
  return features;
}

/**
 * Writes a clip's first `frames` frames into `out` at `offset`, padded at the end with frames at the
 * silence level when it has fewer: what a model of `frames` input frames sees of the clip.
 */
export function placeFrames(f: Features, frames: number, silence: number, out: Float32Array, offset: number): void {
  const values = Math.min(f.frames, frames) * f.channels;
  out.set(f.data.subarray(0, values), offset);
  out.fill(silence, offset + values, offset + frames * f.channels);
}

/** Loads an audio dataset folder through the front end and the frames protocol. */
export async function loadAudioDataset(root: string, options: AudioLoadOptions = {}): Promise<Dataset> {
  const { frames, splits: requested } = protocolOptions({ frames: options.frames, splits: options.splits });
  const frontEnd = frontEndSettings(options.audio);
  const { classes, clips } = listAudioClips(root, options);
  const silence = silenceLevel(frontEnd);
  const C = frontEnd.filters;
  const dataset: Dataset = {
    name: nodePath.basename(nodePath.resolve(root)),
    classes,
    splits: {},
    reports: {},
    audio: frontEnd,
  };
  const wanted = SPLIT_NAMES.filter(
    (s) => clips.some((c) => c.split === s) && (requested === undefined || requested.includes(s)),
  );
  for (const split of wanted) {
    const members = clips.filter((c) => c.split === split);
    if (members.length * frames * C > MAX_SPLIT_VALUES) throw splitTooLarge(members.length, frames, C, root);
    const x = new Float32Array(members.length * frames * C);
    const kept: AudioClip[] = [];
    const dropped = emptyDropCounts();
    const droppedExamples: DroppedExample[] = [];
    for (const clip of members) {
      try {
        placeFrames(await clipFeatures(clip.abs, clip.file, frontEnd), frames, silence, x, kept.length * frames * C);
        kept.push(clip);
      } catch (e) {
        if (!(e instanceof ClipError)) throw e;
        dropped[e.reason]++;
        if (droppedExamples.length < MAX_DROPS_LISTED) {
          droppedExamples.push({ file: clip.file, reason: e.reason, message: e.detail });
        }
      }
    }
    const y = Int32Array.from(kept, (c) => c.label);
    dataset.splits[split] = {
      x: x.slice(0, kept.length * frames * C),
      y,
      n: kept.length,
      frames,
      channels: C,
      ids: kept.map((c) => c.file),
    };
    dataset.reports[split] = {
      listed: members.length,
      kept: kept.length,
      dropped,
      droppedExamples,
      classCounts: classCounts(y, classes.length),
    };
  }
  return dataset;
}
