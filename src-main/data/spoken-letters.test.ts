import * as fs from 'node:fs';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../cli/run-cli';
import { tempDirsRemovedAfterAll } from '../services/test-helpers';
import { listAudioClips } from './audio-clips';
import { buildSpokenLetters, hasEspeak } from './spoken-letters';

const tmp = tempDirsRemovedAfterAll('lockstep-letters-');
const espeak = hasEspeak();
if (!espeak) console.log('skipped: espeak-ng not installed (the spoken-letter tests; apt-get install espeak-ng)');

describe.skipIf(!espeak)('a TDNN learns spoken letters from espeak-ng voices it never trained on', () => {
  let root = '';
  beforeAll(async () => {
    root = join(tmp(), 'letters');
    const variants = ['m1', 'm2', 'm3', 'm7', 'f1', 'f2', 'f4', 'klatt'];
    const prosodies = [
      { pitch: 40, speed: 160 },
      { pitch: 60, speed: 190 },
    ];
    expect(await buildSpokenLetters(root, { accents: ['en-us', 'en-gb', 'en-029'], variants, prosodies })).toBe(432);
  }, 120_000);

  it('splits by voice, trains tdnn and classifies the held-out voices', () => {
    const { clips, splitBy } = listAudioClips(root);
    const voices = (split: string) =>
      new Set(clips.filter((c) => c.split === split).map((c) => basename(c.file).split('_')[0]));
    expect(splitBy).toBe('speaker');
    expect([...voices('dev')].filter((v) => voices('train').has(v))).toEqual([]);
    const out = join(tmp(), 'tdnn');
    const r = cli('train', '--data', root, '--model', 'tdnn', '--epochs', '120', '--out', out, '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(fs.readFileSync(join(out, 'checkpoint.json'), 'utf8')).audio.filters).toBe(16);
    expect(r.json.train.n + r.json.dev.n).toBe(432);
    const heldOut = `${r.json.dev.n} clips of ${voices('dev').size} held-out voices`;
    console.log(`tdnn on espeak-ng letters: ${(100 * r.json.dev.accuracy).toFixed(1)} % on ${heldOut}`);
    expect(r.json.dev.accuracy).toBeGreaterThanOrEqual(0.9);
  }, 300_000);
});
