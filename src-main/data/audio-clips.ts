/**
 * The clips of an audio dataset folder and the split each belongs to:
 * - `<root>/<split>/<class>/*.wav` for any of train/, dev/, eval/ (the splits as given); or
 * - `<root>/<class>/*.wav`, split by a seeded draw: by speaker when every file name carries one
 *   (its start up to the first '_', as in the ee-set: `AF1_b_3.wav` is AF1's), whole speakers going
 *   to dev until it holds the dev fraction of the clips; else within each class, that fraction of
 *   its clips (rounded) to dev.
 * Classes are the class folders' names: the ee-set letters in their order when every name is one,
 * else every name, sorted.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { EE_SET_CLASSES, SPLIT_NAMES, type SplitName } from '../../shared/data/dataset';
import { Rng } from '../../shared/engine/rng';
import { LockstepError } from '../../shared/errors';
import { visibleEntries } from './archive';
import { MAX_SPLIT_EXAMPLES } from './load-options';

export interface AudioClip {
  split: SplitName;
  label: number;
  /** Relative to the dataset root, '/'-separated. */
  file: string;
  abs: string;
}

export interface SplitPolicy {
  /** The share of clips (or speakers' clips) drawn into dev when the folder has no split folders. Default 0.2. */
  devFraction?: number;
  /** Default 1. */
  seed?: number;
}

export interface AudioClipList {
  classes: string[];
  clips: AudioClip[];
  /** How the splits were made, for the report. */
  splitBy: 'folders' | 'speaker' | 'clip';
}

/** Audio files a dataset lists: WAVs, and other containers (each dropped with "convert it to WAV"). */
const isAudio = (name: string) => /\.(wav|wave|flac|ogg|oga|opus|mp3|m4a|mp4|aac|aif|aiff)$/i.test(name);
const SPEAKER = /^([^_]+)_/;

function classFolders(dir: string): fs.Dirent[] {
  return visibleEntries(dir).filter(
    (e) => e.isDirectory() && visibleEntries(nodePath.join(dir, e.name)).some((f) => isAudio(f.name)),
  );
}

function hasSplitFolders(dir: string): boolean {
  return SPLIT_NAMES.some((s) => {
    const d = nodePath.join(dir, s);
    return (
      fs.existsSync(d) &&
      fs.statSync(d).isDirectory() &&
      !fs.existsSync(nodePath.join(d, 'lab')) &&
      classFolders(d).length > 0
    );
  });
}

/** Whether a folder is an audio dataset: class folders of .wav files, directly or inside split folders. */
export function isAudioDatasetFolder(dir: string): boolean {
  try {
    return (
      hasSplitFolders(dir) ||
      (!SPLIT_NAMES.some((s) => fs.existsSync(nodePath.join(dir, s))) && classFolders(dir).length > 0)
    );
  } catch {
    return false;
  }
}

function classesOf(names: Iterable<string>): string[] {
  const raw = [...new Set(names)];
  const ee = EE_SET_CLASSES as readonly string[];
  return raw.every((n) => ee.includes(n)) ? [...ee] : raw.sort();
}

/** Every clip under the root with its class and split. */
export function listAudioClips(root: string, policy: SplitPolicy = {}): AudioClipList {
  const devFraction = policy.devFraction ?? 0.2;
  if (!(devFraction >= 0 && devFraction < 1)) {
    throw new LockstepError(`expected a dev fraction in [0, 1), found ${devFraction}`, { field: 'devFraction' });
  }
  const found: { split?: SplitName; className: string; file: string }[] = [];
  const collect = (dir: string, prefix: string, split?: SplitName) => {
    for (const c of classFolders(dir)) {
      const files = visibleEntries(nodePath.join(dir, c.name)).filter((e) => e.isFile() && isAudio(e.name));
      for (const f of files.map((e) => e.name).sort()) {
        found.push({ split, className: c.name, file: `${prefix}${c.name}/${f}` });
      }
    }
  };
  const presplit = hasSplitFolders(root);
  if (presplit) {
    for (const s of SPLIT_NAMES) if (fs.existsSync(nodePath.join(root, s))) collect(nodePath.join(root, s), `${s}/`, s);
  } else {
    collect(root, '');
  }
  if (found.length === 0) {
    throw new LockstepError('expected class folders of .wav files (B/x.wav, …), found none', { file: root });
  }
  if (found.length > MAX_SPLIT_EXAMPLES) {
    throw new LockstepError(`expected at most ${MAX_SPLIT_EXAMPLES} clips, found ${found.length}`, { file: root });
  }
  const classes = classesOf(found.map((f) => f.className));
  const clips: AudioClip[] = found.map((f) => ({
    split: f.split ?? 'train',
    label: classes.indexOf(f.className),
    file: f.file,
    abs: nodePath.join(root, ...f.file.split('/')),
  }));
  if (presplit) return { classes, clips, splitBy: 'folders' };
  const rng = Rng.derive(policy.seed ?? 1, 'audio-split');
  const speakers = clips.map((c) => SPEAKER.exec(nodePath.basename(c.file))?.[1]);
  const distinct = [...new Set(speakers)].filter((s): s is string => s !== undefined).sort();
  if (speakers.every((s) => s !== undefined) && distinct.length >= 2) {
    const order = distinct.map((_, i) => i);
    rng.shuffle(order);
    const perSpeaker = new Map<string, number>();
    for (const s of speakers) perSpeaker.set(s!, (perSpeaker.get(s!) ?? 0) + 1);
    const dev = new Set<string>();
    let inDev = 0;
    for (const i of order) {
      if (inDev >= devFraction * clips.length || dev.size === distinct.length - 1) break;
      dev.add(distinct[i]);
      inDev += perSpeaker.get(distinct[i])!;
    }
    clips.forEach((c, i) => (c.split = dev.has(speakers[i]!) ? 'dev' : 'train'));
    return { classes, clips, splitBy: 'speaker' };
  }
  for (let k = 0; k < classes.length; k++) {
    const members = clips.filter((c) => c.label === k);
    const order = members.map((_, i) => i);
    rng.shuffle(order);
    order.slice(0, Math.round(devFraction * members.length)).forEach((i) => (members[i].split = 'dev'));
  }
  return { classes, clips, splitBy: 'clip' };
}
