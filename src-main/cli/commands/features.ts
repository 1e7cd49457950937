import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { frontEndSettings } from '../../../shared/audio/logmel';
import { SPLIT_NAMES } from '../../../shared/data/dataset';
import { LockstepError } from '../../../shared/errors';
import { listAudioClips } from '../../data/audio-clips';
import { ClipError, clipFeatures } from '../../data/audio-dataset';
import { required } from '../args';
import type { Command } from '../command';
import { ProgressBar } from '../progress';
import { SPLIT_FLAGS, SPLIT_USAGE, splitPolicy } from '../split-flags';

/** A feature row as the course layout's files hold it: values that read back as the same float32. */
const row = (values: Float32Array): string => Array.from(values, (v) => v.toPrecision(9)).join(' ');

export const features: Command = {
  summary:
    'compute the log mel features of an audio dataset and write them in the course layout (labels + one file per clip)',
  usage:
    `features --audio PATH --out DIR ${SPLIT_USAGE}\n` +
    '      (PATH: class folders of .wav, maybe under train/ dev/ eval/)',
  flags: {
    audio: { type: 'string' },
    out: { type: 'string' },
    ...SPLIT_FLAGS,
  },
  async run(flags) {
    const f = flags as Record<string, string | undefined>;
    const source = required('audio', f.audio);
    const out = nodePath.resolve(required('out', f.out));
    if (fs.existsSync(out) && fs.readdirSync(out).length > 0) {
      throw new LockstepError('expected a new or empty folder for --out', { file: f.out });
    }
    const frontEnd = frontEndSettings();
    const { classes, clips, splitBy } = listAudioClips(source, splitPolicy(f));
    const bar = new ProgressBar('features', clips.length);
    let done = 0;
    const splits: Record<string, { written: number; dropped: { file: string; reason: string; message: string }[] }> =
      {};
    for (const split of SPLIT_NAMES) {
      const members = clips.filter((c) => c.split === split);
      if (members.length === 0) continue;
      const labels: string[] = [];
      const report = (splits[split] = {
        written: 0,
        dropped: [] as { file: string; reason: string; message: string }[],
      });
      for (const clip of members) {
        try {
          const feats = await clipFeatures(clip.abs, clip.file, frontEnd);
          const stem = nodePath.parse(clip.file).name;
          const rel = `${split}/fbc/${classes[clip.label]}/${stem}_fbc.txt`;
          const lines: string[] = [];
          for (let t = 0; t < feats.frames; t++) {
            lines.push(row(feats.data.subarray(t * feats.channels, (t + 1) * feats.channels)));
          }
          fs.mkdirSync(nodePath.dirname(nodePath.join(out, rel)), { recursive: true });
          fs.writeFileSync(nodePath.join(out, rel), lines.join('\n') + '\n');
          labels.push(`${clip.label} ${rel}`);
          report.written++;
        } catch (e) {
          if (!(e instanceof ClipError)) throw e;
          report.dropped.push({ file: clip.file, reason: e.reason, message: e.detail });
        }
        bar.update(++done);
      }
      fs.mkdirSync(nodePath.join(out, split, 'lab'), { recursive: true });
      fs.writeFileSync(nodePath.join(out, split, 'lab', 'labels.txt'), labels.join('\n') + (labels.length ? '\n' : ''));
    }
    bar.done();
    fs.writeFileSync(
      nodePath.join(out, 'audio.json'),
      JSON.stringify({ classes, audio: frontEnd, splitBy }, null, 1) + '\n',
    );
    const lines = Object.entries(splits).map(
      ([s, r]) =>
        `${s.padEnd(5)} ${r.written} written, ${r.dropped.length} dropped` +
        r.dropped
          .slice(0, 5)
          .map((d) => `\n      - ${d.file}: ${d.message}`)
          .join(''),
    );
    return {
      json: { out, classes, audio: frontEnd, splitBy, splits },
      text: [`features of ${clips.length} clips (${classes.join(' ')}; splits by ${splitBy}) in ${out}`, ...lines].join(
        '\n',
      ),
    };
  },
};
