/**
 * A synthetic spoken-letter set: Debian's espeak-ng saying the ee-set's nine letters in many
 * voices (an accent and a voice variant), pitches and speeds, written as an audio dataset,
 * `<dir>/<letter>/<voice>_<letter>_p<pitch>_s<speed>.wav`. The voice is the speaker (the file
 * name's start up to its first '_'), so the seeded split holds out whole voices.
 * Generated for the tests and measurements, never committed.
 */
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { promisify } from 'node:util';
import { EE_SET_CLASSES } from '../../shared/data/dataset';

export const ESPEAK = 'espeak-ng';

export const ACCENTS = ['en-us', 'en-gb', 'en-gb-scotland', 'en-gb-x-rp', 'en-gb-x-gbclan', 'en-gb-x-gbcwmd', 'en-029'];
export const VARIANTS = [
  'm1',
  'm2',
  'm3',
  'm4',
  'm5',
  'm6',
  'm7',
  'm8',
  'f1',
  'f2',
  'f3',
  'f4',
  'f5',
  'klatt',
  'klatt2',
  'klatt3',
];
export const PROSODIES = [
  { pitch: 35, speed: 150 },
  { pitch: 50, speed: 175 },
  { pitch: 65, speed: 200 },
];

/** What espeak-ng is given for each letter: the letter itself, but Z as "zee" (British voices say "zed"). */
const SPOKEN: Record<string, string> = { Z: 'zee' };

export function hasEspeak(): boolean {
  return spawnSync(ESPEAK, ['--version']).status === 0;
}

export interface SpokenLettersOptions {
  accents?: string[];
  variants?: string[];
  prosodies?: { pitch: number; speed: number }[];
  /** espeak-ng processes at once. Default 2. */
  parallel?: number;
}

/** Writes the set into `dir`; returns the number of clips. */
export async function buildSpokenLetters(dir: string, options: SpokenLettersOptions = {}): Promise<number> {
  const run = promisify(execFile);
  const jobs: string[][] = [];
  for (const accent of options.accents ?? ACCENTS) {
    for (const variant of options.variants ?? VARIANTS) {
      for (const { pitch, speed } of options.prosodies ?? PROSODIES) {
        for (const letter of EE_SET_CLASSES) {
          const file = nodePath.join(dir, letter, `${accent}-${variant}_${letter}_p${pitch}_s${speed}.wav`);
          jobs.push([
            '-v',
            `${accent}+${variant}`,
            '-p',
            String(pitch),
            '-s',
            String(speed),
            '-w',
            file,
            SPOKEN[letter] ?? letter,
          ]);
        }
      }
    }
  }
  for (const letter of EE_SET_CLASSES) fs.mkdirSync(nodePath.join(dir, letter), { recursive: true });
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) await run(ESPEAK, jobs[next++]);
  };
  await Promise.all(Array.from({ length: options.parallel ?? 2 }, worker));
  return jobs.length;
}
